package io.inferium.chain.contracts;

import static io.inferium.chain.contracts.ChainFixture.send;
import static io.inferium.chain.contracts.ChainFixture.tokens;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.testing.GasReport;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

class NodeRegistryIT {

  private static final BigInteger MIN_STAKE = tokens(1_000);
  private static final long DELAY_SECONDS = 3_600;
  private static final SecureRandom RANDOM = new SecureRandom();

  private static ChainFixture chain;
  private static Credentials verifier;
  private static NodeRegistry burning;

  @BeforeAll
  static void start() throws Exception {
    chain = new ChainFixture();
    verifier = chain.anvil.fundedAccount();
    burning = deployRegistry(true, chain.admin);
    send("grantRole VERIFIER", burning.grantRole(burning.VERIFIER_ROLE().send(), verifier.getAddress()));
  }

  @AfterAll
  static void stop() {
    if (chain != null) {
      chain.close();
    }
  }

  @Test
  void registeringBelowTheMinimumIsRefused() throws Exception {
    Credentials operator = chain.accountWithTokens(tokens(5_000));
    NodeRegistry registry = asOperator(burning, operator);
    byte[] key = nodeKey();
    chain.assertReverts("BelowMinimumStake(uint256,uint256)", registry.register(key, MIN_STAKE.subtract(BigInteger.ONE)));
    chain.assertReverts("ZeroNodeKey()", registry.register(new byte[32], MIN_STAKE));
    assertFalse(burning.isActive(key).send());
    assertEquals(tokens(5_000), chain.balance(operator));
  }

  @Test
  void registerAndStakeEmitEventsAndActivateTheNode() throws Exception {
    Credentials operator = chain.accountWithTokens(tokens(5_000));
    NodeRegistry registry = asOperator(burning, operator);
    byte[] key = nodeKey();

    TransactionReceipt registered = send("register (with first stake)", registry.register(key, MIN_STAKE));
    NodeRegistry.NodeRegisteredEventResponse event = NodeRegistry.getNodeRegisteredEvents(registered).get(0);
    assertArrayEquals(key, event.nodeKey);
    assertEquals(operator.getAddress(), event.operator);
    assertEquals(MIN_STAKE, NodeRegistry.getStakedEvents(registered).get(0).totalStake);
    assertTrue(burning.isActive(key).send());

    TransactionReceipt staked = send("stake (top up)", registry.stake(key, tokens(500)));
    assertEquals(tokens(1_500), NodeRegistry.getStakedEvents(staked).get(0).totalStake);
    assertEquals(tokens(1_500), burning.nodeOf(key).send().stake);
    assertEquals(tokens(3_500), chain.balance(operator));

    Credentials squatter = chain.accountWithTokens(tokens(5_000));
    chain.assertReverts("AlreadyRegistered(bytes32)", asOperator(burning, squatter).register(key, MIN_STAKE));
  }

  @Test
  void unstakedTokensAreWithdrawnOnlyAfterTheDelay() throws Exception {
    Credentials operator = chain.accountWithTokens(tokens(2_000));
    NodeRegistry registry = asOperator(burning, operator);
    byte[] key = nodeKey();
    send("register (with first stake)", registry.register(key, tokens(1_600)));

    TransactionReceipt requested = send("requestUnstake", registry.requestUnstake(key, tokens(700)));
    assertEquals(tokens(700), NodeRegistry.getUnstakeRequestedEvents(requested).get(0).amount);
    assertFalse(burning.isActive(key).send(), "900 staked is below the 1000 minimum");
    chain.assertReverts("WithdrawalLocked(uint64,uint256)", registry.withdraw(key));

    chain.anvil.increaseTime(DELAY_SECONDS / 2);
    chain.assertReverts("WithdrawalLocked(uint64,uint256)", registry.withdraw(key));

    chain.anvil.increaseTime(DELAY_SECONDS / 2);
    TransactionReceipt withdrawn = send("withdraw", registry.withdraw(key));
    assertEquals(tokens(700), NodeRegistry.getWithdrawnEvents(withdrawn).get(0).amount);
    assertEquals(tokens(1_100), chain.balance(operator));
    chain.assertReverts("NothingToWithdraw(bytes32)", registry.withdraw(key));
  }

  @Test
  void onlyTheVerifierSlashesAndOnlyTheOperatorUnstakes() throws Exception {
    Credentials operator = chain.accountWithTokens(tokens(1_000));
    byte[] key = nodeKey();
    asOperator(burning, operator).register(key, MIN_STAKE).send();

    Credentials attacker = chain.accountWithTokens(BigInteger.ZERO);
    NodeRegistry asAttacker = asOperator(burning, attacker);
    chain.assertReverts("AccessControlUnauthorizedAccount(address,bytes32)", asAttacker.slash(key, MIN_STAKE, evidence(), true));
    chain.assertReverts("NotOperator(bytes32,address)", asAttacker.requestUnstake(key, MIN_STAKE));
    chain.assertReverts("NotOperator(bytes32,address)", asAttacker.withdraw(key));
    chain.assertReverts("AccessControlUnauthorizedAccount(address,bytes32)",
        asOperator(burning, operator).slash(key, BigInteger.ONE, evidence(), false));
    // A role holder only grants roles when it is the admin: the attacker cannot make itself a verifier.
    chain.assertReverts("AccessControlUnauthorizedAccount(address,bytes32)",
        asAttacker.grantRole(burning.VERIFIER_ROLE().send(), attacker.getAddress()));
    assertEquals(MIN_STAKE, burning.nodeOf(key).send().stake);
    assertTrue(burning.isActive(key).send());
  }

