package io.inferium.engine.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Series per remote node on {@code /metrics}, tagged {@code node} (its id). A node's series are registered
 * when the gateway first welcomes it, so their number is bounded by the nodes that proved a key and an
 * operator key ({@link RemoteNodes#MAX_NODES}); a node that connects again keeps its series. Call latency is
 * measured by the gateway; credits are the gateway's grant; cache hits and misses are what the node reports
 * in its heartbeats; bytes fetched are the blob bytes the gateway sent it.
 */
final class NodeMetrics {

  /** Few fixed buckets: one histogram per node must stay small. */
  private static final Duration[] CALL_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
      Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)};

  private final MeterRegistry registry;
  private final Map<String, Timer> calls = new ConcurrentHashMap<>();
  private final Map<String, Counter> fetched = new ConcurrentHashMap<>();

  NodeMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Registers the node's series once; {@code link} wires its call latency. */
  void attach(RemoteNodes.Remote r, WorkerLink link) {
    String node = r.nodeId();
    Timer timer = calls.computeIfAbsent(node, id -> {
      Gauge.builder("inferium.node.credits.granted", r, x -> x.connected() ? x.link().grantedCredits() : 0)
          .description("Calls the gateway lets a remote node hold at once (its credits, within the cap)")
          .tag("node", id).register(registry);
      Gauge.builder("inferium.node.credits.in_use", r, x -> x.connected() ? x.link().inFlight().calls() : 0)
          .description("Calls in flight on a remote node").tag("node", id).register(registry);
      FunctionCounter.builder("inferium.node.cache.hits", r, x -> reported(x, "cache_hits"))
          .description("Model loads a remote node served from its blob cache (as it reports)").tag("node", id)
          .register(registry);
      FunctionCounter.builder("inferium.node.cache.misses", r, x -> reported(x, "cache_misses"))
          .description("Model loads a remote node had to fetch (as it reports)").tag("node", id).register(registry);
      fetched.put(id, Counter.builder("inferium.node.fetched").baseUnit("bytes")
          .description("Blob bytes the gateway sent a remote node (FETCH answers)").tag("node", id).register(registry));
      return Timer.builder("inferium.node.call").description("Calls answered by a remote node, from send to reply")
          .tag("node", id).serviceLevelObjectives(CALL_BUCKETS).register(registry);
    });
    link.latencySink(micros -> timer.record(micros, TimeUnit.MICROSECONDS));
  }

  /** Blob bytes sent to the node. */
  void fetched(String nodeId, long bytes) {
    Counter c = fetched.get(nodeId);
    if (c != null) {
      c.increment(bytes);
    }
  }

  private static double reported(RemoteNodes.Remote r, String field) {
    WorkerLink l = r.link();
    return l != null && l.lastHeartbeat().getValue(field) instanceof Number n ? n.doubleValue() : 0;
  }
}
