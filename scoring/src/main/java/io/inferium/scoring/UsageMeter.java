package io.inferium.scoring;

import io.inferium.functions.CompletionEvent;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The billing consumer: stores one usage row per completion event, exactly once.
 *
 * <p>The engine appends one {@link CompletionEvent} per answered request to {@link EventLog#COMPLETIONS}
 * and lets the answer leave only once that append is durable (see the engine's {@code Completions}); this
 * class never sits on the request path. The {@value #GROUP} group consumes the topic and writes each batch
 * with {@code INSERT … ON CONFLICT (id) DO NOTHING}, keyed by the request id; the log commits its position
 * only after the insert succeeded. So an event redelivered after a crash, a broker restart or a database
 * outage counts once, and one that was acknowledged is never lost.
 *
 * <p>The same group also drains the retired {@link EventLog#USAGE} topic, so usage events an older gateway
 * appended to a data directory (or a Kafka cluster) and did not store yet are still billed after an upgrade;
 * nothing appends there any more, so that subscription stays idle once drained.
 *
 * <p>{@link #expect} lets reads of usage (invoices, quotas) wait in {@link #flush} for the requests this process
 * answered: bookkeeping only, it changes nothing that is billed.
 */
public final class UsageMeter {

  private static final Logger log = LoggerFactory.getLogger(UsageMeter.class);
  /** The consumer group that stores usage into PostgreSQL. */
  public static final String GROUP = "billing";
  public static final long DEFAULT_FLUSH_WAIT_MS = 5_000;
  private static final int MAX_TRACKED = 200_000;

  private final Vertx vertx;
  private final Pool pool;
  private PayoutLedger ledger = PayoutLedger.DEFAULT;
  private final EventLog events;
  private final MeterRegistry registry;
  private final long flushWaitMs;
  // Requests answered here whose usage is not yet seen stored, in answer order (id → sequence): what flush() waits for.
  private final LinkedHashMap<String, Long> unstored = new LinkedHashMap<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private long sequence;
  private final List<EventSubscription> subscriptions = new ArrayList<>();

  /** {@code context}: the caller's, where its wait ends (the meter stores on a context of its own). */
  private record Waiter(long upTo, Promise<Void> promise, io.vertx.core.Context context) {
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
        .description("Usage of requests answered here and not yet stored in the database").register(registry);
  }

  /** How charges are split into payout rows (default {@link PayoutLedger#DEFAULT}); set before {@link #start}. */
  public UsageMeter payouts(PayoutLedger ledger) {
    this.ledger = ledger;
    return this;
  }

  /** Starts the billing consumer on the completions topic, and the drain of the retired usage topic. */
  public Future<Void> start() {
    return events.subscribe(EventLog.COMPLETIONS, GROUP, this::storeCompletions).compose(s -> {
      subscriptions.add(s);
      return events.subscribe(EventLog.USAGE, GROUP, this::storeLegacy);
    }).onSuccess(subscriptions::add).mapEmpty();
  }

  /** Stops consuming; what is appended but not stored stays in the log for the next start. */
  public Future<Void> stop() {
    synchronized (this) {
      waiters.forEach(w -> w.promise().tryFail("usage meter stopped"));
      waiters.clear();
    }
    return Future.join(subscriptions.stream().map(EventSubscription::close).toList()).mapEmpty();
  }

  /** Requests answered by this process whose usage is not yet stored. */
  public synchronized int pendingCount() {
    return unstored.size();
  }

  /**
   * Notes that the completion event of {@code requestId} is being appended, so that {@link #flush} waits for
   * its usage row. Never blocks, never fails.
   */
  public void expect(String requestId) {
    synchronized (this) {
      unstored.remove(requestId);
      unstored.put(requestId, ++sequence);
      if (unstored.size() > MAX_TRACKED) {
        // Only flush() uses this; forgetting the oldest makes it wait less, never bills differently.
        unstored.remove(unstored.keySet().iterator().next());
        wake();
      }
    }
  }

  /** The completion event of {@code requestId} could not be appended: there is nothing to wait for. */
  public void abandon(String requestId) {
    synchronized (this) {
      unstored.remove(requestId);
      wake();
    }
  }

  /** The billing consumer's handler: stores a batch; the log commits only when this succeeds. */
  private Future<Void> storeCompletions(List<LogRecord> records) {
    List<UsageEvent> batch = new ArrayList<>(records.size());
    for (LogRecord r : records) {
      int schema;
      try {
        schema = CompletionEvent.schemaVersion(r.value());
      } catch (RuntimeException bad) {
        malformed(r, bad);
        continue;
      }
      if (schema < CompletionEvent.SCHEMA_VERSION) {
        // Unversioned events predate this consumer: fire-and-forget copies of usage billed through inferium.usage.
        registry.counter("inferium.usage.legacy.skipped").increment();
        continue;
      }
      if (schema > CompletionEvent.SCHEMA_VERSION) {
        // Written by a newer gateway: skipping would lose its charge, so hold the group until this one is upgraded.
        log.error("Completion event {} has schema {}, this billing consumer reads {}: holding until upgraded",
            r.key(), schema, CompletionEvent.SCHEMA_VERSION);
        return Future.failedFuture("completion event schema " + schema + " is newer than this consumer");
      }
      try {
        batch.add(UsageEvent.of(r.decoded(CompletionEvent.class, CompletionEvent::fromJson)));
      } catch (RuntimeException bad) {
        malformed(r, bad);
      }
    }
    return storeBatch(batch);
  }

  /** Drains usage events an older gateway appended to the retired usage topic. */
  private Future<Void> storeLegacy(List<LogRecord> records) {
    List<UsageEvent> batch = new ArrayList<>(records.size());
    for (LogRecord r : records) {
      try {
        batch.add(UsageEvent.fromJson(r.value()));
      } catch (RuntimeException bad) {
        malformed(r, bad);
      }
    }
    return storeBatch(batch);
  }

  private void malformed(LogRecord r, RuntimeException bad) {
    // A malformed record can never be stored; holding the group on it would stop all billing.
    registry.counter("inferium.usage.malformed").increment();
    log.error("Skipping malformed usage record at {}/{}: {}", r.topic(), r.offset(), bad.toString());
  }

  private Future<Void> storeBatch(List<UsageEvent> batch) {
    return insert(batch).onSuccess(v -> stored(batch))
        .onFailure(err -> log.warn("Storing {} usage events failed, they will be redelivered: {}", batch.size(),
            err.getMessage()));
  }

  /**
   * Inserts events and their payout rows in one transaction, each id once: rows already there are left alone,
   * and only the events whose rows this transaction inserted are summed into payout rows (per party and second,
   * {@link PayoutLedger#columns}), so a redelivered batch changes nothing. Each table takes the whole batch as one
   * statement over column arrays ({@code unnest}): one bind and one plan execution per batch instead of one per row.
   */
  public Future<Void> insert(List<UsageEvent> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = batch.size();
    String[] ids = new String[n];
    String[] tenants = new String[n];
    String[] functions = new String[n];
    Integer[] versions = new Integer[n];
    String[] owners = new String[n];
    String[] modalities = new String[n];
    Long[] units = new Long[n];
    Long[] computeUs = new Long[n];
    Long[] charges = new Long[n];
    OffsetDateTime[] ats = new OffsetDateTime[n];
    for (int i = 0; i < n; i++) {
      UsageEvent e = batch.get(i);
      ids[i] = e.id();
      tenants[i] = e.tenantId();
      functions[i] = e.function();
      versions[i] = e.version();
      owners[i] = e.owner();
      modalities[i] = e.modality();
      units[i] = e.units();
      computeUs[i] = e.computeUs();
      charges[i] = e.chargeMicroUsd();
      ats[i] = OffsetDateTime.ofInstant(e.at(), ZoneOffset.UTC);
    }
    Tuple events = Tuple.tuple().addValue(ids).addValue(tenants).addValue(functions).addValue(versions).addValue(owners)
        .addValue(modalities).addValue(units).addValue(computeUs).addValue(charges).addValue(ats);
    return pool.withTransaction(conn -> conn.preparedQuery(INSERT_EVENTS).execute(events).compose(inserted -> {
      Set<String> fresh = new HashSet<>();
      inserted.forEach(r -> fresh.add(r.getString(0)));
      if (fresh.isEmpty()) {
        return Future.succeededFuture();
      }
      List<UsageEvent> stored = new ArrayList<>(fresh.size());
      String first = null;
      for (UsageEvent e : batch) {
        if (fresh.remove(e.id())) { // each id once, even when a batch holds an event twice
          stored.add(e);
          first = first == null ? e.id() : first;
        }
      }
      // The batch's first new usage id names its rows: no other transaction can have inserted it.
      return conn.preparedQuery(PayoutLedger.INSERT).execute(ledger.columns(first, stored)).mapEmpty();
    })).mapEmpty();
  }

  private static final String INSERT_EVENTS = "INSERT INTO usage_events (id, tenant_id, function_name, function_version, "
      + "function_owner, modality, units, compute_us, charge_micro_usd, at) SELECT * FROM unnest($1::text[], $2::text[], "
      + "$3::text[], $4::integer[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::timestamptz[]) "
      + "ON CONFLICT (id) DO NOTHING RETURNING id";

  private void stored(List<UsageEvent> batch) {
    synchronized (this) {
      for (UsageEvent e : batch) {
        unstored.remove(e.id());
      }
      wake();
    }
  }

  private void wake() {
    long oldest = unstored.isEmpty() ? Long.MAX_VALUE : unstored.values().iterator().next();
    waiters.removeIf(w -> {
      if (w.upTo() < oldest) {
        // Completed outside the caller's lock.
        w.context().runOnContext(v -> w.promise().tryComplete());
        return true;
      }
      return false;
    });
  }

  /**
   * Completes once the usage of every request {@linkplain #expect expected} here before the call is stored; fails after a few seconds
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
      waiters.add(new Waiter(upTo, p, vertx.getOrCreateContext()));
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
   * tenants when {@code tenant} is null and {@code all} is true). A tenant's arena runs are grouped as {@code arena}.
   */
  public Future<JsonObject> summary(String tenant, boolean all, Instant from, Instant to, String groupBy) {
    // Arena runs are one line, 'arena', for a tenant: their function names would tell a voter which functions are
    // in a battle before the vote (the reveal names them). Admins looking at everyone see the functions.
    String key = "day".equals(groupBy) ? "to_char(date_trunc('day', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
        : "CASE WHEN modality = 'arena' AND NOT $3::boolean THEN 'arena' ELSE function_name END";
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