  @Test
  void slashBurnsEjectsAndTheEjectedNodeCannotStakeAgain() throws Exception {
    Credentials operator = chain.accountWithTokens(tokens(3_000));
    NodeRegistry registry = asOperator(burning, operator);
    byte[] key = nodeKey();
    registry.register(key, tokens(1_500)).send();
    BigInteger supplyBefore = chain.token.totalSupply().send();
    byte[] evidence = evidence();

    TransactionReceipt slashed = send("slash + eject (burn)", asOperator(burning, verifier).slash(key, tokens(400), evidence, true));
    NodeRegistry.SlashedEventResponse event = NodeRegistry.getSlashedEvents(slashed).get(0);
    assertEquals(tokens(400), event.amount);
    assertArrayEquals(evidence, event.evidenceHash);
    assertTrue(event.burned);
    assertArrayEquals(evidence, NodeRegistry.getEjectedEvents(slashed).get(0).evidenceHash);
    assertEquals(supplyBefore.subtract(tokens(400)), chain.token.totalSupply().send());
    assertEquals(tokens(1_100), burning.nodeOf(key).send().stake);
    assertTrue(burning.nodeOf(key).send().ejected);
    assertFalse(burning.isActive(key).send(), "ejected, though still staked above the minimum");

    chain.assertReverts("NodeEjected(bytes32)", registry.stake(key, tokens(1_000)));
  }

  @Test
  void ejectionWithoutASlashKeepsTheStakeWithdrawable() throws Exception {
    Credentials operator = chain.accountWithTokens(tokens(1_000));
    NodeRegistry registry = asOperator(burning, operator);
    byte[] key = nodeKey();
    registry.register(key, MIN_STAKE).send();
    NodeRegistry asVerifier = asOperator(burning, verifier);
    chain.assertReverts("ZeroAmount()", asVerifier.slash(key, BigInteger.ZERO, evidence(), false));
    chain.assertReverts("UnknownNode(bytes32)", asVerifier.slash(nodeKey(), BigInteger.ONE, evidence(), true));

    TransactionReceipt ejected = send("eject (no slash)", asVerifier.slash(key, BigInteger.ZERO, evidence(), true));
    assertEquals(1, NodeRegistry.getEjectedEvents(ejected).size());
    assertEquals(List.of(), NodeRegistry.getSlashedEvents(ejected));
    assertFalse(burning.isActive(key).send());
    registry.requestUnstake(key, MIN_STAKE).send();
    chain.anvil.increaseTime(DELAY_SECONDS);
    registry.withdraw(key).send();
    assertEquals(tokens(1_000), chain.balance(operator));
  }

  @Test
  void unstakingDoesNotEscapeASlash() throws Exception {
    Credentials operator = chain.accountWithTokens(tokens(1_200));
    NodeRegistry registry = asOperator(burning, operator);
    byte[] key = nodeKey();
    registry.register(key, tokens(1_200)).send();
    registry.requestUnstake(key, tokens(1_200)).send();

    asOperator(burning, verifier).slash(key, tokens(1_000), evidence(), true).send();
    NodeRegistry.Node node = burning.nodeOf(key).send();
    assertEquals(BigInteger.ZERO, node.stake);
    assertEquals(tokens(200), node.unstaking);
    chain.anvil.increaseTime(DELAY_SECONDS);
    registry.withdraw(key).send();
    assertEquals(tokens(200), chain.balance(operator));
    chain.assertReverts("InsufficientStake(uint256,uint256)", asOperator(burning, verifier).slash(key, BigInteger.ONE, evidence(), false));
  }

  @Test
  void slashSendsToTheTreasuryWhenConfiguredSo() throws Exception {
    Credentials treasury = chain.anvil.fundedAccount();
    NodeRegistry toTreasury = deployRegistry(false, treasury);
    toTreasury.grantRole(toTreasury.VERIFIER_ROLE().send(), verifier.getAddress()).send();
    Credentials operator = chain.accountWithTokens(tokens(1_000));
    byte[] key = nodeKey();
    asOperator(toTreasury, operator).register(key, MIN_STAKE).send();
    BigInteger supplyBefore = chain.token.totalSupply().send();

    TransactionReceipt slashed = send("slash (to treasury)", asOperator(toTreasury, verifier).slash(key, tokens(250), evidence(), false));
    assertFalse(NodeRegistry.getSlashedEvents(slashed).get(0).burned);
    assertEquals(List.of(), NodeRegistry.getEjectedEvents(slashed));
    assertEquals(tokens(250), chain.balance(treasury));
    assertEquals(supplyBefore, chain.token.totalSupply().send());
    assertFalse(toTreasury.isActive(key).send(), "750 left is below the minimum");
  }

  private static NodeRegistry deployRegistry(boolean burn, Credentials treasury) throws Exception {
    return GasReport.deployed("deploy NodeRegistry", NodeRegistry.deploy(chain.anvil.web3j(),
        chain.anvil.transactions(chain.admin), chain.anvil.gas(), chain.token.getContractAddress(), MIN_STAKE,
        BigInteger.valueOf(DELAY_SECONDS), burn, treasury.getAddress(), chain.admin.getAddress()).send());
  }

  /** The registry as {@code who} sees it; an operator also approves it to pull all of their tokens. */
  private static NodeRegistry asOperator(NodeRegistry registry, Credentials who) throws Exception {
    BigInteger balance = chain.balance(who);
    if (balance.signum() > 0) {
      chain.token(who).approve(registry.getContractAddress(), balance).send();
    }
    return NodeRegistry.load(registry.getContractAddress(), chain.anvil.web3j(), chain.anvil.transactions(who), chain.anvil.gas());
  }

  /** Stands in for a node's Ed25519 public key: 32 random bytes. */
  private static byte[] nodeKey() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return key;
  }

  private static byte[] evidence() {
    return Hash.sha3(nodeKey());
  }
}
