package io.inferium.chain.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.ChainRpc;
import io.inferium.chain.Deployment;
import io.inferium.infra.testing.Eventually;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.http.HttpService;

class AnvilIT {

  @Test
  void answersFundsAccountsMovesTimeAndIsGoneAfterClose() throws Exception {
    ProcessHandle process;
    String url;
    try (Anvil anvil = Anvil.start()) {
      process = anvil.process();
      url = anvil.rpcUrl();
      assertEquals(31337, anvil.chainId());
      Credentials account = anvil.fundedAccount();
      assertEquals(BigInteger.TEN.pow(22),
          anvil.web3j().ethGetBalance(account.getAddress(), DefaultBlockParameterName.LATEST).send().getBalance());
      BigInteger before = anvil.web3j().ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false).send().getBlock().getTimestamp();
      anvil.increaseTime(3_600);
      BigInteger after = anvil.web3j().ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false).send().getBlock().getTimestamp();
      assertTrue(after.subtract(before).longValueExact() >= 3_600, before + " -> " + after);

      // ChainRpc opens an endpoint only as the deployment's chain: a key signs for one chain id.
      String a = "0x" + "11".repeat(20);
      ChainRpc.connect(url, new Deployment(31337, a, a, a, a, a, 0), "here.json").shutdown();
      IllegalStateException other = assertThrows(IllegalStateException.class,
          () -> ChainRpc.connect(url, new Deployment(5, a, a, a, a, a, 0), "goerli.json"));
      assertEquals(url + " is chain 31337, the deployment goerli.json is for chain 5", other.getMessage());
    }
    Eventually.until("anvil process gone", Duration.ofSeconds(10), () -> !process.isAlive());
    Web3j client = Web3j.build(new HttpService(url));
    try {
      assertThrows(IOException.class, () -> client.ethChainId().send(), "nothing listens after close");
    } finally {
      client.shutdown();
    }
    assertFalse(process.isAlive());
  }
}
