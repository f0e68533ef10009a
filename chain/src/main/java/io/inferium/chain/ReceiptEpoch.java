package io.inferium.chain;

import io.inferium.chain.merkle.MerkleTree;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One epoch's receipts and the Merkle tree whose root {@code ReceiptAnchor.commit(epoch, root, count)} anchors.
 * Immutable; built once the epoch closes (N receipts or T seconds, decided by the caller).
 */
public final class ReceiptEpoch {

  private final long epoch;
  /** Each receipt's leaf by request id, in the order given. */
  private final Map<String, byte[]> leaves;
  /** The receipts themselves when the epoch was built from them; empty when built from stored leaves. */
  private final Map<String, Receipt> receipts;
  private final MerkleTree tree;

  private ReceiptEpoch(long epoch, Map<String, byte[]> leaves, Map<String, Receipt> receipts) {
    if (epoch < 1) {
      throw new IllegalArgumentException("epoch: expected >= 1, got " + epoch);
    }
    if (leaves.isEmpty()) {
      throw new IllegalArgumentException("an epoch needs at least one receipt");
    }
    this.epoch = epoch;
    this.leaves = Collections.unmodifiableMap(leaves);
    this.receipts = Collections.unmodifiableMap(receipts);
    this.tree = MerkleTree.of(new ArrayList<>(leaves.values()));
  }

  /** The tree of {@code receipts} for {@code epoch} (≥ 1, as the contract requires); request ids must be distinct. */
  public static ReceiptEpoch of(long epoch, List<Receipt> receipts) {
    Map<String, byte[]> leaves = new LinkedHashMap<>();
    Map<String, Receipt> byRequest = new LinkedHashMap<>();
    for (Receipt receipt : receipts) {
      if (byRequest.putIfAbsent(receipt.requestId(), receipt) != null) {
        throw new IllegalArgumentException("request " + receipt.requestId() + " appears twice in epoch " + epoch);
      }
      leaves.put(receipt.requestId(), receipt.leaf());
    }
    return new ReceiptEpoch(epoch, leaves, byRequest);
  }

  /**
   * The tree of an epoch from its receipts' stored leaves ({@code leaves.get(i)} is the leaf of {@code requestIds.get(i)});
   * what closing an epoch and serving a proof need, without reading or hashing any receipt again.
   */
  public static ReceiptEpoch ofLeaves(long epoch, List<String> requestIds, List<byte[]> leaves) {
    if (requestIds.size() != leaves.size()) {
      throw new IllegalArgumentException(requestIds.size() + " request ids for " + leaves.size() + " leaves");
    }
    Map<String, byte[]> byRequest = new LinkedHashMap<>();
    for (int i = 0; i < requestIds.size(); i++) {
      if (byRequest.putIfAbsent(requestIds.get(i), leaves.get(i)) != null) {
        throw new IllegalArgumentException("request " + requestIds.get(i) + " appears twice in epoch " + epoch);
      }
    }
    return new ReceiptEpoch(epoch, byRequest, Map.of());
  }

  public long epoch() {
    return epoch;
  }

  public byte[] root() {
    return tree.root();
  }

  public int count() {
    return tree.size();
  }

  /** The request ids of this epoch's receipts, in the order given. */
  public String[] requestIds() {
    return leaves.keySet().toArray(String[]::new);
  }

  /** Whether the receipt of {@code requestId} is in this epoch. */
  public boolean contains(String requestId) {
    return leaves.containsKey(requestId);
  }

  /** The receipt of {@code requestId} with its proof, if this epoch was built from receipts and holds it. */
  public Optional<Proven> proven(String requestId) {
    Receipt receipt = receipts.get(requestId);
    return receipt == null ? Optional.empty() : prove(receipt);
  }

  /**
   * {@code receipt} with its proof, if its request is in this epoch <em>with exactly this leaf</em>; empty otherwise
   * (a receipt whose fields differ from what the epoch committed to has no proof).
   */
  public Optional<Proven> prove(Receipt receipt) {
    byte[] committed = leaves.get(receipt.requestId());
    byte[] leaf = receipt.leaf();
    if (committed == null || !Arrays.equals(committed, leaf)) {
      return Optional.empty();
    }
    return Optional.of(new Proven(epoch, receipt, tree.proof(leaf), tree.root()));
  }

  /** A receipt with what a checker needs besides the chain: its epoch, its proof and the expected root. */
  public record Proven(long epoch, Receipt receipt, List<byte[]> proof, byte[] root) {

    public Proven {
      proof = List.copyOf(proof);
      root = root.clone();
    }

    /** Checks the proof locally against {@link #root}; the chain's copy of the root is what makes it binding. */
    public boolean verifiesLocally() {
      return MerkleTree.verify(root, receipt.leaf(), proof);
    }

    public List<String> proofHex() {
      HexFormat hex = HexFormat.of();
      return proof.stream().map(p -> "0x" + hex.formatHex(p)).toList();
    }
  }
}
