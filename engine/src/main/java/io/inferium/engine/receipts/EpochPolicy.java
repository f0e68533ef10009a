package io.inferium.engine.receipts;

/**
 * When the receipts waiting outside any epoch become one: at {@code size} of them (N), or once the oldest has
 * waited {@code maxAgeMs} (T) — so a quiet gateway still anchors within T, and a busy one in epochs of N.
 * Also the backoff of failed anchoring attempts. Pure: the closer's decisions, testable without a database.
 */
public final class EpochPolicy {

  private final int size;
  private final long maxAgeMs;

  EpochPolicy(int size, long maxAgeMs) {
    this.size = size;
    this.maxAgeMs = maxAgeMs;
  }

  /** Whether to close an epoch now, given how many receipts wait and how long the oldest has (ms). */
  boolean shouldClose(long waiting, long oldestWaitingMs) {
    return waiting >= size || (waiting > 0 && oldestWaitingMs >= maxAgeMs);
  }

  /** How often the closer looks: a quarter of T, between 50 ms and 1 s. */
  long tickMs() {
    return Math.max(50, Math.min(1_000, maxAgeMs / 4));
  }

  /** The pause before attempt {@code failures + 1} after {@code failures} failures in a row (≥ 1): doubling, capped. */
  public static long backoffMs(int failures, long minMs, long maxMs) {
    int doublings = Math.max(0, Math.min(30, failures - 1));
    long pause = minMs << doublings;
    return pause <= 0 || pause > maxMs ? maxMs : pause;
  }
}
