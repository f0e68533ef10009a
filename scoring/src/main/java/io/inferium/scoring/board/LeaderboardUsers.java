package io.inferium.scoring.board;

import io.inferium.functions.CompletionEvent;
import io.inferium.infra.events.EventLog;
import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leaderboard's users column as a consumer of completion events: group {@value #GROUP} on
 * {@link EventLog#COMPLETIONS} records each (function, tenant) pair once in {@code function_users}
 * ({@code ON CONFLICT DO NOTHING}), so a redelivered or replayed event changes nothing. Arena battles and
 * benchmark runs are billed but are nobody's choice of the function, so they are not counted; platform
 * keys (no tenant) neither. When a batch adds a user, {@code changed} hears the functions concerned (the
 * leaderboard then recomputes); it runs on the consumer's context and never on a request's path.
 */
public final class LeaderboardUsers {

  private static final Logger log = LoggerFactory.getLogger(LeaderboardUsers.class);
  /** The consumer group that feeds {@code function_users}. */
  public static final String GROUP = "leaderboard";
  private static final Set<String> NOT_A_CHOICE = Set.of("arena", "benchmark");

  private final Pool pool;
  private final EventLog events;
  private final MeterRegistry registry;
  private EventSubscription subscription;

  public LeaderboardUsers(Pool pool, EventLog events, MeterRegistry registry) {
    this.pool = pool;
    this.events = events;
    this.registry = registry;
  }

  /** Starts consuming; {@code changed} is called with the functions that gained a user. */
  public Future<Void> start(Consumer<Set<String>> changed) {
    return events.subscribe(EventLog.COMPLETIONS, GROUP, records -> store(records, changed))
        .onSuccess(s -> subscription = s).mapEmpty();
  }

  public Future<Void> stop() {
    return subscription == null ? Future.succeededFuture() : subscription.close();
  }

  private Future<Void> store(List<LogRecord> records, Consumer<Set<String>> changed) {
    List<Tuple> rows = new ArrayList<>();
    // Only a pair's first event in the batch can be its first request: a busy tenant's batch is one row, not 500.
    Set<String> pairs = new java.util.HashSet<>();
    for (LogRecord r : records) {
      CompletionEvent e;
      try {
        int schema = CompletionEvent.schemaVersion(r.value());
        if (schema < CompletionEvent.SCHEMA_VERSION) {
          continue;
        }
        if (schema > CompletionEvent.SCHEMA_VERSION) {
          return Future.failedFuture("completion event schema " + schema + " is newer than this consumer");
        }
        e = r.decoded(CompletionEvent.class, CompletionEvent::fromJson);
      } catch (RuntimeException bad) {
        // A users count is not worth stopping the group for; billing logs the same record.
        registry.counter("inferium.leaderboard.users.malformed").increment();
        log.warn("Skipping malformed completion record at {}/{}: {}", r.topic(), r.offset(), bad.toString());
        continue;
      }
      if (e.tenantId() != null && !NOT_A_CHOICE.contains(e.modality())
          && pairs.add(e.function() + '\0' + e.tenantId())) {
        rows.add(Tuple.of(e.function(), e.tenantId(), e.requestId(), OffsetDateTime.ofInstant(e.at(), ZoneOffset.UTC)));
      }
    }
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    Set<String> added = new LinkedHashSet<>();
    return pool.withTransaction(conn -> conn.preparedQuery("INSERT INTO function_users (function_name, tenant_id, "
            + "first_request_id, first_at) VALUES ($1, $2, $3, $4) ON CONFLICT (function_name, tenant_id) DO NOTHING "
            + "RETURNING function_name")
        .executeBatch(rows)
        .map(result -> {
          for (var rs = result; rs != null; rs = rs.next()) {
            rs.forEach(row -> added.add(row.getString("function_name")));
          }
          return null;
        }))
        .onSuccess(v -> {
          if (!added.isEmpty()) {
            changed.accept(added);
          }
        })
        .onFailure(err -> log.warn("Storing leaderboard users failed, the batch will be redelivered: {}", err.getMessage()))
        .mapEmpty();
  }
}
