package io.inferium.infra.events.impl;

import io.inferium.infra.events.EventLog;
import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A remote log (Kafka) fronted by a local outbox. An append is acknowledged once it is fsynced in
 * the local file log, whether or not the broker is reachable; a relay per topic (local group
 * {@value #RELAY_GROUP}) forwards records in order to the remote log and commits locally only after
 * the remote acknowledged them. So an event survives a broker outage and a gateway crash during
 * it: the next start relays what is left. Subscriptions read the remote log. A relay batch that
 * failed midway is sent again, so the remote log may hold duplicates; consumers are idempotent.
 */
public final class RelayedEventLog implements EventLog {

  private static final Logger log = LoggerFactory.getLogger(RelayedEventLog.class);
  static final String RELAY_GROUP = "relay";

  private final EventLog local;
  private final EventLog remote;
  private final Map<String, Future<EventSubscription>> relays = new ConcurrentHashMap<>();
  private Future<Void> closing;

  /** Starts relaying every topic the outbox under {@code localDir} already holds. */
  public RelayedEventLog(EventLog local, Path localDir, EventLog remote) {
    this.local = local;
    this.remote = remote;
    if (Files.isDirectory(localDir)) {
      try (Stream<Path> topics = Files.list(localDir)) {
        topics.filter(Files::isDirectory).forEach(t -> relay(t.getFileName().toString()));
      } catch (IOException e) {
        log.warn("Could not list the outbox {}: {}", localDir, e.toString());
      }
    }
  }

  @Override
  public String description() {
    return remote.description() + " (through a local outbox: " + local.description() + ")";
  }

  private void relay(String topic) {
    relays.computeIfAbsent(topic, t -> local.subscribe(t, RELAY_GROUP, this::forward)
        .onFailure(err -> log.error("Relay of {} did not start: {}", t, err.toString())));
  }

  /** The first record alone (a dead broker fails one send, not a batch of them), then the rest together. */
  private Future<Void> forward(List<LogRecord> records) {
    LogRecord head = records.get(0);
    return remote.append(head.topic(), head.key(), head.value()).compose(v -> {
      List<Future<Void>> sent = new ArrayList<>(records.size());
      for (LogRecord r : records.subList(1, records.size())) {
        sent.add(remote.append(r.topic(), r.key(), r.value()));
      }
      return Future.all(sent).mapEmpty();
    });
  }

  @Override
  public Future<Void> append(String topic, String key, Buffer json) {
    Future<Void> appended = local.append(topic, key, json);
    relay(topic);
    return appended;
  }

  @Override
  public Future<EventSubscription> subscribe(String topic, String group,
      Function<List<LogRecord>, Future<Void>> handler) {
    return remote.subscribe(topic, group, handler);
  }

  @Override
  public synchronized Future<Void> close() {
    if (closing == null) {
      // The remote first: its producer fails what it still holds, which frees the relays to stop;
      // those records stay uncommitted in the outbox for the next start.
      closing = remote.close().otherwiseEmpty()
          .compose(v -> Future.join(relays.values().stream()
              .map(f -> f.compose(EventSubscription::close).otherwiseEmpty()).toList()))
          .transform(ar -> local.close());
    }
    return closing;
  }
}
