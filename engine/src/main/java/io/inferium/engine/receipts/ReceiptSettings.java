package io.inferium.engine.receipts;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Receipts of answered requests (issue 13): how epochs close and, when a chain is configured, where their roots
 * are anchored. Without a chain, receipts, epochs, roots and proofs are still computed and served ("anchoring off").
 *
 * @param epochSize     an epoch closes once this many receipts wait (N)
 * @param epochMs       … or once the oldest waiting receipt is this old (T), whatever their number
 * @param chain         where roots are anchored; null for none
 * @param retryMinMs    first pause after a failed anchoring (RPC down, not confirmed in time); doubles up to
 * @param retryMaxMs    this pause
 */
public record ReceiptSettings(int epochSize, long epochMs, Chain chain, long retryMinMs, long retryMaxMs) {

  public static final int DEFAULT_EPOCH_SIZE = 1024;
  public static final long DEFAULT_EPOCH_MS = 60_000;
  public static final long DEFAULT_RETRY_MIN_MS = 1_000;
  public static final long DEFAULT_RETRY_MAX_MS = 60_000;
  /** The largest epoch: the tree of one is built in memory on every lookup of one of its receipts. */
  public static final int MAX_EPOCH_SIZE = 65_536;

  /**
   * The chain roots go to.
   *
   * @param rpcUrl         JSON-RPC endpoint
   * @param keyFile        the anchoring key (64 hex digits; it needs {@code ANCHOR_ROLE} on the anchor contract)
   * @param deploymentFile the contracts' addresses, as {@code inferium chain deploy} writes them
   * @param confirmations  blocks (including the commit's own) before a root counts as anchored
   * @param confirmationLimitMs how long one attempt waits for them before it counts as failed and is retried
   */
  public record Chain(String rpcUrl, Path keyFile, Path deploymentFile, int confirmations, long confirmationLimitMs) {

    public static final int DEFAULT_CONFIRMATIONS = 1;
    public static final long DEFAULT_CONFIRMATION_LIMIT_MS = 120_000;

    public Chain {
      if (rpcUrl == null || !(rpcUrl.startsWith("http://") || rpcUrl.startsWith("https://"))) {
        throw new IllegalArgumentException("--chain-rpc: expected an http(s):// URL, got " + rpcUrl);
      }
      Objects.requireNonNull(keyFile, "--chain-key-file is required with --chain-rpc");
      Objects.requireNonNull(deploymentFile, "--chain-deployment is required with --chain-rpc");
      if (confirmations < 1 || confirmations > 1000) {
        throw new IllegalArgumentException("--chain-confirmations: expected 1..1000, got " + confirmations);
      }
      if (confirmationLimitMs < 1) {
        throw new IllegalArgumentException("confirmation limit: expected > 0 ms, got " + confirmationLimitMs);
      }
    }
  }

  public ReceiptSettings {
    if (epochSize < 1 || epochSize > MAX_EPOCH_SIZE) {
      throw new IllegalArgumentException("--receipt-epoch-size: expected 1.." + MAX_EPOCH_SIZE + ", got " + epochSize);
    }
    if (epochMs < 1) {
      throw new IllegalArgumentException("--receipt-epoch-seconds: expected > 0, got " + epochMs + " ms");
    }
    if (retryMinMs < 1 || retryMaxMs < retryMinMs) {
      throw new IllegalArgumentException("anchoring retry: expected 1 <= min <= max, got " + retryMinMs + ".." + retryMaxMs);
    }
  }

  /** N = 1024 receipts or T = 60 s, no chain. */
  public static ReceiptSettings defaults() {
    return new ReceiptSettings(DEFAULT_EPOCH_SIZE, DEFAULT_EPOCH_MS, null, DEFAULT_RETRY_MIN_MS, DEFAULT_RETRY_MAX_MS);
  }

  public ReceiptSettings withEpoch(int size, long ms) {
    return new ReceiptSettings(size, ms, chain, retryMinMs, retryMaxMs);
  }

  public ReceiptSettings withChain(Chain c) {
    return new ReceiptSettings(epochSize, epochMs, c, retryMinMs, retryMaxMs);
  }

  public ReceiptSettings withRetry(long minMs, long maxMs) {
    return new ReceiptSettings(epochSize, epochMs, chain, minMs, maxMs);
  }
}
