package io.inferium.chain.merkle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Type;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/**
 * A Merkle tree with OpenZeppelin's {@code StandardMerkleTree} semantics, so its roots and proofs check with
 * OpenZeppelin's {@code MerkleProof} on chain.
 *
 * <ul>
 *   <li>leaf = {@code keccak256(bytes.concat(keccak256(abi.encode(values))))} ({@link #leafHash}); hashing twice
 *       keeps a 64-byte leaf from being passed off as an inner node;
 *   <li>leaves sorted by hash, laid out as a complete binary tree in one array with the leaves at the end in
 *       reverse order (OpenZeppelin's layout: node i has children 2i+1 and 2i+2);
 *   <li>inner node = {@code keccak256} of its two children in ascending byte order (sorted pairs), so a proof is
 *       just the list of siblings, bottom up.
 * </ul>
 *
 * <p>Immutable; leaves must be distinct (a duplicate is refused: it would give one value two positions).
 */
public final class MerkleTree {

  private static final int HASH_BYTES = 32;

  private final byte[][] nodes;
  private final Map<Key, Integer> leafIndex;
  private final int leafCount;

  private MerkleTree(byte[][] nodes, Map<Key, Integer> leafIndex, int leafCount) {
    this.nodes = nodes;
    this.leafIndex = leafIndex;
    this.leafCount = leafCount;
  }

  /** {@code keccak256(bytes.concat(keccak256(abi.encode(values))))}, the leaf of OpenZeppelin's StandardMerkleTree. */
  public static byte[] leafHash(List<Type> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("a leaf needs at least one value");
    }
    byte[] encoded = Numeric.hexStringToByteArray(FunctionEncoder.encodeConstructor(values));
    return Hash.sha3(Hash.sha3(encoded));
  }

  /** A tree over already-hashed leaves (each 32 bytes, see {@link #leafHash}), in any order. */
  public static MerkleTree of(List<byte[]> leafHashes) {
    if (leafHashes.isEmpty()) {
      throw new IllegalArgumentException("a Merkle tree needs at least one leaf");
    }
    List<byte[]> sorted = new ArrayList<>(leafHashes.size());
    for (byte[] leaf : leafHashes) {
      if (leaf == null || leaf.length != HASH_BYTES) {
        throw new IllegalArgumentException("a leaf hash is 32 bytes, got " + (leaf == null ? "null" : leaf.length));
      }
      sorted.add(leaf.clone());
    }
    sorted.sort(Arrays::compareUnsigned);
    int n = sorted.size();
    byte[][] nodes = new byte[2 * n - 1][];
    Map<Key, Integer> index = new HashMap<>(n * 2);
    for (int i = 0; i < n; i++) {
      int at = nodes.length - 1 - i;
      nodes[at] = sorted.get(i);
      if (index.put(new Key(sorted.get(i)), at) != null) {
        throw new IllegalArgumentException("duplicate leaf " + Numeric.toHexString(sorted.get(i)));
      }
    }
    for (int i = nodes.length - 1 - n; i >= 0; i--) {
      nodes[i] = hashPair(nodes[2 * i + 1], nodes[2 * i + 2]);
    }
    return new MerkleTree(nodes, index, n);
  }

  public byte[] root() {
    return nodes[0].clone();
  }

  public int size() {
    return leafCount;
  }

  public boolean contains(byte[] leafHash) {
    return leafIndex.containsKey(new Key(leafHash));
  }

  /** The siblings from the leaf up to (not including) the root; empty for a one-leaf tree. */
  public List<byte[]> proof(byte[] leafHash) {
    Integer at = leafIndex.get(new Key(leafHash));
    if (at == null) {
      throw new IllegalArgumentException("not a leaf of this tree: " + Numeric.toHexString(leafHash));
    }
    List<byte[]> proof = new ArrayList<>();
    for (int i = at; i > 0; i = (i - 1) / 2) {
      int sibling = (i % 2 == 1) ? i + 1 : i - 1;
      proof.add(nodes[sibling].clone());
    }
    return Collections.unmodifiableList(proof);
  }

  /** Recomputes the root from a leaf and its proof exactly as OpenZeppelin's {@code MerkleProof.verify} does. */
  public static boolean verify(byte[] root, byte[] leafHash, List<byte[]> proof) {
    byte[] computed = leafHash;
    for (byte[] sibling : proof) {
      computed = hashPair(computed, sibling);
    }
    return Arrays.equals(computed, root);
  }

  private static byte[] hashPair(byte[] a, byte[] b) {
    byte[] pair = new byte[2 * HASH_BYTES];
    boolean aFirst = Arrays.compareUnsigned(a, b) <= 0;
    System.arraycopy(aFirst ? a : b, 0, pair, 0, HASH_BYTES);
    System.arraycopy(aFirst ? b : a, 0, pair, HASH_BYTES, HASH_BYTES);
    return Hash.sha3(pair);
  }

  private record Key(byte[] bytes) {
    @Override
    public boolean equals(Object other) {
      return other instanceof Key key && Arrays.equals(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }
}
