package io.inferium.engine.api;

import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.engine.auth.Principal;
import io.inferium.engine.auth.RateLimiter;
import io.inferium.engine.auth.Tenants;
import io.inferium.engine.auth.Tier;
import io.inferium.engine.auth.Tiers;
import io.inferium.verifier.Verifier;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;

/**
 * A tenant's tier limits at the gateway: requests per minute (429 with {@code Retry-After}) and
 * model storage (402 naming the limit and the tier that lifts it). Platform keys have no tier and
 * no limits.
 */
final class Limits {

  private final Tiers tiers;
  private final Tenants tenants;
  private final RateLimiter rates = new RateLimiter();
  private final EngineMetrics metrics;

  Limits(Tiers tiers, Tenants tenants, EngineMetrics metrics) {
    this.tiers = tiers;
    this.tenants = tenants;
    this.metrics = metrics;
    this.mediaLimits = new MediaLimits(tiers, metrics);
  }

  private Tier tier(Principal who) {
    return who.tier() == null ? null : tiers.get(who.tier()).orElse(tiers.defaultTier());
  }

  private final MediaLimits mediaLimits;

  /**
   * Counts a {@code predict} request's media against the caller's tier limits per modality ({@link MediaLimits}):
   * a failed future with the 413 or 429.
   */
  Future<Void> media(Principal who, io.inferium.functions.FunctionKind kind, int count, long millis) {
    try {
      mediaLimits.check(tier(who), who.tenantId(), kind, count, millis);
      return Future.succeededFuture();
    } catch (ApiError e) {
      return Future.failedFuture(e);
    }
  }

  /** Counts one request against the caller's rate; throws a 429 when over it. */
  void request(Principal who) {
    request(who, null);
  }

  /**
   * Counts one request against the caller's rate and, when {@code response} is given, says where the caller
   * stands in OpenAI's {@code x-ratelimit-*-requests} headers (on the refusal too); throws a 429 when over it.
   */
  void request(Principal who, HttpServerResponse response) {
    Tier tier = tier(who);
    if (tier == null) {
      return;
    }
    RateLimiter.Grant grant = rates.take(who.tenantId(), tier.requestsPerMinute());
    if (response != null) {
      response.putHeader("x-ratelimit-limit-requests", Integer.toString(grant.limit()))
          .putHeader("x-ratelimit-remaining-requests", Long.toString(grant.remaining()))
          .putHeader("x-ratelimit-reset-requests", grant.resetSeconds() + "s");
    }
    long wait = grant.retryAfterSeconds();
    if (wait > 0) {
      metrics.limited("rate", tier.name());
      String upgrade = tiers.lifting(tier.name(), t -> t.requestsPerMinute() > tier.requestsPerMinute())
          .map(t -> "; tier " + t + " allows " + tiers.get(t).orElseThrow().requestsPerMinute() + "/minute").orElse("");
      throw new ApiError(429, "rate limit of tier " + tier.name() + " reached (" + tier.requestsPerMinute()
          + " requests/minute); retry in " + wait + " s" + upgrade, (int) Math.min(wait, Integer.MAX_VALUE));
    }
  }

