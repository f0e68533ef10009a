package io.inferium.infra.events.impl;

import io.inferium.infra.events.EventSubscription;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** The metrics both event logs report, under the same names. */
final class EventLogMeters {

  private final MeterRegistry registry;
  private final String log;
  /** One per topic (a handful, named in code): an append finds its counter without building a meter id. */
  private final java.util.concurrent.ConcurrentMap<String, Counter> appended = new java.util.concurrent.ConcurrentHashMap<>();

  private Counter syncs;

  /** {@code log} tells the local log's series from Kafka's where one process runs both (outbox). */
  EventLogMeters(MeterRegistry registry, String log) {
    this.registry = registry;
    this.log = log;
  }

  /** One fsync of a write batch (local log): appended ÷ syncs is how many appends one fsync covered. */
  void synced() {
    Counter c = syncs;
    if (c == null) {
      c = Counter.builder("inferium.events.syncs").description("Write batches forced to disk (one fsync each)")
          .tag("log", log).register(registry);
      syncs = c;
    }
    c.increment();
  }

  void appended(String topic) {
    appended(topic, 1);
  }

  void appended(String topic, int count) {
    appended.computeIfAbsent(topic, t -> Counter.builder("inferium.events.appended").description("Events durably appended")
        .tag("topic", t).tag("log", log).register(registry)).increment(count);
  }

  void appendFailed(String topic) {
    Counter.builder("inferium.events.append.failed").description("Appends that failed").tag("topic", topic).tag("log", log)
        .register(registry).increment();
  }

  void redelivery(String topic, String group) {
    Counter.builder("inferium.events.redelivered").description("Batches handed back for redelivery after a failed handler or commit")
        .tag("topic", topic).tag("group", group).tag("log", log).register(registry).increment();
  }

  void lag(String topic, String group, EventSubscription subscription) {
    Gauge.builder("inferium.events.lag", subscription, EventSubscription::lag)
        .description("Records appended but not yet committed by the group").tag("topic", topic).tag("group", group)
        .tag("log", log).strongReference(false).register(registry);
  }

  void unregisterLag(String topic, String group) {
    var g = registry.find("inferium.events.lag").tag("topic", topic).tag("group", group).tag("log", log).gauge();
    if (g != null) {
      registry.remove(g);
    }
  }
}
