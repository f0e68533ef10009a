package io.inferium.functions.seal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * A node's signature over a window of results (a "seal"), in place of one Ed25519 signature per
 * result. Each result is a leaf, the SHA-256 of {@code 0x00 ‖ }{@link NodeKeys#resultMessage} (correlation
 * id, model sha256, {@link OutputHash}); a seal signs the RFC 6962 Merkle root of the leaves of the
 * results the node sent since its previous seal, in the order it sent them, together with the link's
 * nonce (a seal cannot be replayed on another connection) and the seal's sequence number (nor again
 * on this one). One result is then proven by the seal's message and signature, its index in the
 * window and its audit path ({@link #path}, {@link #proves}).
 */
public final class ResultSeal {

  /** Results a window holds at most: the gateway's WELCOME says {@code seal_every}; a worker's default until then. */
  public static final int DEFAULT_EVERY = 64;
  /**
   * How long a window stays open after its first result, in ms: WELCOME's {@code seal_ms}; a worker's default until
   * then. Answers never wait for their seal, so the window sets only how soon a forged result is caught and how many
   * seals a quiet link costs: below {@link #DEFAULT_EVERY} results every window is one Ed25519 signature on the node
   * and one check on the gateway, so at 140 streamed requests a second 10 ms sealed almost every result alone
   * (docs/BENCHMARKS.md "Fifteenth session").
   */
  public static final long DEFAULT_MS = 50;

  private static final byte LEAF = 0;
  private static final byte NODE = 1;
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  private ResultSeal() {}

  /** The leaf of one result. */
  public static byte[] leaf(long correlationId, String modelSha256, String outputSha256) {
    MessageDigest d = SHA256.get();
    d.update(LEAF);
    d.update(NodeKeys.resultMessage(correlationId, modelSha256, outputSha256).getBytes(StandardCharsets.UTF_8));
    return d.digest();
  }

  /** The Merkle tree hash of {@code leaves} (RFC 6962 §2.1, over leaf hashes); at least one leaf. */
  public static byte[] root(List<byte[]> leaves) {
    if (leaves.isEmpty()) {
      throw new IllegalArgumentException("a seal covers at least one result");
    }
    return root(leaves, 0, leaves.size());
  }

  private static byte[] root(List<byte[]> leaves, int from, int to) {
    int n = to - from;
    if (n == 1) {
      return leaves.get(from);
    }
    int k = Integer.highestOneBit(n - 1);
    return node(root(leaves, from, from + k), root(leaves, from + k, to));
  }

  private static byte[] node(byte[] left, byte[] right) {
    MessageDigest d = SHA256.get();
    d.update(NODE);
    d.update(left);
    d.update(right);
    return d.digest();
  }

  /** The audit path of leaf {@code index}: the sibling hashes from the leaf up to the root. */
  public static List<byte[]> path(List<byte[]> leaves, int index) {
    List<byte[]> out = new ArrayList<>();
    path(leaves, 0, leaves.size(), index, out);
    return out;
  }

  private static void path(List<byte[]> leaves, int from, int to, int index, List<byte[]> out) {
    int n = to - from;
    if (n == 1) {
      return;
    }
    int k = Integer.highestOneBit(n - 1);
    if (index - from < k) {
      path(leaves, from, from + k, index, out);
      out.add(root(leaves, from + k, to));
    } else {
      path(leaves, from + k, to, index, out);
      out.add(root(leaves, from, from + k));
    }
  }

  /** Whether {@code leaf} at {@code index} of a window of {@code count} results hashes up to {@code root} along {@code path}. */
  public static boolean proves(byte[] leaf, int index, int count, List<byte[]> path, byte[] root) {
    if (index < 0 || index >= count) {
      return false;
    }
    byte[][] hash = {leaf};
    int[] used = {0};
    if (!climb(hash, index, 0, count, path, used)) {
      return false;
    }
    return used[0] == path.size() && Arrays.equals(hash[0], root);
  }

  // Recomputes the root of [from, to) bottom-up along the path, mirroring path(): the deepest sibling comes first.
  private static boolean climb(byte[][] hash, int index, int from, int to, List<byte[]> path, int[] used) {
    int n = to - from;
    if (n == 1) {
      return true;
    }
    int k = Integer.highestOneBit(n - 1);
    boolean left = index - from < k;
    if (!(left ? climb(hash, index, from, from + k, path, used) : climb(hash, index, from + k, to, path, used))) {
      return false;
    }
    if (used[0] >= path.size()) {
      return false;
    }
    byte[] sibling = path.get(used[0]++);
    hash[0] = left ? node(hash[0], sibling) : node(sibling, hash[0]);
    return true;
  }

  /** What a node signs for seal {@code seq} of the link with {@code nonce}: {@code count} results with Merkle root {@code rootHex}. */
  public static byte[] message(String nonce, long seq, int count, String rootHex) {
    return ("inferium-seal|" + nonce + "|" + seq + "|" + count + "|" + rootHex).getBytes(StandardCharsets.UTF_8);
  }

  /** A signed seal as it travels in a SEAL frame: sequence number, result count, root (hex), signature (base64). */
  public record Sealed(long seq, int count, String root, String signature) {}

  /**
   * The node's side: leaves of the results sent since the last seal. Not thread-safe: the worker
   * adds and seals under the lock that orders its writes, so the window's order is the wire order.
   */
  public static final class Window {
    private final NodeKeys keys;
    private final String nonce;
    private final List<byte[]> leaves = new ArrayList<>();
    private long seq;
    private long firstNanos;

    public Window(NodeKeys keys, String nonce) {
      this.keys = keys;
      this.nonce = nonce;
    }

    /** Adds a sent result; the window's size after it. */
    public int add(long correlationId, String modelSha256, String outputSha256) {
      if (leaves.isEmpty()) {
        firstNanos = System.nanoTime();
      }
      leaves.add(leaf(correlationId, modelSha256, outputSha256));
      return leaves.size();
    }

    public int size() {
      return leaves.size();
    }

    /** The sequence number the next seal will carry: it names the open window. */
    public long seq() {
      return seq;
    }

    /** {@link System#nanoTime} when the oldest unsealed result was added. */
    public long firstNanos() {
      return firstNanos;
    }

    /** Signs the window and starts the next; empty when no result is unsealed. */
    public Optional<Sealed> seal() {
      if (leaves.isEmpty()) {
        return Optional.empty();
      }
      String root = HexFormat.of().formatHex(root(leaves));
      long s = seq++;
      int count = leaves.size();
      leaves.clear();
      return Optional.of(new Sealed(s, count, root, Base64.getEncoder().encodeToString(keys.sign(message(nonce, s, count, root)))));
    }
  }

  /**
   * The gateway's side: checks each seal against the leaves of the results the gateway itself
   * received, in order. Seals must come in sequence; not thread-safe (one link's seals are checked
   * one after the other).
   */
  public static final class Checker {
    private final NodeKeys.Verifier key;
    private final String nodeId;
    private final String nonce;
    private long next;

    /** {@code key} is the node's (null when its key does not parse: every seal then fails). */
    public Checker(NodeKeys.Verifier key, String nodeId, String nonce) {
      this.key = key;
      this.nodeId = nodeId;
      this.nonce = nonce;
    }

    /** Empty when {@code seal} signs exactly {@code received} (leaves, in arrival order); otherwise why not. */
    public Optional<String> check(Sealed seal, List<byte[]> received) {
      long expected = next++;
      if (seal.seq() != expected) {
        return Optional.of("node " + nodeId + " sent seal " + seal.seq() + " where seal " + expected + " was due");
      }
      if (seal.count() != received.size() || received.isEmpty()) {
        return Optional.of("node " + nodeId + " sealed " + seal.count() + " results where the gateway received "
            + received.size());
      }
      String root = HexFormat.of().formatHex(root(received));
      if (!root.equals(seal.root())) {
        return Optional.of("node " + nodeId + " sealed root " + abbreviate(seal.root()) + " over " + seal.count()
            + " results; the results the gateway received hash to " + abbreviate(root));
      }
      byte[] signature;
      try {
        signature = seal.signature() == null ? null : Base64.getDecoder().decode(seal.signature());
      } catch (IllegalArgumentException e) {
        signature = null;
      }
      if (key == null || !key.verify(message(nonce, seal.seq(), seal.count(), seal.root()), signature)) {
        return Optional.of("node " + nodeId + " sent seal " + seal.seq() + " whose signature does not verify");
      }
      return Optional.empty();
    }
  }

  private static String abbreviate(String hex) {
    return hex == null ? "nothing" : hex.substring(0, Math.min(12, hex.length()));
  }
}