  private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger> generating =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Counts a generation against the tier's concurrent-generation limit (429 when over it); the
   * returned action gives the slot back and must run exactly once.
   */
  Runnable generation(Principal who) {
    Tier tier = tier(who);
    if (tier == null) {
      return () -> { };
    }
    java.util.concurrent.atomic.AtomicInteger n = generating.computeIfAbsent(who.tenantId(), k -> new java.util.concurrent.atomic.AtomicInteger());
    if (n.incrementAndGet() > tier.maxConcurrentGenerations()) {
      n.decrementAndGet();
      metrics.limited("concurrent_generations", tier.name());
      String upgrade = tiers.lifting(tier.name(), t -> t.maxConcurrentGenerations() > tier.maxConcurrentGenerations())
          .map(t -> "; tier " + t + " allows " + tiers.get(t).orElseThrow().maxConcurrentGenerations()).orElse("");
      throw new ApiError(429, "tier " + tier.name() + " allows " + tier.maxConcurrentGenerations()
          + " concurrent generation(s) and this tenant has that many running" + upgrade, 1);
    }
    java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        n.decrementAndGet();
      }
    };
  }

  /**
   * Benchmark runs a tenant may have running at once, and start in 24 hours: environment
   * {@code INFERIUM_BENCH_MAX_RUNNING} (default 1) and {@code INFERIUM_BENCH_DAILY} (default 20), or the
   * system properties {@code inferium.bench.max-running} and {@code inferium.bench.daily}, read at start.
   */
  private final int benchmarksRunning = (int) setting("INFERIUM_BENCH_MAX_RUNNING", "inferium.bench.max-running", 1);
  private final int benchmarksPerDay = (int) setting("INFERIUM_BENCH_DAILY", "inferium.bench.daily", 20);

  private static long setting(String env, String property, long fallback) {
    String v = System.getProperty(property, System.getenv(env));
    return v == null || v.isBlank() ? fallback : Long.parseLong(v.strip());
  }

  private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger> benchmarking =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Counts a user-started benchmark run against the tenant's concurrent runs (429 when it has
   * the configured number of running); the returned action gives the slot back and must run exactly
   * once. Platform keys (no tenant) are not limited: their runs are the platform's.
   */
  Runnable benchmark(Principal who) {
    if (who.tenantId() == null) {
      return () -> { };
    }
    java.util.concurrent.atomic.AtomicInteger n = benchmarking.computeIfAbsent(who.tenantId(),
        k -> new java.util.concurrent.atomic.AtomicInteger());
    if (n.incrementAndGet() > benchmarksRunning) {
      n.decrementAndGet();
      metrics.limited("benchmark_running", who.tier() == null ? "none" : who.tier());
      throw new ApiError(429, "this tenant already has " + benchmarksRunning + " benchmark run(s) running; retry when "
          + (benchmarksRunning == 1 ? "it finishes" : "one finishes"), 30);
    }
    java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        n.decrementAndGet();
      }
    };
  }

  /** Fails with 429 when the tenant has started the configured number of runs in the last 24 hours. */
  Future<Void> benchmarksToday(Principal who, Future<Long> startedToday) {
    return startedToday.compose(n -> {
      if (n < benchmarksPerDay) {
        return Future.succeededFuture();
      }
      metrics.limited("benchmark_daily", who.tier() == null ? "none" : who.tier());
      return Future.failedFuture(new ApiError(429, "this tenant started " + n + " benchmark runs in the last 24 hours, "
          + "the limit is " + benchmarksPerDay, 3600));
    });
  }

  /** Month-to-date charges per tenant: loaded from the usage store once a minute, counted up locally in between. */
  private final java.util.concurrent.ConcurrentHashMap<String, Spent> spent = new java.util.concurrent.ConcurrentHashMap<>();
  private io.inferium.scoring.UsageMeter meter;
  private static final long QUOTA_FLUSH_WAIT_MS = 500;

  private static final class Spent {
    final java.util.concurrent.atomic.AtomicLong microUsd = new java.util.concurrent.atomic.AtomicLong();
    volatile long loadedAt;
    volatile java.time.YearMonth month;
  }

  void meter(io.inferium.scoring.UsageMeter meter) {
    this.meter = meter;
  }

  /** Counts a charge against the tenant's month. */
  void charged(Principal who, long microUsd) {
    if (who.tenantId() != null) {
      spent.computeIfAbsent(who.tenantId(), k -> new Spent()).microUsd.addAndGet(microUsd);
    }
  }

  /**
   * Fails with 402 when the caller's tier has a hard quota and its monthly included amount is used
   * up; otherwise succeeds (refreshing the month's total from the usage store when it is stale).
   */
  Future<Void> monthly(Principal who) {
    Tier tier = tier(who);
    if (tier == null || !tier.hardQuota() || tier.monthlyIncludedMicroUsd() == null || meter == null) {
      return Future.succeededFuture();
    }
    Spent s = spent.computeIfAbsent(who.tenantId(), k -> new Spent());
    java.time.ZonedDateTime now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
    java.time.YearMonth month = java.time.YearMonth.from(now);
    Future<Void> fresh = Future.succeededFuture();
    if (!month.equals(s.month) || System.nanoTime() - s.loadedAt > java.util.concurrent.TimeUnit.MINUTES.toNanos(1)) {
      // A request waits at most half a second for billing: past that the total read may miss charges
      // not yet stored (a brief undercount), which beats holding requests while the database is down.
      fresh = meter.flush(QUOTA_FLUSH_WAIT_MS).otherwiseEmpty()
          .compose(v -> meter.summary(who.tenantId(), false, month.atDay(1).atStartOfDay(java.time.ZoneOffset.UTC).toInstant(),
              now.toInstant().plusSeconds(1), "function"))
          .map(summary -> {
            s.microUsd.set(summary.getLong("charge_micro_usd"));
            s.month = month;
            s.loadedAt = System.nanoTime();
            return (Void) null;
          })
          .recover(err -> {
            if (!month.equals(s.month)) {
              return Future.failedFuture(err);
            }
            // The total read earlier this month, counted up here since, stands in until the store answers (asked
            // again in 5 s): a tenant is neither cut off nor let past its quota by a database outage.
            s.loadedAt = System.nanoTime() - java.util.concurrent.TimeUnit.SECONDS.toNanos(55);
            return Future.succeededFuture();
          });
    }
    return fresh.compose(v -> {
      long used = s.microUsd.get();
      if (used < tier.monthlyIncludedMicroUsd()) {
        return Future.succeededFuture();
      }
      metrics.limited("monthly", tier.name());
      String upgrade = tiers.lifting(tier.name(), t -> t.monthlyIncludedMicroUsd() == null || !t.hardQuota()
              || t.monthlyIncludedMicroUsd() > used)
          .map(t -> "; tier " + t + " " + (tiers.get(t).orElseThrow().hardQuota() ? "includes more" : "bills usage beyond it"))
          .orElse("");
      return Future.failedFuture(new ApiError(402, "monthly included usage of tier " + tier.name() + " is used up ("
          + used + " of " + tier.monthlyIncludedMicroUsd() + " micro-dollars this month)" + upgrade));
    });
  }

  /**
   * Refuses (402) a per-request policy that runs a batch on more workers than the caller's tier allows:
   * {@code redundant(k)} on k, {@code audit(p)} with p above 0 on the server and {@link Verifier#AUDITORS} more (its
   * audits go ahead of other callers' batches, so without this cap any caller could triple its share of the workers).
   */
  void verification(Principal who, io.inferium.functions.FunctionSpec.Verification v) {
    Tier tier = tier(who);
    if (tier == null || v == null) {
      return;
    }
    int workers = v.redundant() ? v.k() : v.audit() && v.auditFraction() > 0 ? 1 + Verifier.AUDITORS : 1;
    if (workers <= tier.maxRedundancy()) {
      return;
    }
    metrics.limited("redundancy", tier.name());
    String upgrade = tiers.lifting(tier.name(), t -> t.maxRedundancy() >= workers)
        .map(t -> "; tier " + t + " allows " + tiers.get(t).orElseThrow().maxRedundancy()).orElse("");
    String asked = v.redundant() ? "redundant(" + v.k() + ")"
        : "audit(" + v.auditFraction() + "), which re-runs an audited batch on " + workers + " workers,";
    throw new ApiError(402, asked + " exceeds tier " + tier.name() + "'s limit of "
        + tier.maxRedundancy() + " workers per request" + upgrade);
  }

  /** Bytes of uploads that passed the storage check and are not yet stored as a function version, per tenant. */
  private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicLong> reservedBytes =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Fails with 402 when storing {@code addBytes} more would exceed the caller's storage quota. Every
   * function version counts its model bytes, however many versions or names share the same bytes.
   * On success the bytes stay reserved (so concurrent uploads cannot all pass the same check) until the
   * returned action runs, which the caller does once the version is recorded or the deploy failed.
   */
  Future<Runnable> storage(Principal who, long addBytes) {
    Tier tier = tier(who);
    if (tier == null) {
      return Future.succeededFuture(() -> { });
    }
    java.util.concurrent.atomic.AtomicLong reserved = reservedBytes.computeIfAbsent(who.tenantId(),
        k -> new java.util.concurrent.atomic.AtomicLong());
    reserved.addAndGet(addBytes);
    Runnable release = ConnectionGuard.once(() -> reserved.addAndGet(-addBytes));
    return tenants.storageBytes(who.tenantId()).compose(stored -> {
      long used = stored + reserved.get() - addBytes;
      if (used + addBytes <= tier.storageBytes()) {
        return Future.succeededFuture(release);
      }
      release.run();
      return Future.failedFuture(overStorage(tier, used, addBytes));
    }, err -> {
      release.run();
      return Future.failedFuture(err);
    });
  }

  private ApiError overStorage(Tier tier, long used, long addBytes) {
    metrics.limited("storage", tier.name());
    String upgrade = tiers.lifting(tier.name(), t -> t.storageBytes() >= used + addBytes)
        .map(t -> "; tier " + t + " allows " + mib(tiers.get(t).orElseThrow().storageBytes())).orElse("");
    return new ApiError(402, "model storage quota of tier " + tier.name() + " exceeded: "
        + mib(used) + " used + " + mib(addBytes) + " uploaded > " + mib(tier.storageBytes())
        + " (every function version counts its model bytes and its spec's example inputs)" + upgrade);
  }

  private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger> uploading =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger> streaming =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Counts a model upload against the tier's concurrent-upload limit (429 beyond it); run the result once when it ends. */
  Runnable upload(Principal who) {
    Tier tier = tier(who);
    return tier == null ? () -> { } : hold(uploading, who, tier, "concurrent_uploads", tier.maxConcurrentUploads(),
        Tier::maxConcurrentUploads, "upload(s) in progress", "uploads at once");
  }

  /** Counts an event stream (leaderboard or streamed generation) against the tier's limit (429 beyond it). */
  Runnable stream(Principal who) {
    Tier tier = tier(who);
    return tier == null ? () -> { } : hold(streaming, who, tier, "streams", tier.maxStreams(), Tier::maxStreams,
        "event stream(s) open", "open event streams");
  }

  private Runnable hold(java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger> counts,
      Principal who, Tier tier, String limit, int max, java.util.function.ToIntFunction<Tier> of, String what, String unit) {
    java.util.concurrent.atomic.AtomicInteger n = counts.computeIfAbsent(who.tenantId(), k -> new java.util.concurrent.atomic.AtomicInteger());
    if (n.incrementAndGet() > max) {
      n.decrementAndGet();
      metrics.limited(limit, tier.name());
      String upgrade = tiers.lifting(tier.name(), t -> of.applyAsInt(t) > max)
          .map(t -> "; tier " + t + " allows " + of.applyAsInt(tiers.get(t).orElseThrow())).orElse("");
      throw new ApiError(429, "tier " + tier.name() + " allows " + max + " " + unit + " and this tenant has " + max
          + " " + what + upgrade, 1);
    }
    return ConnectionGuard.once(n::decrementAndGet);
  }

  /**
   * Deployments this caller's tenant may have waiting for (or in) verification; unlimited for platform
   * keys. The deploy pipeline enforces it, so one tenant cannot fill the shared verification queue.
   */
  int pendingVerifications(Principal who) {
    Tier tier = tier(who);
    return tier == null ? Integer.MAX_VALUE : tier.maxPendingVerifications();
  }

  /** A 429 naming the tier, for a tenant whose verification share is used up. */
  ApiError tooManyVerifications(Principal who, int pending) {
    Tier tier = tier(who);
    metrics.limited("pending_verifications", tier.name());
    String upgrade = tiers.lifting(tier.name(), t -> t.maxPendingVerifications() > tier.maxPendingVerifications())
        .map(t -> "; tier " + t + " allows " + tiers.get(t).orElseThrow().maxPendingVerifications()).orElse("");
    return new ApiError(429, "tier " + tier.name() + " allows " + tier.maxPendingVerifications()
        + " deployment(s) waiting for verification and this tenant has " + pending + "; retry when one is verified" + upgrade, 10);
  }

  /**
   * Refuses (403) a priority more urgent than the caller's tier grants. Platform keys (no tier) may ask
   * for any; internal benchmark runs do not come through here and keep their own (9).
   */
  void priority(Principal who, int priority) {
    Tier tier = tier(who);
    if (tier == null || priority >= tier.mostUrgentPriority()) {
      return;
    }
    metrics.limited("priority", tier.name());
    String upgrade = tiers.lifting(tier.name(), t -> t.mostUrgentPriority() <= priority)
        .map(t -> "; tier " + t + " allows " + priority).orElse("");
    throw new ApiError(403, "parameter 'priority': " + priority + " is more urgent than tier " + tier.name() + " allows ("
        + tier.mostUrgentPriority() + " to 9; 1 is served first)" + upgrade);
  }

  private static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }
}
