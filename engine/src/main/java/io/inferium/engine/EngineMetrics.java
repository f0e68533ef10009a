package io.inferium.engine;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Inferium's own meters. Names follow Prometheus conventions once exported: e.g.
 * {@code inferium_requests_total{function,status}}, {@code inferium_request_duration_seconds_bucket}.
 */
public final class EngineMetrics {

  private static final Duration MIN_LATENCY = Duration.ofMillis(1);
  private static final Duration MAX_LATENCY = Duration.ofSeconds(120);

  private final MeterRegistry registry;

  public EngineMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** One answered inference request. {@code function} is the name as routed (known functions only). */
  public void request(String function, int status, long totalNanos) {
    Counter.builder("inferium.requests").description("Inference requests by function and HTTP status")
        .tag("function", function).tag("status", Integer.toString(status)).register(registry).increment();
    timer("inferium.request.duration", "End-to-end inference latency at the gateway", function).record(Duration.ofNanos(totalNanos));
  }

  /** Time from acceptance until a worker started on the request (includes any cold start). */
  public void queued(String function, long nanos) {
    timer("inferium.queue.duration", "Time a request waited before a worker ran it", function).record(Duration.ofNanos(nanos));
  }

  /** Compute time as the worker measured it. */
  public void compute(String function, long micros) {
    timer("inferium.compute.duration", "Model execution time reported by the worker", function).record(Duration.ofNanos(micros * 1000));
  }

  public void coldStart(String function, long millis) {
    Counter.builder("inferium.cold.starts").description("Model loads triggered by a request")
        .tag("function", function).register(registry).increment();
    timer("inferium.cold.start.duration", "Model load time on first use", function).record(Duration.ofMillis(millis));
  }

  public void verification(String outcome) {
    Counter.builder("inferium.verifications").description("Deploy-time verifications by outcome")
        .tag("outcome", outcome).register(registry).increment();
  }

  public void workerRestart(String reason) {
    Counter.builder("inferium.worker.restarts").description("Worker processes restarted by the supervisor")
        .tag("reason", reason).register(registry).increment();
  }

  public void workersAlive(Supplier<Number> alive) {
    Gauge.builder("inferium.workers.alive", alive).description("Worker processes attached and serving").register(registry);
  }

  private Timer timer(String name, String description, String function) {
    return Timer.builder(name).description(description).tag("function", function)
        .publishPercentileHistogram().minimumExpectedValue(MIN_LATENCY).maximumExpectedValue(MAX_LATENCY)
        .register(registry);
  }
}
