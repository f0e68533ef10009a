package io.inferium.infra.events.impl;

import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A group consuming one Kafka topic by explicit polls: poll a batch (at most
 * {@code max.poll.records}), run the handler, commit the batch's offsets, poll again. A failed
 * handler or commit seeks each partition back to the batch's first offset and polls again after a
 * backoff, so the same records come again.
 */
final class KafkaSubscription implements EventSubscription {

  private static final Logger log = LoggerFactory.getLogger(KafkaSubscription.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final long LAG_EVERY_MS = 1_000;

  final String topic;
  final String group;
  private final Vertx vertx;
  private final Context context;
  private final Map<String, String> config;
  private final Function<List<LogRecord>, Future<Void>> handler;
  private final EventLogMeters meters;
  private KafkaConsumer<String, String> consumer;
  private boolean closed;
  private long backoffMs;
  private long lagCheckedAt;
  private volatile long lag;
  private Promise<Void> stopped;

  KafkaSubscription(Vertx vertx, Context context, Map<String, String> config, String topic, String group,
      Function<List<LogRecord>, Future<Void>> handler, EventLogMeters meters) {
    this.vertx = vertx;
    this.context = context;
    this.config = config;
    this.topic = topic;
    this.group = group;
    this.handler = handler;
    this.meters = meters;
  }

  Future<Void> start() {
    Promise<Void> started = Promise.promise();
    context.runOnContext(v -> {
      consumer = KafkaConsumer.create(vertx, config);
      consumer.exceptionHandler(err -> log.debug("{}/{}: {}", topic, group, err.toString()));
      consumer.subscribe(topic).onComplete(ar -> {
        if (ar.failed()) {
          started.fail(ar.cause());
          return;
        }
        started.complete();
        loop();
      });
    });
    return started.future();
  }

  @Override
  public long lag() {
    return lag;
  }

  private void loop() {
    if (closed) {
      stopped.complete();
      return;
    }
    consumer.poll(POLL).compose(this::deliver).onComplete(ar -> context.runOnContext(v -> {
      if (ar.failed()) {
        backoffMs = backoffMs == 0 ? LocalEventLog.MIN_BACKOFF_MS : Math.min(backoffMs * 2, LocalEventLog.MAX_BACKOFF_MS);
        meters.redelivery(topic, group);
        log.debug("{}/{}: batch will be redelivered in {} ms: {}", topic, group, backoffMs, ar.cause().toString());
        vertx.setTimer(backoffMs, id -> context.runOnContext(x -> loop()));
        return;
      }
      backoffMs = 0;
      refreshLag();
      loop();
    }));
  }

  private Future<Void> deliver(KafkaConsumerRecords<String, String> batch) {
    if (batch.size() == 0) {
      return Future.succeededFuture();
    }
    List<LogRecord> records = new ArrayList<>(batch.size());
    Map<TopicPartition, Long> first = new LinkedHashMap<>();
    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      KafkaConsumerRecord<String, String> r = batch.recordAt(i);
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      first.putIfAbsent(tp, r.offset());
      next.put(tp, new OffsetAndMetadata(r.offset() + 1, null));
      records.add(new LogRecord(r.topic(), r.partition(), r.offset(), r.key(), new JsonObject(r.value())));
    }
    Future<Void> handled;
    try {
      handled = handler.apply(records);
    } catch (RuntimeException e) {
      handled = Future.failedFuture(e);
    }
    return handled
        .compose(v -> consumer.commit(next))
        .<Void>mapEmpty()
        .recover(err -> {
          List<Future<Void>> seeks = new ArrayList<>();
          first.forEach((tp, offset) -> seeks.add(consumer.seek(tp, offset)));
          return Future.join(seeks).transform(x -> Future.failedFuture(err));
        });
  }

  private void refreshLag() {
    long now = System.currentTimeMillis();
    if (now - lagCheckedAt < LAG_EVERY_MS) {
      return;
    }
    lagCheckedAt = now;
    consumer.assignment().compose(parts -> {
      if (parts.isEmpty()) {
        return Future.succeededFuture(0L);
      }
      return consumer.endOffsets(Set.copyOf(parts)).compose(ends -> {
        List<Future<Long>> lags = new ArrayList<>();
        ends.forEach((tp, end) -> lags.add(consumer.committed(tp)
            .map(c -> Math.max(0, end - (c == null ? 0 : c.getOffset())))));
        return Future.all(lags).map(all -> {
          long sum = 0;
          for (int i = 0; i < all.size(); i++) {
            sum += all.<Long>resultAt(i);
          }
          return sum;
        });
      });
    }).onSuccess(l -> lag = l);
  }

  @Override
  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (closed) {
        done.complete();
        return;
      }
      closed = true;
      stopped = Promise.promise();
      stopped.future().transform(ar -> consumer.close()).onComplete(done);
    });
    return done.future();
  }
}
