package io.inferium.engine.api;

import io.inferium.engine.auth.RateLimiter;
import io.inferium.engine.auth.Tier;
import io.inferium.engine.auth.Tiers;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.functions.FunctionKind;

/**
 * A tier's per-modality limits on {@code predict} ({@link Tier#imagesPerMinute()}, {@link Tier#mediaSecondsPerMinute()},
 * {@link Tier#maxMediaSeconds()}): images a minute and audio plus video seconds a minute as token buckets per tenant
 * (429 with {@code Retry-After} naming the limit), seconds in one request (413 naming it). A request that alone is more
 * than a minute's allowance is a 413: waiting would never let it through. Counted from what the headers declare,
 * before anything is queued.
 */
final class MediaLimits {

  private final Tiers tiers;
  private final EngineMetrics metrics;
  private final RateLimiter images = new RateLimiter();
  private final RateLimiter seconds = new RateLimiter();

  MediaLimits(Tiers tiers, EngineMetrics metrics) {
    this.tiers = tiers;
    this.metrics = metrics;
  }

  /** Throws the 413 or 429 a request of {@code count} files and {@code millis} of audio or video is over. */
  void check(Tier tier, String tenantId, FunctionKind kind, int count, long millis) {
    if (tier == null || tenantId == null) {
      return;
    }
    if (kind.image()) {
      take(tier, tenantId, images, tier.imagesPerMinute(), count, "images_per_minute", "images");
      return;
    }
    long secs = (millis + 999) / 1000;
    Integer max = tier.maxMediaSeconds();
    if (max != null && secs > max) {
      metrics.limited("max_media_seconds", tier.name());
      throw new ApiError(413, "the request has " + secs + " s of " + kind.wire() + ", more than tier " + tier.name()
          + " allows in one request (max_media_seconds: " + max + ")" + upgrade(tier, Tier::maxMediaSeconds, max));
    }
    take(tier, tenantId, seconds, tier.mediaSecondsPerMinute(), (int) Math.min(Integer.MAX_VALUE, secs),
        "media_seconds_per_minute", "seconds of audio and video");
  }

  private void take(Tier tier, String tenantId, RateLimiter bucket, Integer perMinute, int amount, String limit, String what) {
    if (perMinute == null || amount == 0) {
      return;
    }
    if (amount > perMinute) {
      metrics.limited(limit, tier.name());
      throw new ApiError(413, "the request has " + amount + " " + what + ", more than tier " + tier.name() + " allows a minute ("
          + limit + ": " + perMinute + ")" + upgrade(tier, t -> limitOf(t, limit), perMinute));
    }
    long wait = bucket.take(tenantId, perMinute, amount).retryAfterSeconds();
    if (wait > 0) {
      metrics.limited(limit, tier.name());
      throw new ApiError(429, "tier " + tier.name() + " allows " + perMinute + " " + what + " a minute (" + limit
          + "); retry in " + wait + " s" + upgrade(tier, t -> limitOf(t, limit), perMinute), (int) Math.min(wait, Integer.MAX_VALUE));
    }
  }

  private static Integer limitOf(Tier t, String limit) {
    return limit.equals("images_per_minute") ? t.imagesPerMinute() : t.mediaSecondsPerMinute();
  }

  /** "; tier X allows N" for the first tier up the order that lifts the limit, else "". */
  private String upgrade(Tier tier, java.util.function.Function<Tier, Integer> limit, int current) {
    return tiers.lifting(tier.name(), t -> limit.apply(t) == null || limit.apply(t) > current)
        .map(t -> "; tier " + t + " allows " + (limit.apply(tiers.get(t).orElseThrow()) == null ? "more"
            : limit.apply(tiers.get(t).orElseThrow()))).orElse("");
  }
}
