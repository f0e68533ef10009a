package io.inferium.chain.contracts;

import static io.inferium.chain.contracts.ChainFixture.send;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.merkle.MerkleTree;
import io.inferium.chain.testing.GasReport;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/** Receipt roots committed once per strictly increasing epoch; proofs built by the Java MerkleTree checked on chain. */
class ReceiptAnchorIT {

  private static ChainFixture chain;
  private static Credentials gateway;

  @BeforeAll
  static void start() throws Exception {
    chain = new ChainFixture();
    gateway = chain.anvil.fundedAccount();
  }

  @AfterAll
  static void stop() {
    if (chain != null) {
      chain.close();
    }
  }

  @Test
  void onlyTheAnchorRoleCommits() throws Exception {
    ReceiptAnchor anchor = deploy();
    Credentials attacker = chain.anvil.fundedAccount();
    byte[] root = Hash.sha3("root".getBytes());
    chain.assertReverts("AccessControlUnauthorizedAccount(address,bytes32)", as(anchor, attacker).commit(BigInteger.ONE, root, BigInteger.ONE));
    chain.assertReverts("AccessControlUnauthorizedAccount(address,bytes32)", as(anchor, chain.admin).commit(BigInteger.ONE, root, BigInteger.ONE));
    assertEquals(BigInteger.ZERO, anchor.latestEpoch().send());
  }

  @Test
  void epochsAreCommittedOnceAndInIncreasingOrder() throws Exception {
    ReceiptAnchor anchor = as(deploy(), gateway);
    byte[] root = Hash.sha3("a".getBytes());
    chain.assertReverts("EpochNotAfterLatest(uint64,uint64)", anchor.commit(BigInteger.ZERO, root, BigInteger.ONE));
    TransactionReceipt committed = anchor.commit(BigInteger.valueOf(3), root, BigInteger.TEN).send();
    ReceiptAnchor.RootCommittedEventResponse event = ReceiptAnchor.getRootCommittedEvents(committed).get(0);
    assertEquals(BigInteger.valueOf(3), event.epoch);
    assertArrayEquals(root, event.root);

    byte[] other = Hash.sha3("b".getBytes());
    chain.assertReverts("EpochNotAfterLatest(uint64,uint64)", anchor.commit(BigInteger.valueOf(3), other, BigInteger.ONE));
    chain.assertReverts("EpochNotAfterLatest(uint64,uint64)", anchor.commit(BigInteger.TWO, other, BigInteger.ONE));
    chain.assertReverts("EmptyEpoch()", anchor.commit(BigInteger.valueOf(4), new byte[32], BigInteger.ONE));
    chain.assertReverts("EmptyEpoch()", anchor.commit(BigInteger.valueOf(4), other, BigInteger.ZERO));
    assertArrayEquals(root, anchor.anchorOf(BigInteger.valueOf(3)).send().root, "a committed root is never replaced");
    anchor.commit(BigInteger.valueOf(4), other, BigInteger.ONE).send();
    assertEquals(BigInteger.valueOf(4), anchor.latestEpoch().send());
  }

  @Test
  void javaProofsVerifyOnChainAndTamperedOnesDoNot() throws Exception {
    ReceiptAnchor anchor = as(deploy(), gateway);
    List<List<Type>> receipts = new ArrayList<>();
    for (int i = 0; i < 37; i++) {
      receipts.add(receipt("req-" + i, "output " + i));
    }
    List<byte[]> leaves = receipts.stream().map(MerkleTree::leafHash).toList();
    MerkleTree tree = MerkleTree.of(leaves);
    send("commit root", anchor.commit(BigInteger.ONE, tree.root(), BigInteger.valueOf(tree.size())));

    for (byte[] leaf : leaves) {
      assertTrue(anchor.verify(BigInteger.ONE, leaf, tree.proof(leaf)).send());
    }
    byte[] leaf = leaves.get(11);
    List<byte[]> proof = tree.proof(leaf);
    byte[] tamperedOutput = MerkleTree.leafHash(receipt("req-11", "output 11, but changed"));
    assertFalse(anchor.verify(BigInteger.ONE, tamperedOutput, proof).send(), "tampered receipt");
    assertFalse(anchor.verify(BigInteger.ONE, leaves.get(12), proof).send(), "another receipt's proof");
    List<byte[]> bent = new ArrayList<>(proof);
    byte[] sibling = bent.get(1).clone();
    sibling[0] ^= (byte) 0x80;
    bent.set(1, sibling);
    assertFalse(anchor.verify(BigInteger.ONE, leaf, bent).send(), "bent proof");
    assertFalse(anchor.verify(BigInteger.TWO, leaf, proof).send(), "epoch never committed");
    assertFalse(anchor.verify(BigInteger.ONE, MerkleTree.leafHash(receipt("req-99", "x")), List.of()).send());
  }

  @Test
  void aOneReceiptEpochVerifiesWithAnEmptyProof() throws Exception {
    ReceiptAnchor anchor = as(deploy(), gateway);
    byte[] leaf = MerkleTree.leafHash(receipt("only", "one"));
    MerkleTree tree = MerkleTree.of(List.of(leaf));
    anchor.commit(BigInteger.ONE, tree.root(), BigInteger.ONE).send();
    assertTrue(anchor.verify(BigInteger.ONE, leaf, List.of()).send());
  }

  /** A stand-in receipt: (request id, output hash, a string field) to exercise dynamic ABI types too. */
  private static List<Type> receipt(String requestId, String output) {
    return List.of(new Bytes32(Hash.sha3(requestId.getBytes())), new Bytes32(Hash.sha3(output.getBytes())),
        new Utf8String(requestId));
  }

  private static ReceiptAnchor deploy() throws Exception {
    ReceiptAnchor anchor = GasReport.deployed("deploy ReceiptAnchor", ReceiptAnchor.deploy(chain.anvil.web3j(),
        chain.anvil.transactions(chain.admin), chain.anvil.gas(), chain.admin.getAddress()).send());
    anchor.grantRole(anchor.ANCHOR_ROLE().send(), gateway.getAddress()).send();
    return anchor;
  }

  private static ReceiptAnchor as(ReceiptAnchor anchor, Credentials who) {
    return ReceiptAnchor.load(anchor.getContractAddress(), chain.anvil.web3j(), chain.anvil.transactions(who), chain.anvil.gas());
  }
}
