package io.inferium.chain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.contracts.ReceiptAnchor;
import io.inferium.chain.testing.Anvil;
import io.inferium.infra.testing.Eventually;
import java.math.BigInteger;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.protocol.core.DefaultBlockParameterName;

/** Anchoring against a real Anvil: once per epoch, idempotent after a crash, confirmations awaited. */
class AnchorerIT {

  private Anvil anvil;
  private Credentials gateway;
  private ReceiptAnchor anchor;
  private final ExecutorService chainThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-chain"));

  @BeforeEach
  void start() throws Exception {
    anvil = Anvil.start();
    Credentials admin = anvil.fundedAccount();
    gateway = anvil.fundedAccount();
    anchor = ReceiptAnchor.deploy(anvil.web3j(), anvil.transactions(admin), anvil.gas(), admin.getAddress()).send();
    anchor.grantRole(anchor.ANCHOR_ROLE().send(), gateway.getAddress()).send();
  }

  @AfterEach
  void stop() throws InterruptedException {
    chainThread.shutdownNow();
    chainThread.awaitTermination(10, TimeUnit.SECONDS);
    if (anvil != null) {
      anvil.close();
    }
  }

  @Test
  void commitsOnceAndARetryFindsTheFirstCommitInsteadOfSendingAgain() throws Exception {
    Anchorer anchorer = anchorer(1);
    byte[] root = Hash.sha3("epoch 1".getBytes());
    Anchorer.Anchored first = anchorer.commit(1, root, 40);
    assertFalse(first.alreadyThere());
    assertArrayEquals(root, anchor.anchorOf(BigInteger.ONE).send().root);
    BigInteger nonce = nonce();

    // As after a crash between sending and recording: the same commit again, from a new Anchorer.
    Anchorer.Anchored again = anchorer(1).commit(1, root, 40);
    assertTrue(again.alreadyThere());
    assertEquals(first.transactionHash(), again.transactionHash());
    assertEquals(first.blockNumber(), again.blockNumber());
    assertEquals(nonce, nonce(), "no second transaction was sent");

    Anchorer.ConflictingRoot conflict = assertThrows(Anchorer.ConflictingRoot.class,
        () -> anchorer.commit(1, Hash.sha3("another".getBytes()), 40));
    assertTrue(conflict.getMessage().contains("epoch 1"), conflict.getMessage());
    anchorer.commit(3, Hash.sha3("epoch 3".getBytes()), 1);
    IllegalStateException skipped = assertThrows(IllegalStateException.class,
        () -> anchorer.commit(2, Hash.sha3("late".getBytes()), 1));
    assertTrue(skipped.getMessage().contains("no longer"), skipped.getMessage());

    Credentials stranger = anvil.fundedAccount();
    Anchorer unauthorized = new Anchorer(anvil.web3j(), stranger, anvil.chainId(), anchor.getContractAddress(), 1,
        Duration.ofSeconds(5), 0);
    IllegalStateException noRole = assertThrows(IllegalStateException.class,
        () -> unauthorized.commit(4, Hash.sha3("forged".getBytes()), 1));
    assertTrue(noRole.getMessage().contains("ANCHOR_ROLE"), noRole.getMessage());
    assertEquals(BigInteger.valueOf(3), anchor.latestEpoch().send());
  }

  @Test
  void waitsForConfirmationsAndGivesUpAtItsLimit() throws Exception {
    byte[] root = Hash.sha3("deep".getBytes());
    CompletableFuture<Anchorer.Anchored> deep = CompletableFuture.supplyAsync(() -> {
      try {
        return anchorer(3).commit(1, root, 5);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, chainThread);
    Eventually.until("commit mined", () -> {
      try {
        return anchor.latestEpoch().send().equals(BigInteger.ONE);
      } catch (Exception e) {
        return false;
      }
    });
    assertFalse(deep.isDone(), "one block deep is not three");
    anvil.increaseTime(1);
    anvil.increaseTime(1);
    Anchorer.Anchored anchored = deep.get(20, TimeUnit.SECONDS);
    assertTrue(anvil.web3j().ethBlockNumber().send().getBlockNumber().longValueExact() >= anchored.blockNumber() + 2);

    Anchorer impatient = new Anchorer(anvil.web3j(), gateway, anvil.chainId(), anchor.getContractAddress(), 5,
        Duration.ofMillis(500), 0);
    TimeoutException timeout = assertThrows(TimeoutException.class, () -> impatient.commit(2, root, 5));
    assertTrue(timeout.getMessage().contains("epoch 2"), timeout.getMessage());
    // Mined but unconfirmed: the retry after more blocks finds it, sends nothing.
    for (int i = 0; i < 4; i++) {
      anvil.increaseTime(1);
    }
    assertTrue(impatient.commit(2, root, 5).alreadyThere());
  }

  private Anchorer anchorer(int confirmations) {
    return new Anchorer(anvil.web3j(), gateway, anvil.chainId(), anchor.getContractAddress(), confirmations,
        Duration.ofSeconds(20), 0);
  }

  private BigInteger nonce() throws Exception {
    return anvil.web3j().ethGetTransactionCount(gateway.getAddress(), DefaultBlockParameterName.LATEST).send()
        .getTransactionCount();
  }
}
