package io.inferium.scoring;

import io.inferium.infra.events.EventLog;
import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records usage durably before the answer leaves, and stores it exactly once.
 *
 * <p>{@link #record} appends the event to the {@code inferium.usage} topic of the {@link EventLog}
 * (durable: a file log fsynced per write batch, so concurrent requests share one fsync; or Kafka
 * behind such a local outbox) and completes when the append did: {@code true} once the event is
 * durable, {@code false} when the append failed (log full, disk error). Routes send the answer only
 * then, and an answer whose event could not be written goes out unbilled and says so; nothing waits
 * in memory for a retry, so a crash at any point loses no billed usage. The {@value #GROUP} group
 * consumes the topic and writes each batch with {@code INSERT … ON CONFLICT (id) DO NOTHING}; its
 * position is committed only after the insert succeeded. So an event redelivered after a crash, a
 * broker restart or a database outage counts once, and one that was acknowledged is never lost.
 */
public final class UsageMeter {

  private static final Logger log = LoggerFactory.getLogger(UsageMeter.class);
  /** The consumer group that stores usage into PostgreSQL. */
  public static final String GROUP = "billing";
  public static final long DEFAULT_FLUSH_WAIT_MS = 5_000;
  /**
   * System property that, set to {@code false}, makes {@link #record} complete without waiting for the
   * append (the answer may then leave before its usage is durable): only to measure what the wait costs.
   */
  public static final String WAIT_PROPERTY = "inferium.usage.waitDurable";
  private static final int MAX_TRACKED = 200_000;

  private final Vertx vertx;
  private final Pool pool;
  private PayoutLedger ledger = PayoutLedger.DEFAULT;
  private final EventLog events;
  private final MeterRegistry registry;
  private final long flushWaitMs;
  private final boolean waitDurable = !"false".equals(System.getProperty(WAIT_PROPERTY));
  // Events recorded here and not yet seen stored, in record order (id → sequence): what flush() waits for.
  private final LinkedHashMap<String, Long> unstored = new LinkedHashMap<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private long sequence;
  private volatile java.util.function.Consumer<java.util.Set<String>> flushed = fns -> { };
  private EventSubscription subscription;

  private record Waiter(long upTo, Promise<Void> promise) {
  }

  public UsageMeter(Vertx vertx, Pool pool, EventLog events, MeterRegistry registry) {
    this(vertx, pool, events, registry, DEFAULT_FLUSH_WAIT_MS);
  }

  public UsageMeter(Vertx vertx, Pool pool, EventLog events, MeterRegistry registry, long flushWaitMs) {
    this.vertx = vertx;
    this.pool = pool;
    this.events = events;
    this.registry = registry;
    this.flushWaitMs = flushWaitMs;
    Gauge.builder("inferium.usage.pending", this, m -> m.pendingCount())
        .description("Usage events recorded here and not yet stored in the database").register(registry);
    registry.counter("inferium.usage.unbilled");
  }

  /** How charges are split into payout rows (default {@link PayoutLedger#DEFAULT}); set before {@link #start}. */
  public UsageMeter payouts(PayoutLedger ledger) {
    this.ledger = ledger;
    return this;
  }

  /** Starts the billing consumer. */
  public Future<Void> start() {
    return events.subscribe(EventLog.USAGE, GROUP, this::store).onSuccess(s -> subscription = s).mapEmpty();
  }

  /** Stops consuming; what is appended but not stored stays in the log for the next start. */
  public Future<Void> stop() {
    synchronized (this) {
      waiters.forEach(w -> w.promise().tryFail("usage meter stopped"));
      waiters.clear();
    }
    return subscription == null ? Future.succeededFuture() : subscription.close();
  }

  /** Events recorded by this process that are not yet stored. */
  public synchronized int pendingCount() {
    return unstored.size();
  }

  /**
   * Appends one event. Completes with {@code true} once it is durable in the event log, or with
   * {@code false} when the append failed: the request is then not billed (counted as
   * {@code inferium.usage.unbilled}) and its answer must say so. Never fails, never blocks.
   */
  public Future<Boolean> record(UsageEvent e) {
    synchronized (this) {
      unstored.remove(e.id());
      unstored.put(e.id(), ++sequence);
      if (unstored.size() > MAX_TRACKED) {
        // Only flush() uses this; forgetting the oldest makes it wait less, never bills differently.
        unstored.remove(unstored.keySet().iterator().next());
        wake();
      }
    }
    Future<Boolean> durable = events.append(EventLog.USAGE, e.id(), e.toJson()).map(v -> {
      registry.counter("inferium.billed.micro.usd", "function", e.function()).increment(e.chargeMicroUsd());
      registry.counter("inferium.billed.units", "function", e.function(), "modality", e.modality()).increment(e.units());
      return true;
    }).otherwise(err -> {
      synchronized (this) {
        unstored.remove(e.id());
        wake();
      }
      registry.counter("inferium.usage.unbilled").increment();
      log.error("Usage event {} not recorded, its answer goes out unbilled: {}", e.id(), err.toString());
      return false;
    });
    return waitDurable ? durable : Future.succeededFuture(true);
  }

  /** The billing consumer's handler: stores a batch; the log commits only when this succeeds. */
  private Future<Void> store(List<LogRecord> records) {
    List<UsageEvent> batch = new ArrayList<>(records.size());
    for (LogRecord r : records) {
      try {
        batch.add(UsageEvent.fromJson(r.value()));
      } catch (RuntimeException bad) {
        // A malformed record can never be stored; holding the group on it would stop all billing.
        registry.counter("inferium.usage.malformed").increment();
        log.error("Skipping malformed usage record at {}/{}: {}", r.topic(), r.offset(), bad.toString());
      }
    }
    return insert(batch).onSuccess(v -> stored(batch))
        .onFailure(err -> log.warn("Storing {} usage events failed, they will be redelivered: {}", batch.size(),
            err.getMessage()));
  }

  /**
   * Inserts events and their payout rows in one transaction, each id once: rows already there are
   * left alone, so a redelivered batch changes nothing.
   */
  public Future<Void> insert(List<UsageEvent> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Tuple> rows = batch.stream().map(e -> Tuple.of(e.id(), e.tenantId(), e.function(), e.version(), e.owner(),
        e.modality(), e.units(), e.computeUs(), e.chargeMicroUsd(), OffsetDateTime.ofInstant(e.at(), ZoneOffset.UTC)))
        .toList();
    List<Tuple> payouts = batch.stream().flatMap(e -> ledger.rows(e).stream()).toList();
    return pool.withTransaction(conn -> conn.preparedQuery("INSERT INTO usage_events (id, tenant_id, function_name, "
            + "function_version, function_owner, modality, units, compute_us, charge_micro_usd, at) "
            + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING")
        .executeBatch(rows)
        .compose(r -> conn.preparedQuery(PayoutLedger.INSERT).executeBatch(payouts)))
        .mapEmpty();
  }

  private void stored(List<UsageEvent> batch) {
    synchronized (this) {
      for (UsageEvent e : batch) {
        unstored.remove(e.id());
      }
      wake();
    }
    flushed.accept(batch.stream().map(UsageEvent::function).collect(java.util.stream.Collectors.toSet()));
  }

  /** Called with the functions of every batch once it is stored (new users can change a leaderboard). */
  public void onFlushed(java.util.function.Consumer<java.util.Set<String>> listener) {
    this.flushed = listener;
  }

  private void wake() {
    long oldest = unstored.isEmpty() ? Long.MAX_VALUE : unstored.values().iterator().next();
    waiters.removeIf(w -> {
      if (w.upTo() < oldest) {
        // Completed outside the caller's lock.
        vertx.runOnContext(v -> w.promise().tryComplete());
        return true;
      }
      return false;
    });
  }

  /**
   * Completes once every event recorded here before the call is stored; fails after a few seconds
   * (e.g. while the database is down) so that readers can go on with what is stored.
   */
  public Future<Void> flush() {
    return flush(flushWaitMs);
  }

  /** {@link #flush()} waiting at most {@code maxWaitMs} (for callers on a request's path). */
  public Future<Void> flush(long maxWaitMs) {
    Promise<Void> p = Promise.promise();
    synchronized (this) {
      long upTo = sequence;
      long oldest = unstored.isEmpty() ? Long.MAX_VALUE : unstored.values().iterator().next();
      if (upTo < oldest) {
        return Future.succeededFuture();
      }
      waiters.add(new Waiter(upTo, p));
    }
    long t = vertx.setTimer(Math.max(1, maxWaitMs), id -> {
      synchronized (this) {
        waiters.removeIf(w -> w.promise() == p);
      }
      p.tryFail("usage not yet stored after " + maxWaitMs + " ms");
    });
    return p.future().onComplete(ar -> vertx.cancelTimer(t));
  }

  /**
   * Usage between two instants, grouped by {@code function} or {@code day}, for one tenant (or all
   * tenants when {@code tenant} is null and {@code all} is true).
   */
  public Future<JsonObject> summary(String tenant, boolean all, Instant from, Instant to, String groupBy) {
    String key = "day".equals(groupBy) ? "to_char(date_trunc('day', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')" : "function_name";
    String sql = "SELECT " + key + " AS k, count(*) AS requests, sum(units) AS units, sum(compute_us) AS compute_us, "
        + "sum(charge_micro_usd) AS charge FROM usage_events WHERE at >= $1 AND at < $2 "
        + "AND ($3::boolean OR tenant_id = $4) GROUP BY k ORDER BY k";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(OffsetDateTime.ofInstant(from, ZoneOffset.UTC), OffsetDateTime.ofInstant(to, ZoneOffset.UTC), all,
            tenant))
        .map(rows -> {
          JsonArray groups = new JsonArray();
          long total = 0;
          long requests = 0;
          for (Row r : rows) {
            long charge = r.getLong("charge");
            total += charge;
            requests += r.getLong("requests");
            groups.add(new JsonObject().put(groupBy, r.getString("k")).put("requests", r.getLong("requests"))
                .put("units", r.getLong("units")).put("compute_us", r.getLong("compute_us"))
                .put("charge_micro_usd", charge));
          }
          return new JsonObject().put("from", from.toString()).put("to", to.toString()).put("group_by", groupBy)
              .put("groups", groups).put("requests", requests).put("charge_micro_usd", total);
        });
  }
}
