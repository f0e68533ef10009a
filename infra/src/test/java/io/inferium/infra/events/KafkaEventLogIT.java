package io.inferium.infra.events;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import io.inferium.infra.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The event-log contract against a real KRaft broker in a child JVM. */
class KafkaEventLogIT extends EventLogContract {

  private static KafkaBroker broker;

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

  @Test
  void aCloudEventsConsumerReadsTheRecordsAsStructuredCloudEvents() throws Exception {
    EventLog log = open();
    JsonObject event = new JsonObject().put("specversion", "1.0").put("id", "req-1").put("source", "inferium/gateway")
        .put("type", "io.inferium.completion").put("datacontenttype", "application/json")
        .put("data", new JsonObject().put("function", "add").put("units", 3));
    await(log.append(topic, "req-1", event));
    Map<String, Object> config = Map.of("bootstrap.servers", broker.bootstrap(), "group.id", "ce-" + topic,
        "auto.offset.reset", "earliest", "key.deserializer", StringDeserializer.class.getName(),
        "value.deserializer", CloudEventDeserializer.class.getName());
    try (KafkaConsumer<String, CloudEvent> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topic));
      List<ConsumerRecord<String, CloudEvent>> got = new ArrayList<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (got.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(got::add);
      }
      assertEquals(1, got.size(), "the appended record");
      CloudEvent ce = got.get(0).value();
      assertEquals("req-1", ce.getId());
      assertEquals("io.inferium.completion", ce.getType());
      assertEquals("inferium/gateway", ce.getSource().toString());
      assertEquals(new JsonObject().put("function", "add").put("units", 3),
          new JsonObject(new String(ce.getData().toBytes(), StandardCharsets.UTF_8)));
    }
  }

  @Override
  protected EventLog create(Vertx vertx) {
    return EventLog.kafka(vertx, broker.bootstrap(), new SimpleMeterRegistry());
  }
}
