package io.inferium.engine.text;

import io.inferium.engine.metrics.EngineMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Meters of text generation and embeddings, per function: time to first token, inter-token latency,
 * end-to-end latency, tokens prompted and generated, running and waiting sequences (exported as e.g.
 * {@code inferium_generation_ttft_seconds_bucket{function}}).
 */
public final class TextMetrics {

  private final MeterRegistry registry;
  private final EngineMetrics engine;

  public TextMetrics(EngineMetrics engine) {
    this.engine = engine;
    this.registry = engine.registry();
  }

  /** Timers by name and function: inter-token latency is recorded per token, so the lookup is kept off that path. */
  private final java.util.Map<String, Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();

  private Timer timer(String name, String description, String function, Duration min, Duration max) {
    return timers.computeIfAbsent(name + '\0' + function, k -> Timer.builder(name).description(description)
        .tag("function", function).publishPercentileHistogram().minimumExpectedValue(min).maximumExpectedValue(max)
        .register(registry));
  }

  /** A stream's two per-token timers, looked up once when it starts: {@link #streamTimers}. */
  public record StreamTimers(Timer firstToken, Timer interToken) {

    public void firstToken(long nanos) {
      firstToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void interToken(long nanos) {
      interToken.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Time to first token and inter-token latency of {@code function}: a stream takes them once, so a token costs one
   * record each and no lookup (a name concatenated and hashed per token was a few per cent of a streaming loop).
   */
  public StreamTimers streamTimers(String function) {
    return new StreamTimers(
        timer("inferium.generation.ttft", "Time from request arrival to its first streamed token", function,
            Duration.ofMillis(1), Duration.ofSeconds(60)),
        timer("inferium.generation.itl", "Time between consecutive tokens of one stream", function,
            Duration.ofNanos(100_000), Duration.ofSeconds(10)));
  }

  public void endToEnd(String function, long nanos) {
    timer("inferium.generation.duration", "End-to-end latency of a generation or embedding request", function,
        Duration.ofMillis(1), Duration.ofSeconds(600)).record(Duration.ofNanos(nanos));
  }

  public void tokens(String function, long prompt, long completion) {
    Counter.builder("inferium.tokens").description("Tokens processed, by kind (prompt or completion)")
        .tag("function", function).tag("kind", "prompt").register(registry).increment(prompt);
    Counter.builder("inferium.tokens").description("Tokens processed, by kind (prompt or completion)")
        .tag("function", function).tag("kind", "completion").register(registry).increment(completion);
  }

  public void requests(String function, String endpoint, int status) {
    Counter.builder("inferium.text.requests").description("OpenAI-compatible requests by function, endpoint and status")
        .tag("function", function).tag("endpoint", endpoint).tag("status", Integer.toString(status))
        .register(registry).increment();
  }

  void gauges(String function, Supplier<Number> waiting, Supplier<Number> running) {
    Gauge.builder("inferium.generation.waiting", waiting).description("Generations waiting at the gateway")
        .tag("function", function).register(registry);
    Gauge.builder("inferium.generation.running", running).description("Generations running on workers")
        .tag("function", function).register(registry);
  }

  void rejected(String function, String reason) {
    engine.rejected(function, reason);
  }

  void redispatched(String function) {
    engine.redispatched(function, 1);
  }

  /** A text audit's outcome, on the same {@code inferium.audits} counter as tensor audits. */
  void audited(String function, String outcome) {
    engine.audited(function, outcome);
  }

  /** Texts sent to a similarity embedder to judge {@code function}'s unseeded runs (not billed to anyone). */
  void similarityEmbeddings(String function, int texts) {
    Counter.builder("inferium.verification.similarity.embeddings")
        .description("Generated texts embedded to compare unseeded runs by meaning, by the generating function")
        .tag("function", function).register(registry).increment(texts);
  }
}
