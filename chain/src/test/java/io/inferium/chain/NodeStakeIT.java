package io.inferium.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.contracts.InferiumToken;
import io.inferium.chain.contracts.NodeRegistry;
import io.inferium.chain.testing.Anvil;
import java.math.BigInteger;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;

/** The gateway's side of the stake registry against a real Anvil: status, and a slash read back from events. */
class NodeStakeIT {

  private static final BigInteger MIN = BigInteger.valueOf(1_000);

  @Test
  void belowMinimumIsInactiveAndASlashIsReadBackFromTheChain() throws Exception {
    try (Anvil anvil = Anvil.start()) {
      Credentials admin = anvil.fundedAccount();
      Credentials verifier = anvil.fundedAccount();
      Credentials operator = anvil.fundedAccount();
      InferiumToken token = InferiumToken.deploy(anvil.web3j(), anvil.transactions(admin), anvil.gas(), "Inferium", "INF",
          admin.getAddress(), BigInteger.valueOf(1_000_000)).send();
      NodeRegistry registry = NodeRegistry.deploy(anvil.web3j(), anvil.transactions(admin), anvil.gas(),
          token.getContractAddress(), MIN, BigInteger.valueOf(60), true, admin.getAddress(), admin.getAddress()).send();
      registry.grantRole(registry.VERIFIER_ROLE().send(), verifier.getAddress()).send();
      token.transfer(operator.getAddress(), BigInteger.valueOf(1_500)).send();
      InferiumToken.load(token.getContractAddress(), anvil.web3j(), anvil.transactions(operator), anvil.gas())
          .approve(registry.getContractAddress(), BigInteger.valueOf(1_500)).send();
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);

      NodeStake asVerifier = new NodeStake(anvil.web3j(), verifier, anvil.chainId(), registry.getContractAddress());
      assertFalse(asVerifier.status(key).registered());
      NodeRegistry.load(registry.getContractAddress(), anvil.web3j(), anvil.transactions(operator), anvil.gas())
          .register(key, BigInteger.valueOf(1_200)).send();
      NodeStake.Status staked = asVerifier.status(key);
      assertTrue(staked.registered() && staked.active());
      assertEquals(operator.getAddress(), staked.operator());

      BigInteger supply = token.totalSupply().send();
      NodeStake.Slash slash = asVerifier.slash(key, BigInteger.valueOf(300), Hash.sha3("lied on task 7".getBytes()), false);
      assertEquals(BigInteger.valueOf(300), slash.amount());
      assertTrue(slash.burned());
      assertFalse(slash.ejected());
      assertEquals(supply.subtract(BigInteger.valueOf(300)), token.totalSupply().send());
      NodeStake.Status below = asVerifier.status(key);
      assertEquals(BigInteger.valueOf(900), below.stake());
      assertFalse(below.active(), "900 is below the 1000 minimum: no work");

      NodeStake.Slash ejection = asVerifier.slash(key, BigInteger.ZERO, Hash.sha3("again".getBytes()), true);
      assertTrue(ejection.ejected());
      assertTrue(asVerifier.status(key).ejected());

      NodeStake asOperator = new NodeStake(anvil.web3j(), operator, anvil.chainId(), registry.getContractAddress());
      IllegalStateException refused = assertThrows(IllegalStateException.class,
          () -> asOperator.slash(key, BigInteger.ONE, new byte[32], false), "only the verifier role slashes");
      assertTrue(refused.getMessage().contains("VERIFIER_ROLE"), refused.getMessage());
      assertEquals(BigInteger.valueOf(900), asVerifier.status(key).stake());
      assertThrows(IllegalArgumentException.class, () -> asVerifier.slash(new byte[31], BigInteger.ONE, new byte[32], false));
    }
  }
}
