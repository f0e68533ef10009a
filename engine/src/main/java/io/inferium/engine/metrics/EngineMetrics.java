package io.inferium.engine.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
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
  /**
   * The meters every request touches, per function, looked up once: building a meter id (tags sorted,
   * hashed) and finding it in the registry cost more than recording into it, six times per request.
   * Function series are never removed, so a cached meter stays the registered one; the key space is
   * the deployed functions' names.
   */
  private final java.util.concurrent.ConcurrentHashMap<String, FunctionMeters> byFunction =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** One function's per-request meters; counters by status or reason are created on first use. */
  private final class FunctionMeters {
    final String function;
    final Timer requestDuration;
    final Timer queueDuration;
    final Timer computeDuration;
    final DistributionSummary batchSize;
    final DistributionSummary batchRequests;
    final java.util.concurrent.ConcurrentHashMap<Integer, Counter> requests = new java.util.concurrent.ConcurrentHashMap<>();
    final java.util.concurrent.ConcurrentHashMap<String, Counter> batches = new java.util.concurrent.ConcurrentHashMap<>();

    FunctionMeters(String function) {
      this.function = function;
      requestDuration = timer("inferium.request.duration", "End-to-end inference latency at the gateway", function);
      queueDuration = timer("inferium.queue.duration", "Time a request waited before a worker ran it", function);
      computeDuration = timer("inferium.compute.duration", "Model execution time reported by the worker", function);
      batchSize = DistributionSummary.builder("inferium.batch.size").description("Rows per batch sent to a worker")
          .baseUnit("rows").tag("function", function).publishPercentileHistogram().minimumExpectedValue(1.0).maximumExpectedValue(4096.0)
          .register(registry);
      batchRequests = DistributionSummary.builder("inferium.batch.merged").description("Requests merged into one batch")
          .baseUnit("requests").tag("function", function).register(registry);
    }

    Counter requests(int status) {
      return requests.computeIfAbsent(status, st -> Counter.builder("inferium.requests")
          .description("Inference requests by function and HTTP status")
          .tag("function", function).tag("status", Integer.toString(st)).register(registry));
    }

    Counter batches(String reason) {
      return batches.computeIfAbsent(reason, r -> Counter.builder("inferium.batches")
          .description("Batches by the reason they closed (full, preferred, delay, shape, unbatched)")
          .tag("function", function).tag("reason", r).register(registry));
    }
  }

  public EngineMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  private FunctionMeters of(String function) {
    FunctionMeters m = byFunction.get(function);
    return m != null ? m : byFunction.computeIfAbsent(function, FunctionMeters::new);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** One answered inference request. {@code function} is the name as routed (known functions only). */
  public void request(String function, int status, long totalNanos) {
    FunctionMeters m = of(function);
    m.requests(status).increment();
    m.requestDuration.record(totalNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** Time a request waited in the mempool before its batch was sent. */
  public void queued(String function, long nanos) {
    of(function).queueDuration.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** Compute time as the worker measured it. */
  public void compute(String function, long micros) {
    of(function).computeDuration.record(micros, java.util.concurrent.TimeUnit.MICROSECONDS);
  }

  /** Queue depth of one function version, sampled at scrape time. */
  public void queueDepth(String function, int version, Supplier<Number> depth) {
    Gauge.builder("inferium.queue.depth", depth).description("Requests waiting in the mempool")
        .tag("function", function).tag("version", Integer.toString(version)).register(registry);
  }

  /** A request refused or dropped before an answer: queue_full, deadline, client_gone, batch_too_large. */
  public void rejected(String function, String reason) {
    Counter.builder("inferium.rejections").description("Requests refused or dropped by the mempool, by reason")
        .tag("function", function).tag("reason", reason).register(registry).increment();
  }

  /** A batch sent to a worker: its rows, how many requests and why it closed. */
  public void batch(String function, long rows, int requests, String reason) {
    FunctionMeters m = of(function);
    m.batchSize.record(rows);
    m.batchRequests.record(requests);
    m.batches(reason).increment();
  }

  /** Requests put back in the queue after their worker was lost. */
  public void redispatched(String function, int requests) {
    Counter.builder("inferium.redispatched").description("Requests re-dispatched after a worker was lost")
        .tag("function", function).register(registry).increment(requests);
  }

  /** The pool grew or shrank: direction up/down, reason backlog/idle. */
  public void scaled(String direction, String reason) {
    Counter.builder("inferium.scaling.events").description("Worker pool size changes by direction and reason")
        .tag("direction", direction).tag("reason", reason).register(registry).increment();
  }

  /** A model unloaded from a worker (reason: idle). */
  public void unloaded(String reason) {
    Counter.builder("inferium.unloads").description("Models unloaded from workers, by reason")
        .tag("reason", reason).register(registry).increment();
  }

  /** A keep-warm function loaded on a worker before any request needed it. */
  public void prewarmed(String function) {
    Counter.builder("inferium.prewarms").description("Keep-warm loads done ahead of requests")
        .tag("function", function).register(registry).increment();
  }

  /** A request refused by a tier limit (rate, storage). */
  public void limited(String limit, String tier) {
    Counter.builder("inferium.limit.rejections").description("Requests refused by a tier limit")
        .tag("limit", limit).tag("tier", tier).register(registry).increment();
  }

  /** A redundant batch compared: its verdict and the agreeing group's least similarity. */
  public void verified(String function, String verdict, double similarity) {
    Counter.builder("inferium.verifications.runs").description("Redundant batches by verdict")
        .tag("function", function).tag("verdict", verdict).register(registry).increment();
    DistributionSummary.builder("inferium.verification.similarity").description("Similarity within the agreeing group")
        .baseUnit("ratio").tag("function", function).serviceLevelObjectives(0.9, 0.99, 0.999, 0.9999, 1.0).register(registry).record(similarity);
  }

  /** An optimistic-verification audit: caught, clean, inconclusive or skipped. */
  /** Audits of answered tensor batches waiting for a busy auditor to free. */
  public void auditsWaiting(Supplier<Number> waiting) {
    Gauge.builder("inferium.audits.waiting", waiting)
        .description("Audits of answered batches waiting for a busy worker to free, to audit on it").register(registry);
  }

  public void audited(String function, String outcome) {
    Counter.builder("inferium.audits").description("Audits of already-answered batches, by outcome")
        .tag("function", function).tag("outcome", outcome).register(registry).increment();
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

  /**
   * A worker's decode steps and the tokens they sampled, as its heartbeats report them (reset when the
   * worker restarts): {@code rate(tokens) / rate(steps)} is the mean number of sequences per step,
   * i.e. how full continuous batching keeps each step.
   */
  public void workerDecode(String workerId, java.util.function.ToDoubleFunction<String> heartbeatField) {
    io.micrometer.core.instrument.FunctionCounter.builder("inferium.worker.decode.steps", workerId,
            id -> heartbeatField.applyAsDouble("decode_steps"))
        .description("Decode steps a worker ran (all its text functions)").tag("worker", workerId).register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("inferium.worker.decode.tokens", workerId,
            id -> heartbeatField.applyAsDouble("decode_tokens"))
        .description("Tokens a worker's decode steps sampled").tag("worker", workerId).register(registry);
    // From the worker's heartbeat (at most one heartbeat period old).
    Gauge.builder("inferium.worker.resident.memory", workerId, id -> heartbeatField.applyAsDouble("rss_bytes"))
        .description("Resident memory of a worker process").baseUnit("bytes").tag("worker", workerId).register(registry);
    Gauge.builder("inferium.worker.heap.used", workerId, id -> heartbeatField.applyAsDouble("heap_used_bytes"))
        .description("Java heap a worker process uses").baseUnit("bytes").tag("worker", workerId).register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("inferium.worker.cpu", workerId,
            id -> Math.max(0, heartbeatField.applyAsDouble("cpu_seconds")))
        .description("CPU time a worker process used").baseUnit("seconds").tag("worker", workerId).register(registry);
  }

  /** Batches in flight on one worker (by node id; removed by {@link #forgetWorker} when it exits). */
  public void workerInflight(String workerId, Supplier<Number> inflight) {
    Gauge.builder("inferium.worker.inflight", inflight).description("Batches in flight per worker")
        .tag("worker", workerId).register(registry);
  }

  /** Removes a gone worker's series (node ids are per spawn, so they would otherwise pile up). */
  public void forgetWorker(String workerId) {
    for (String name : java.util.List.of("inferium.worker.inflight", "inferium.worker.decode.steps",
        "inferium.worker.decode.tokens", "inferium.worker.resident.memory", "inferium.worker.heap.used",
        "inferium.worker.cpu")) {
      registry.find(name).tag("worker", workerId).meters().forEach(registry::remove);
    }
  }

  /**
   * Eligible workers (attached and not ejected: those that can take work) and attached workers the
   * ledger has ejected. Alert when eligible drops below the pool size, and page at 0 (readiness is
   * then 503).
   */
  public void workersEligible(Supplier<Number> eligible, Supplier<Number> ejected) {
    Gauge.builder("inferium.workers.eligible", eligible).description("Workers attached and not ejected (can take work)")
        .register(registry);
    Gauge.builder("inferium.workers.ejected", ejected).description("Attached workers the ledger has ejected (get no work)")
        .register(registry);
  }

  /** Lines of worker output not logged: over a worker's line rate (WorkerOutput). */
  public Counter workerOutputDropped() {
    return Counter.builder("inferium.worker.output.dropped").baseUnit("lines")
        .description("Lines of worker output dropped from the gateway's log (over the per-worker line rate)").register(registry);
  }

  /** Lines of worker output logged cut at the line limit (WorkerOutput). */
  public Counter workerOutputTruncated() {
    return Counter.builder("inferium.worker.output.truncated").baseUnit("lines")
        .description("Lines of worker output cut at the line length limit").register(registry);
  }

  public void workersAlive(Supplier<Number> alive) {
    Gauge.builder("inferium.workers.alive", alive).description("Worker processes attached and serving").register(registry);
  }

  /** The pool's size now (the configured minimum, more while autoscaled up): what {@code alive} should reach. */
  public void workersDesired(Supplier<Number> desired) {
    Gauge.builder("inferium.workers.desired", desired).description("Worker pool slots (what alive should reach)")
        .register(registry);
  }

  /** Free and total space of the file system holding the data directory (event log, models, embedded PostgreSQL). */
  public void dataDisk(java.nio.file.Path dataDir) {
    new io.micrometer.core.instrument.binder.system.DiskSpaceMetrics(dataDir.toFile()).bindTo(registry);
  }

  private Timer timer(String name, String description, String function) {
    return Timer.builder(name).description(description).tag("function", function)
        .publishPercentileHistogram().minimumExpectedValue(MIN_LATENCY).maximumExpectedValue(MAX_LATENCY)
        .register(registry);
  }
}
