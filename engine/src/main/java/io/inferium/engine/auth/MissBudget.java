package io.inferium.engine.auth;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How many unknown API keys may cost a database lookup: a token bucket per remote address and one
 * for the whole gateway. A lookup takes a token from both (so concurrent lookups cannot overdraw
 * them) and gets it back when the key turned out to exist, so real keys never use the budget up. The
 * per-address map is bounded (the least recently seen addresses are forgotten, which only ever gives
 * an address a fresh bucket, while the global bucket still caps the total).
 */
final class MissBudget {

  static final int MAX_ADDRESSES = 10_000;
  private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final class Bucket {
    double tokens;
    long updated;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.updated = now;
    }

    void refill(long now, double burst, double perSecond) {
      tokens = Math.min(burst, tokens + (double) (now - updated) * perSecond / SECOND_NANOS);
      updated = now;
    }

    long secondsToToken(double perSecond) {
      return tokens >= 1 ? 0 : Math.max(1, (long) Math.ceil((1 - tokens) / perSecond));
    }
  }

  private final double perAddressBurst;
  private final double perAddressPerSecond;
  private final double globalBurst;
  private final double globalPerSecond;
  private final Bucket global;
  private final Map<String, Bucket> addresses = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
      return size() > MAX_ADDRESSES;
    }
  };

  MissBudget(double perAddressBurst, double perAddressPerSecond, double globalBurst, double globalPerSecond) {
    this.perAddressBurst = perAddressBurst;
    this.perAddressPerSecond = perAddressPerSecond;
    this.globalBurst = globalBurst;
    this.globalPerSecond = globalPerSecond;
    this.global = new Bucket(globalBurst, System.nanoTime());
  }

  /** 20 unknown keys at once per address, then one a second; 2,000 at once overall, then 1,000 a second. */
  static MissBudget defaults() {
    return new MissBudget(20, 1, 2000, 1000);
  }

  /**
   * Takes a lookup token for {@code address}: 0 when the lookup may go to the database, else the
   * seconds until it may (nothing taken then).
   */
  synchronized long admit(String address) {
    long now = System.nanoTime();
    global.refill(now, globalBurst, globalPerSecond);
    Bucket own = addresses.computeIfAbsent(address, a -> new Bucket(perAddressBurst, now));
    own.refill(now, perAddressBurst, perAddressPerSecond);
    long wait = Math.max(own.secondsToToken(perAddressPerSecond), global.secondsToToken(globalPerSecond));
    if (wait == 0) {
      own.tokens -= 1;
      global.tokens -= 1;
    }
    return wait;
  }

  /** Addresses with a bucket (bounded by {@link #MAX_ADDRESSES}). */
  synchronized int size() {
    return addresses.size();
  }

  /** The lookup found a real key: its token goes back. */
  synchronized void found(String address) {
    global.tokens = Math.min(globalBurst, global.tokens + 1);
    Bucket own = addresses.get(address);
    if (own != null) {
      own.tokens = Math.min(perAddressBurst, own.tokens + 1);
    }
  }
}
