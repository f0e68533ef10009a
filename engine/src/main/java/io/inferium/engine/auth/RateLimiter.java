package io.inferium.engine.auth;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Requests per minute per tenant, as token buckets that refill continuously up to one minute's
 * allowance. Bounded by the number of tenants.
 */
public final class RateLimiter {

  private static final long MINUTE_NANOS = TimeUnit.MINUTES.toNanos(1);

  private static final class Bucket {
    double tokens;
    long updated;
    /** The allowance it was last taken from (the tenant's tier may change). */
    int rate;
  }

  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  /**
   * What one {@link #acquire} decided, with what a client needs to pace itself (OpenAI's
   * {@code x-ratelimit-*} headers): the allowance, whole requests left, whole seconds until the bucket is
   * full again, and (when refused) whole seconds until one request is back.
   */
  public record Grant(int limit, long remaining, long resetSeconds, long retryAfterSeconds) {
    public boolean allowed() {
      return retryAfterSeconds == 0;
    }
  }

  /**
   * Takes one request from the tenant's bucket. Returns 0 when allowed, otherwise the whole seconds
   * until a token is back (for {@code Retry-After}).
   */
  public long acquire(String tenantId, int perMinute) {
    return take(tenantId, perMinute).retryAfterSeconds();
  }

  /** Takes one request from the tenant's bucket, saying what is left. */
  public Grant take(String tenantId, int perMinute) {
    return take(tenantId, perMinute, 1);
  }

  /**
   * Takes {@code amount} units (at most {@code perMinute}) from the tenant's bucket, or none when fewer are left;
   * the retry time is until that many are back.
   */
  public Grant take(String tenantId, int perMinute, int amount) {
    Bucket b = buckets.computeIfAbsent(tenantId, k -> {
      Bucket fresh = new Bucket();
      fresh.tokens = perMinute;
      fresh.updated = System.nanoTime();
      fresh.rate = perMinute;
      return fresh;
    });
    synchronized (b) {
      long now = System.nanoTime();
      if (perMinute > b.rate) {
        // A tenant moved to a tier with a higher allowance has the difference at once, not a minute's refill later.
        b.tokens += perMinute - b.rate;
      }
      b.rate = perMinute;
      b.tokens = Math.min(perMinute, b.tokens + (double) (now - b.updated) * perMinute / MINUTE_NANOS);
      b.updated = now;
      long retryAfter = 0;
      if (b.tokens >= amount) {
        b.tokens -= amount;
      } else {
        double nanosToToken = (amount - b.tokens) * MINUTE_NANOS / perMinute;
        retryAfter = Math.max(1, (long) Math.ceil(nanosToToken / 1e9));
      }
      long reset = (long) Math.ceil((perMinute - b.tokens) * MINUTE_NANOS / perMinute / 1e9);
      return new Grant(perMinute, (long) Math.floor(b.tokens), reset, retryAfter);
    }
  }
}
