package io.inferium.infra.events.impl;

import io.inferium.infra.events.EventLog;
import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The event log on Kafka: values are JSON strings, keys the event key (so one key stays in one
 * partition, in order). The producer is idempotent with {@code acks=all}: an append completes
 * when every in-sync replica has it, and the producer's own retries never duplicate a record.
 * While the broker is unreachable, sends for topics whose metadata is known wait inside the
 * producer (bounded by {@code buffer.memory}) and retry until {@code delivery.timeout.ms}; sends
 * without metadata fail after {@code max.block.ms} (1 s). The gateway never appends here directly:
 * it goes through {@link RelayedEventLog}, whose local outbox makes appends independent of the broker.
 */
public final class KafkaEventLog implements EventLog {

  static final long DELIVERY_TIMEOUT_MS = 120_000;

  private final Vertx vertx;
  private final String bootstrap;
  private final EventLogMeters meters;
  private final KafkaProducer<String, String> producer;
  private final List<KafkaSubscription> subscriptions = new CopyOnWriteArrayList<>();
  private Future<Void> closing;

  public KafkaEventLog(Vertx vertx, String bootstrap, MeterRegistry registry) {
    this.vertx = vertx;
    this.bootstrap = bootstrap;
    this.meters = new EventLogMeters(registry, "kafka");
    Map<String, String> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    config.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    config.put("acks", "all");
    config.put("enable.idempotence", "true");
    config.put("linger.ms", "5");
    config.put("delivery.timeout.ms", Long.toString(DELIVERY_TIMEOUT_MS));
    config.put("request.timeout.ms", "10000");
    config.put("reconnect.backoff.max.ms", "1000");
    // Bounded: beyond 32 MiB waiting for the broker, sends fail instead of growing the heap.
    config.put("buffer.memory", Long.toString(32L << 20));
    // A send blocks the producer's thread while it has no metadata for the topic (broker away):
    // fail such a send within a second instead (the caller retries), so close() is never stuck behind them.
    config.put("max.block.ms", "1000");
    this.producer = KafkaProducer.create(vertx, config);
  }

  /** The content type of a structured-mode CloudEvent (CloudEvents Kafka protocol binding 1.0, section 3.2). */
  public static final String CLOUDEVENTS_JSON = "application/cloudevents+json; charset=UTF-8";

  @Override
  public String description() {
    return "Kafka at " + bootstrap;
  }

  /** Parsed to find out whether it is a CloudEvent (only the outbox's relay appends here, with parsed records). */
  @Override
  public Future<Void> append(String topic, String key, Buffer json) {
    return append(topic, key, new JsonObject(json));
  }

  @Override
  public Future<Void> append(String topic, String key, JsonObject event) {
    KafkaProducerRecord<String, String> record = KafkaProducerRecord.create(topic, key, event.encode());
    if (event.containsKey("specversion")) {
      // The CloudEvents Kafka binding, structured mode: without this header CloudEvents consumers look for
      // binary-mode ce_* headers and reject the record.
      record.addHeader("content-type", CLOUDEVENTS_JSON);
    }
    return producer.send(record)
        .<Void>mapEmpty()
        .onSuccess(v -> meters.appended(topic))
        .onFailure(err -> meters.appendFailed(topic));
  }

  @Override
  public Future<EventSubscription> subscribe(String topic, String group,
      Function<List<LogRecord>, Future<Void>> handler) {
    Map<String, String> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("group.id", group);
    config.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    config.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    config.put("enable.auto.commit", "false");
    config.put("auto.offset.reset", "earliest");
    config.put("max.poll.records", Integer.toString(LocalEventLog.MAX_BATCH));
    config.put("reconnect.backoff.max.ms", "1000");
    config.put("isolation.level", "read_committed");
    // Bounds a commit or offset lookup while the broker is away (then the batch is redelivered).
    config.put("default.api.timeout.ms", "15000");
    KafkaSubscription s = new KafkaSubscription(vertx.getOrCreateContext(), config, topic, group, handler, meters);
    subscriptions.add(s);
    return s.start().map(v -> {
      meters.lag(topic, group, s);
      return (EventSubscription) s;
    }).onFailure(err -> subscriptions.remove(s));
  }

  @Override
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    List<Future<Void>> stops = new ArrayList<>();
    for (KafkaSubscription s : subscriptions) {
      stops.add(s.close().onComplete(ar -> meters.unregisterLag(s.topic, s.group)));
    }
    closing = Future.join(stops).transform(ar -> producer.close(5_000));
    return closing;
  }
}
