package io.inferium.infra.events.impl;

import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A group consuming one Kafka topic. The (blocking, single-threaded) Kafka consumer lives on its
 * own named thread: poll a batch (at most {@code max.poll.records}), hand it to the handler on the
 * subscriber's context, wait for the handler's future, then {@code commitSync} the batch's offsets.
 * A failed handler or commit seeks each partition back to the batch's first offset and polls again
 * after a backoff, so the same records come again. Only this thread touches the consumer.
 *
 * <p>Why not vertx-kafka-client's consumer: in one contract run its {@code close()} never completed
 * after a poll/commit cycle and left the consumer's heartbeat running; owning the thread makes
 * close (finish the batch in progress, commit, leave the group) deterministic.
 */
final class KafkaSubscription implements EventSubscription {

  private static final Logger log = LoggerFactory.getLogger(KafkaSubscription.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final long LAG_EVERY_MS = 1_000;
  private static final long CLOSE_WAIT_FOR_HANDLER_MS = 30_000;

  final String topic;
  final String group;
  private final Context context;
  private final Properties config;
  private final Function<List<LogRecord>, Future<Void>> handler;
  private final EventLogMeters meters;
  private final Object sleeper = new Object();
  private final Promise<Void> stopped = Promise.promise();
  private volatile boolean closed;
  private volatile long lag;

  KafkaSubscription(Context context, Map<String, String> config, String topic, String group,
      Function<List<LogRecord>, Future<Void>> handler, EventLogMeters meters) {
    this.context = context;
    this.config = new Properties();
    this.config.putAll(config);
    this.topic = topic;
    this.group = group;
    this.handler = handler;
    this.meters = meters;
  }

  Future<Void> start() {
    Promise<Void> started = Promise.promise();
    Thread t = new Thread(() -> run(started), "inferium-kafka-" + group + "-" + topic);
    t.setDaemon(true);
    t.start();
    return started.future();
  }

  @Override
  public long lag() {
    return lag;
  }

  private void run(Promise<Void> started) {
    KafkaConsumer<String, String> consumer;
    try {
      consumer = new KafkaConsumer<>(config);
      consumer.subscribe(List.of(topic));
    } catch (RuntimeException e) {
      context.runOnContext(v -> started.fail(e));
      stopped.tryComplete();
      return;
    }
    context.runOnContext(v -> started.complete());
    long backoffMs = 0;
    long lagCheckedAt = 0;
    try {
      while (!closed) {
        try {
          ConsumerRecords<String, String> batch = consumer.poll(POLL);
          if (!batch.isEmpty() && !deliver(consumer, batch)) {
            backoffMs = backoffMs == 0 ? LocalEventLog.MIN_BACKOFF_MS : Math.min(backoffMs * 2, LocalEventLog.MAX_BACKOFF_MS);
            meters.redelivery(topic, group);
            pause(backoffMs);
          } else if (!batch.isEmpty()) {
            backoffMs = 0;
          }
          if (System.currentTimeMillis() - lagCheckedAt >= LAG_EVERY_MS) {
            lagCheckedAt = System.currentTimeMillis();
            lag = lag(consumer);
          }
        } catch (RuntimeException e) {
          // The broker away, a rebalance, a timeout: keep the position and try again.
          log.debug("{}/{}: {}", topic, group, e.toString());
          backoffMs = backoffMs == 0 ? LocalEventLog.MIN_BACKOFF_MS : Math.min(backoffMs * 2, LocalEventLog.MAX_BACKOFF_MS);
          pause(backoffMs);
        }
      }
    } finally {
      try {
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        log.debug("{}/{}: close: {}", topic, group, e.toString());
      }
      context.runOnContext(v -> stopped.tryComplete());
    }
  }

  /** Runs the handler and commits; false (after seeking back) when either failed. */
  private boolean deliver(KafkaConsumer<String, String> consumer, ConsumerRecords<String, String> batch) {
    List<LogRecord> records = new ArrayList<>(batch.count());
    Map<TopicPartition, Long> first = new LinkedHashMap<>();
    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
    for (ConsumerRecord<String, String> r : batch) {
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      first.putIfAbsent(tp, r.offset());
      next.put(tp, new OffsetAndMetadata(r.offset() + 1));
      records.add(new LogRecord(r.topic(), r.partition(), r.offset(), r.key(), new JsonObject(r.value())));
    }
    CompletableFuture<Void> handled = new CompletableFuture<>();
    context.runOnContext(v -> {
      Future<Void> f;
      try {
        f = handler.apply(records);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        if (ar.succeeded()) {
          handled.complete(null);
        } else {
          handled.completeExceptionally(ar.cause());
        }
      });
    });
    try {
      long closingSince = 0;
      while (!handled.isDone()) {
        try {
          handled.get(100, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException notYet) {
          if (closed && closingSince == 0) {
            closingSince = System.currentTimeMillis();
          } else if (closed && System.currentTimeMillis() - closingSince > CLOSE_WAIT_FOR_HANDLER_MS) {
            throw new IllegalStateException("handler did not finish within " + CLOSE_WAIT_FOR_HANDLER_MS + " ms of close");
          }
        }
      }
      handled.join();
      consumer.commitSync(next);
      return true;
    } catch (Exception e) {
      log.debug("{}/{}: batch will be redelivered: {}", topic, group, e.toString());
      first.forEach(consumer::seek);
      return false;
    }
  }

  private long lag(KafkaConsumer<String, String> consumer) {
    Set<TopicPartition> parts = consumer.assignment();
    if (parts.isEmpty()) {
      return 0;
    }
    Map<TopicPartition, Long> ends = consumer.endOffsets(parts, Duration.ofSeconds(2));
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(parts, Duration.ofSeconds(2));
    long sum = 0;
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      sum += Math.max(0, e.getValue() - (c == null ? 0 : c.offset()));
    }
    return sum;
  }

  private void pause(long ms) {
    synchronized (sleeper) {
      if (!closed) {
        try {
          sleeper.wait(ms);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          closed = true;
        }
      }
    }
  }

  @Override
  public Future<Void> close() {
    closed = true;
    synchronized (sleeper) {
      sleeper.notifyAll();
    }
    return stopped.future();
  }
}
