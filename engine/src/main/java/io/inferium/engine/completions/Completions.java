package io.inferium.engine.completions;

import io.inferium.functions.CompletionEvent;
import io.inferium.infra.events.EventLog;
import io.inferium.scoring.UsageMeter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one downstream channel of the request path: every route that answers a function call hands its
 * {@link CompletionEvent} to {@link #emit} once, and lets the answer leave only when that completes.
 *
 * <p>{@link #emit} appends the event to {@link EventLog#COMPLETIONS} (durable: a file log fsynced per write
 * batch, so concurrent requests share one fsync, or Kafka behind such a local outbox) and completes with
 * {@code true} once it is durable, or {@code false} when the append failed (log full, disk error): that
 * answer then goes out unbilled and says so ({@code X-Inferium-Billed: false}, counted as
 * {@code inferium.usage.unbilled}). Nothing waits in memory for a retry, so a crash at any point loses no
 * billed request. Billing, the leaderboard's users and later receipts are consumer groups on the topic;
 * none of them is called from here (the meter only learns which ids to wait for in its reads).
 */
public final class Completions {

  private static final Logger log = LoggerFactory.getLogger(Completions.class);
  /**
   * System property that, set to {@code false}, makes {@link #emit} complete without waiting for the append
   * (the answer may then leave before its event is durable): only to measure what the wait costs.
   */
  public static final String WAIT_PROPERTY = "inferium.usage.waitDurable";

  /** Content up to this size is hashed on the calling event loop (about 0.4 ms at 600 MB/s); more on a worker. */
  public static final long INLINE_DIGEST_BYTES = 256 << 10;

  private final Vertx vertx;
  private final EventLog events;
  private final UsageMeter meter;
  private final MeterRegistry registry;
  private final Counter unbilled;
  private static final int MAX_CACHED_COUNTERS = 4096;
  private final java.util.concurrent.ConcurrentMap<String, Counter[]> billed = new java.util.concurrent.ConcurrentHashMap<>();
  private final boolean waitDurable = !"false".equals(System.getProperty(WAIT_PROPERTY));

  public Completions(Vertx vertx, EventLog events, UsageMeter meter, MeterRegistry registry) {
    this.vertx = vertx;
    this.events = events;
    this.meter = meter;
    this.registry = registry;
    this.unbilled = registry.counter("inferium.usage.unbilled");
  }

  /**
   * The two billing counters of a function and modality, looked up once: the registry would otherwise build a
   * tagged meter id per answered request. Bounded: past {@value #MAX_CACHED_COUNTERS} pairs (deleted functions
   * pile up in a long-running gateway) the cache starts over; the registry keeps the meters either way.
   */
  private Counter[] billedCounters(String function, String modality) {
    String key = function + '\0' + modality;
    Counter[] c = billed.get(key);
    if (c == null) {
      if (billed.size() >= MAX_CACHED_COUNTERS) {
        billed.clear();
      }
      c = new Counter[] {registry.counter("inferium.billed.micro.usd", "function", function),
          registry.counter("inferium.billed.units", "function", function, "modality", modality)};
      billed.put(key, c);
    }
    return c;
  }

  /**
   * Computes the call's input and output digests (inline when small, else on a worker thread, back on the
   * caller's context), puts them in the event and {@linkplain #emit(CompletionEvent) emits} it. A digest that
   * could not be computed is left out rather than the event: billing never depends on it.
   */
  public Future<Boolean> emit(CompletionEvent.Builder event, Digests digests) {
    Future<String[]> hashed = digests.bytes() <= INLINE_DIGEST_BYTES
        ? Future.succeededFuture(new String[] {digests.input().get(), digests.output().get()})
        : vertx.executeBlocking(() -> new String[] {digests.input().get(), digests.output().get()}, false);
    return hashed.transform(ar -> {
      if (ar.succeeded()) {
        event.inputSha256(ar.result()[0]).outputSha256(ar.result()[1]);
      }
      CompletionEvent built = event.build();
      if (ar.failed()) {
        log.atWarn().addKeyValue("completion_id", built.requestId())
            .log("Digests of a completion not computed, the event goes without them: {}", ar.cause().toString());
      }
      return emit(built);
    });
  }

  /**
   * Appends the completion event of one answered call. Completes with {@code true} once it is durable, or
   * {@code false} when it could not be written (the answer must then say it was not billed). Never fails,
   * never blocks.
   */
  public Future<Boolean> emit(CompletionEvent e) {
    meter.expect(e.requestId());
    Future<Boolean> durable = events.append(EventLog.COMPLETIONS, e.requestId(), e.toBuffer()).map(v -> {
      Counter[] billed = billedCounters(e.function(), e.modality());
      billed[0].increment(e.chargeMicroUsd());
      billed[1].increment(e.units());
      return true;
    }).otherwise(err -> {
      meter.abandon(e.requestId());
      unbilled.increment();
      // completion_id: the access line of the request names it too (with the request's request_id).
      log.atError().addKeyValue("completion_id", e.requestId())
          .log("Completion event {} not recorded, its answer goes out unbilled: {}", e.requestId(), err.toString());
      return false;
    });
    return waitDurable ? durable : Future.succeededFuture(true);
  }
}
