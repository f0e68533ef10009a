package io.inferium.chain;

import io.inferium.chain.merkle.MerkleTree;
import java.util.ArrayList;
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
  private final Map<String, Receipt> byRequest;
  private final MerkleTree tree;

  private ReceiptEpoch(long epoch, Map<String, Receipt> byRequest, MerkleTree tree) {
    this.epoch = epoch;
    this.byRequest = byRequest;
    this.tree = tree;
  }

  /** The tree of {@code receipts} for {@code epoch} (≥ 1, as the contract requires); request ids must be distinct. */
  public static ReceiptEpoch of(long epoch, List<Receipt> receipts) {
    if (epoch < 1) {
      throw new IllegalArgumentException("epoch: expected >= 1, got " + epoch);
    }
    if (receipts.isEmpty()) {
      throw new IllegalArgumentException("an epoch needs at least one receipt");
    }
    Map<String, Receipt> byRequest = new LinkedHashMap<>();
    List<byte[]> leaves = new ArrayList<>(receipts.size());
    for (Receipt receipt : receipts) {
      if (byRequest.putIfAbsent(receipt.requestId(), receipt) != null) {
        throw new IllegalArgumentException("request " + receipt.requestId() + " appears twice in epoch " + epoch);
      }
      leaves.add(receipt.leaf());
    }
    return new ReceiptEpoch(epoch, Collections.unmodifiableMap(byRequest), MerkleTree.of(leaves));
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
    return byRequest.keySet().toArray(String[]::new);
  }

  /** The receipt of {@code requestId} with its proof, if it is in this epoch. */
  public Optional<Proven> proven(String requestId) {
    Receipt receipt = byRequest.get(requestId);
    return receipt == null ? Optional.empty() : Optional.of(new Proven(epoch, receipt, tree.proof(receipt.leaf()), tree.root()));
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
