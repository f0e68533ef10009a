package io.inferium.chain.merkle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

class MerkleTreeTest {

  @Test
  void leafIsTheDoubleKeccakOfTheAbiEncoding() {
    List<Type> values = List.of(new Address("0x1111111111111111111111111111111111111111"), new Uint256(5));
    byte[] encoded = Numeric.hexStringToByteArray(
        "0000000000000000000000001111111111111111111111111111111111111111"
            + "0000000000000000000000000000000000000000000000000000000000000005");
    assertArrayEquals(Hash.sha3(Hash.sha3(encoded)), MerkleTree.leafHash(values));
  }

  /**
   * Root and proof computed by OpenZeppelin's own JavaScript library for the same five (address, uint256) values:
   * {@code StandardMerkleTree.of(values, ['address','uint256'])} with {@code @openzeppelin/merkle-tree} 1.0.8, values
   * {@code [0x..01, 0], [0x..02, 10], [0x..03, 20], [0x..04, 30], [0x..05, 40]}.
   */
  @Test
  void matchesOpenZeppelinsJavaScriptStandardMerkleTree() {
    List<byte[]> leaves = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      leaves.add(leaf(i));
    }
    MerkleTree tree = MerkleTree.of(leaves);
    assertEquals("0xf6d10cbdbd32ac282e85fc53e602f718016d5c3bc4c2401198ef260b7c414214", Numeric.toHexString(tree.root()));
    assertEquals(List.of("0xaee41e97c2317c241ed0a691b44af21d207e6f95ec68d166b1fb0729de464ce1",
            "0x7847c53f9e8c7b35aa4ad63fb209dff2afab82f93f14ae00704437cb1015c532"),
        tree.proof(leaves.get(3)).stream().map(Numeric::toHexString).toList());
  }

  @Test
  void twoLeavesHashAsASortedPair() {
    byte[] a = leaf(1);
    byte[] b = leaf(2);
    byte[] low = java.util.Arrays.compareUnsigned(a, b) < 0 ? a : b;
    byte[] high = low == a ? b : a;
    byte[] expected = Hash.sha3(concat(low, high));
    assertArrayEquals(expected, MerkleTree.of(List.of(a, b)).root());
    assertArrayEquals(expected, MerkleTree.of(List.of(b, a)).root());
  }

  @Test
  void oneLeafIsItsOwnRootWithAnEmptyProof() {
    byte[] only = leaf(7);
    MerkleTree tree = MerkleTree.of(List.of(only));
    assertArrayEquals(only, tree.root());
    assertEquals(List.of(), tree.proof(only));
    assertTrue(MerkleTree.verify(tree.root(), only, List.of()));
  }

  @Test
  void everyProofVerifiesAndTheRootIgnoresInputOrder() {
    for (int n : new int[] {2, 3, 4, 5, 7, 8, 9, 33, 100}) {
      List<byte[]> leaves = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        leaves.add(leaf(i));
      }
      MerkleTree tree = MerkleTree.of(leaves);
      List<byte[]> shuffled = new ArrayList<>(leaves);
      Collections.shuffle(shuffled, new Random(n));
      assertArrayEquals(tree.root(), MerkleTree.of(shuffled).root(), "n=" + n);
      for (byte[] leaf : leaves) {
        List<byte[]> proof = tree.proof(leaf);
        assertTrue(MerkleTree.verify(tree.root(), leaf, proof), "n=" + n);
        assertTrue(proof.size() <= 32 - Integer.numberOfLeadingZeros(n), "proof is logarithmic");
      }
    }
  }

  @Test
  void tamperedLeafOrProofDoesNotVerify() {
    List<byte[]> leaves = List.of(leaf(1), leaf(2), leaf(3), leaf(4), leaf(5));
    MerkleTree tree = MerkleTree.of(leaves);
    byte[] leaf = leaves.get(2);
    List<byte[]> proof = tree.proof(leaf);

    byte[] otherValue = leaf(6);
    assertFalse(MerkleTree.verify(tree.root(), otherValue, proof));
    List<byte[]> bent = new ArrayList<>(proof);
    byte[] sibling = bent.get(0).clone();
    sibling[31] ^= 1;
    bent.set(0, sibling);
    assertFalse(MerkleTree.verify(tree.root(), leaf, bent));
    assertFalse(MerkleTree.verify(tree.root(), leaf, proof.subList(0, proof.size() - 1)));
    assertThrows(IllegalArgumentException.class, () -> tree.proof(otherValue));
  }

  @Test
  void anInnerNodeIsNotAcceptedAsALeaf() {
    // The second-preimage attack double hashing prevents: an inner node with the proof above it reproduces the
    // root, so a verifier must only ever accept leaves it built itself with leafHash (never a caller's hash).
    MerkleTree tree = MerkleTree.of(List.of(leaf(1), leaf(2), leaf(3), leaf(4)));
    assertFalse(tree.contains(Hash.sha3(concat(leaf(1), leaf(2)))));
  }

  @Test
  void badInputIsRefusedWithAReason() {
    assertThrows(IllegalArgumentException.class, () -> MerkleTree.of(List.of()));
    IllegalArgumentException shortLeaf = assertThrows(IllegalArgumentException.class,
        () -> MerkleTree.of(List.of(new byte[31])));
    assertTrue(shortLeaf.getMessage().contains("32 bytes"));
    IllegalArgumentException duplicate = assertThrows(IllegalArgumentException.class,
        () -> MerkleTree.of(List.of(leaf(1), leaf(2), leaf(1))));
    assertTrue(duplicate.getMessage().contains("duplicate"));
    assertThrows(IllegalArgumentException.class, () -> MerkleTree.leafHash(List.of()));
  }

  @Test
  void theTreeDoesNotShareItsArrays() {
    byte[] a = leaf(1);
    MerkleTree tree = MerkleTree.of(List.of(a, leaf(2)));
    byte[] root = tree.root();
    a[0] ^= 1;
    root[0] ^= 1;
    assertArrayEquals(MerkleTree.of(List.of(leaf(1), leaf(2))).root(), tree.root());
  }

  static byte[] leaf(int i) {
    return MerkleTree.leafHash(List.of(new Address(BigInteger.valueOf(i + 1)), new Uint256(BigInteger.valueOf(i * 10L))));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
