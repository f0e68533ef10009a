package io.inferium.infra.events;

import io.inferium.infra.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

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

  @Override
  protected EventLog create(Vertx vertx) {
    return EventLog.kafka(vertx, broker.bootstrap(), new SimpleMeterRegistry());
  }
}
