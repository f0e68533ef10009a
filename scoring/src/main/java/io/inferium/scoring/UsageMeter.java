package io.inferium.scoring;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records usage without ever blocking a request: events go into a bounded buffer and are written in
 * batches ({@code ON CONFLICT DO NOTHING} on the request id, so a redelivered event counts once).
 * While the database is unreachable the batch stays buffered and is retried; a full buffer drops
 * the newest events and counts them. The buffer lives in memory: events not yet flushed when the
 * process dies are lost (a durable journal is future work).
 */
public final class UsageMeter {

  private static final Logger log = LoggerFactory.getLogger(UsageMeter.class);
  private static final int BATCH = 500;

  private final Vertx vertx;
  private final Pool pool;
  private final MeterRegistry registry;
  private final int maxPending;
  private final long flushMs;
  private final ArrayDeque<UsageEvent> pending = new ArrayDeque<>();
  private boolean flushing;
  private long timer = -1;
  private volatile java.util.function.Consumer<java.util.Set<String>> flushed = fns -> {};

  public UsageMeter(Vertx vertx, Pool pool, MeterRegistry registry, int maxPending, long flushMs) {
    this.vertx = vertx;
    this.pool = pool;
    this.registry = registry;
    this.maxPending = maxPending;
    this.flushMs = flushMs;
    Gauge.builder("inferium.usage.pending", this, m -> m.pendingCount())
        .description("Usage events waiting to be stored").register(registry);
  }

  public void start() {
    timer = vertx.setPeriodic(flushMs, id -> flush());
  }

  /** Stops the timer and writes what is buffered. */
  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return flush();
  }

  /** Called with the functions of every batch once it is stored (new users can change a leaderboard). */
  public void onFlushed(java.util.function.Consumer<java.util.Set<String>> listener) {
    this.flushed = listener;
  }

  synchronized int pendingCount() {
    return pending.size();
  }

  /** Buffers one event; false (and counted) if the buffer is full. */
  public boolean record(UsageEvent e) {
    synchronized (this) {
      if (pending.size() >= maxPending) {
        registry.counter("inferium.usage.dropped").increment();
        return false;
      }
      pending.add(e);
    }
    registry.counter("inferium.billed.micro.usd", "function", e.function()).increment(e.chargeMicroUsd());
    registry.counter("inferium.billed.units", "function", e.function(), "modality", e.modality()).increment(e.units());
    return true;
  }

  /** Writes buffered events in batches until the buffer is empty or the database fails. */
  public Future<Void> flush() {
    List<UsageEvent> batch;
    synchronized (this) {
      if (flushing || pending.isEmpty()) {
        return Future.succeededFuture();
      }
      flushing = true;
      batch = new ArrayList<>(Math.min(BATCH, pending.size()));
      for (int i = 0; i < BATCH && !pending.isEmpty(); i++) {
        batch.add(pending.poll());
      }
    }
    List<Tuple> rows = batch.stream().map(e -> Tuple.of(e.id(), e.tenantId(), e.function(), e.version(), e.owner(),
        e.modality(), e.units(), e.computeUs(), e.chargeMicroUsd(), OffsetDateTime.ofInstant(e.at(), ZoneOffset.UTC)))
        .toList();
    return pool.preparedQuery("INSERT INTO usage_events (id, tenant_id, function_name, function_version, function_owner, "
            + "modality, units, compute_us, charge_micro_usd, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            + "ON CONFLICT (id) DO NOTHING")
        .executeBatch(rows)
        .transform(ar -> {
          synchronized (this) {
            flushing = false;
            if (ar.failed()) {
              // Put them back in front, oldest first; the next tick retries.
              for (int i = batch.size() - 1; i >= 0; i--) {
                pending.addFirst(batch.get(i));
              }
            }
          }
          if (ar.failed()) {
            log.warn("Usage flush of {} events failed, kept for retry: {}", batch.size(), ar.cause().getMessage());
            return Future.<Void>failedFuture(ar.cause());
          }
          flushed.accept(batch.stream().map(UsageEvent::function).collect(java.util.stream.Collectors.toSet()));
          return flush();
        });
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
