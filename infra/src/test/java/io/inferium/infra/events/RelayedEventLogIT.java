package io.inferium.infra.events;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.inferium.infra.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kafka behind a local outbox: the same contract, and appends that never depend on the broker. */
class RelayedEventLogIT extends EventLogContract {

  private static KafkaBroker broker;

  @TempDir
  Path dir;

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Override
  protected EventLog create(Vertx vertx) {
    try {
      // Each instance its own outbox (two processes never share one); what they share is Kafka.
      return EventLog.kafkaWithOutbox(vertx, broker.bootstrap(), Files.createTempDirectory(dir, "outbox"),
          new SimpleMeterRegistry());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void appendsWhileTheBrokerIsDeadSurviveAStopAndReachKafkaAfterTheNextStart() throws Exception {
    Path outbox = dir.resolve("kept-outbox");
    broker.stop();
    try {
      EventLog first = EventLog.kafkaWithOutbox(vertx, broker.bootstrap(), outbox, new SimpleMeterRegistry());
      List<Future<Void>> appends = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        appends.add(first.append(topic, "k", new JsonObject().put("seq", i)));
      }
      // Acknowledged with the broker dead: they are on the local disk.
      Future.all(appends).await(10, TimeUnit.SECONDS);
      first.close().await(60, TimeUnit.SECONDS);
    } finally {
      broker.restart();
    }
    EventLog second = EventLog.kafkaWithOutbox(vertx, broker.bootstrap(), outbox, new SimpleMeterRegistry());
    List<Integer> got = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = await(second.subscribe(topic, "after-restart", records -> {
      records.forEach(r -> got.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    }));
    eventually("the 20 events appended while the broker was dead", () -> got.stream().distinct().count() >= 20);
    assertEquals(20, got.stream().distinct().count());
    await(sub.close());
    await(second.close());
  }
}
