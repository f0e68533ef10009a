package io.inferium.infra.events;

import io.inferium.infra.events.impl.KafkaEventLog;
import io.inferium.infra.events.impl.LocalEventLog;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * A durable, ordered stream of JSON events per topic, consumed at least once by named groups.
 *
 * <p>Two implementations pass the same contract ({@code EventLogContract} in infra's test-jar):
 * {@link #local} (append-only files, the single-machine default) and {@link #kafka}.
 *
 * <ul>
 *   <li>{@link #append} completes only once the event is durable; events with the same key are
 *       delivered in the order they were appended.
 *   <li>{@link #subscribe}: a group's position advances only after the handler's future for a
 *       batch succeeds. When it fails, the same records are delivered again after a backoff; after
 *       a restart consumption resumes from the last committed position. Consumers must therefore
 *       be idempotent (on the event id).
 *   <li>Memory is bounded: records are pulled one batch at a time, never ahead of the handler, so a
 *       slow handler leaves them in the log (backpressure); appends beyond what can be buffered
 *       before they are written fail fast with {@link EventLogFullException}.
 * </ul>
 */
public interface EventLog {

  /**
   * Topic of one {@code CompletionEvent} per answered function call, the durable record behind every answer;
   * consumed by the {@code billing} and {@code leaderboard} groups (later verification and receipts).
   */
  String COMPLETIONS = "inferium.completions";
  /**
   * Retired topic of usage events (before completion events became the billed record): nothing appends to it;
   * the {@code billing} group only drains what an older gateway left there.
   */
  String USAGE = "inferium.usage";

  /** An append-only file log under {@code dir} (one directory per topic). */
  static EventLog local(Vertx vertx, Path dir, MeterRegistry registry) {
    return new LocalEventLog(vertx, dir, registry, LocalEventLog.DEFAULT_SEGMENT_BYTES, LocalEventLog.DEFAULT_MAX_QUEUED);
  }

  /**
   * Kafka at {@code bootstrap} (host:port[,host:port]); idempotent producer with {@code acks=all}.
   * An append completes when the broker has it, so it waits (and fails after two minutes) while the
   * broker is away; see {@link #kafkaWithOutbox} for appends that never depend on the broker.
   */
  static EventLog kafka(Vertx vertx, String bootstrap, MeterRegistry registry) {
    return new KafkaEventLog(vertx, bootstrap, registry);
  }

  /**
   * Kafka behind a local file outbox under {@code outboxDir}: appends are durable once fsynced
   * locally and are relayed to Kafka in order (again after a restart, if needed); subscriptions
   * read Kafka.
   */
  static EventLog kafkaWithOutbox(Vertx vertx, String bootstrap, Path outboxDir, MeterRegistry registry) {
    return new io.inferium.infra.events.impl.RelayedEventLog(local(vertx, outboxDir, registry), outboxDir,
        kafka(vertx, bootstrap, registry));
  }

  /** Appends one event; succeeds once it is durable, fails (and is counted) otherwise. */
  default Future<Void> append(String topic, String key, JsonObject event) {
    return append(topic, key, event.toBuffer());
  }

  /**
   * Appends one event already encoded as a JSON object (as {@link JsonObject#toBuffer()} would write it), stored and
   * delivered as is: for callers that write their events straight to bytes. Subscribers receive it parsed, as with
   * {@link #append(String, String, JsonObject)}. The bytes must be one JSON object: the local log stores them without
   * parsing them again.
   */
  Future<Void> append(String topic, String key, Buffer json);

  /**
   * Delivers the topic's records, in batches, to {@code handler} on the calling context; the group's
   * position is committed after the handler's future succeeds.
   */
  Future<EventSubscription> subscribe(String topic, String group, Function<List<LogRecord>, Future<Void>> handler);

  /** A short description for the start-up log. */
  String description();

  /** Stops every subscription and releases files or connections. */
  Future<Void> close();
}
