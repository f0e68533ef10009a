package io.inferium.chain.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.testing.Eventually;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Optional;
import org.web3j.crypto.Hash;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.RemoteFunctionCall;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.exceptions.TransactionException;

/** Asserts that a transaction is mined but reverted, with the Solidity custom error expected. */
public final class Reverts {

  private Reverts() {
  }

  /**
   * Sends the call, expects it to be mined with status 0, and replays it as an {@code eth_call} on the state just
   * before its block (Anvil mines one transaction per block) to read the revert data, which must start with the
   * selector of {@code errorSignature} (e.g. {@code "BelowMinimumStake(uint256,uint256)"}). web3j's own revert
   * reason only decodes {@code Error(string)}, so it cannot tell custom errors apart.
   */
  public static void assertReverts(Web3j web3j, String errorSignature, RemoteFunctionCall<TransactionReceipt> call)
      throws IOException {
    TransactionException failure = assertThrows(TransactionException.class, call::send,
        "expected a revert with " + errorSignature);
    String selector = Hash.sha3String(errorSignature).substring(0, 10);
    String txHash = failure.getTransactionReceipt().map(TransactionReceipt::getTransactionHash)
        .or(failure::getTransactionHash).orElseThrow(() -> new AssertionError("no transaction in " + failure));
    // The block comes from a receipt (the failure's, else the node's once it has one): in one CI run
    // eth_getTransactionByHash, asked right after the revert, returned the transaction without a block number.
    TransactionReceipt mined = failure.getTransactionReceipt().filter(r -> r.getBlockNumberRaw() != null)
        .orElseGet(() -> Eventually.value("the receipt of " + txHash, Duration.ofSeconds(30),
            () -> web3j.ethGetTransactionReceipt(txHash).send().getTransactionReceipt(), Optional::isPresent).orElseThrow());
    org.web3j.protocol.core.methods.response.Transaction tx = web3j.ethGetTransactionByHash(txHash).send()
        .getTransaction().orElseThrow();
    BigInteger before = mined.getBlockNumber().subtract(BigInteger.ONE);
    EthCall replay = web3j.ethCall(Transaction.createEthCallTransaction(tx.getFrom(), tx.getTo(), tx.getInput()),
        DefaultBlockParameter.valueOf(before)).send();
    String data = replay.hasError() ? String.valueOf(replay.getError().getData()) : replay.getValue();
    assertTrue(data != null && data.replace("\"", "").startsWith(selector),
        "expected revert " + errorSignature + " (" + selector + "), got revert data " + data + "; " + failure.getMessage());
  }
}
