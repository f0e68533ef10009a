package io.inferium.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The side-by-side benchmark, one JVM, one model: (a) ONNX Runtime in-process at its best batch
 * size, (b) the gateway with batching off, (c) the gateway with dynamic batching at a few queue
 * delays, each (b)/(c) swept over closed-loop concurrencies, then an open loop on the best (c).
 */
public final class Benchmark {

  private static final Logger log = LoggerFactory.getLogger(Benchmark.class);

  /** One closed- or open-loop run against the gateway with what the gateway said about it. */
  public record Run(LoadResult result, ServerStats server) {}

  /** Everything one benchmark run measured. */
  public record Outcome(List<OrtCeiling.Point> ceiling, Map<String, List<Run>> sweeps, Map<String, Integer> delays,
      List<Run> open, int workers) {}

  private final BenchmarkSettings settings;

  public Benchmark(BenchmarkSettings settings) {
    this.settings = settings;
  }

  public Outcome run() throws Exception {
    Path model = extractModel(settings.model());
    try {
      log.info("(a) ONNX Runtime in-process: batches {}, layouts {}", settings.ceilingBatches(), settings.ceilingLayouts());
      List<OrtCeiling.Point> ceiling = new OrtCeiling(model, settings.model().input(), settings.model().rowShape())
          .measure(settings.ceilingLayouts(), settings.ceilingBatches(), settings.ceilingEach());
      ceiling.forEach(p -> log.info("  {} batch {}: {} rows/s", p.layout(), p.batch(), Math.round(p.rowsPerSecond())));
      try (BenchmarkServer server = BenchmarkServer.start(settings.workers(), settings.dbUrl(),
          settings.workerSlots(), settings.workerThreads())) {
        return againstGateway(server, model, ceiling);
      }
    } finally {
      Files.deleteIfExists(model);
    }
  }

  private Outcome againstGateway(BenchmarkServer server, Path model, List<OrtCeiling.Point> ceiling) throws Exception {
    Map<String, Integer> delays = new LinkedHashMap<>();
    BenchModel m = settings.model();
    String unbatched = m.name() + "-unbatched";
    server.deploy(spec(unbatched, new JsonObject().put("max_batch_size", 0)), model);
    delays.put(unbatched, -1);
    for (int d : settings.queueDelaysMs()) {
      String name = m.name() + "-batch" + settings.maxBatchSize() + "-delay" + d + "ms";
      server.deploy(spec(name, new JsonObject().put("max_batch_size", settings.maxBatchSize()).put("max_queue_delay_ms", d)),
          model);
      delays.put(name, d);
    }
    InferBody body = settings.binary() ? InferBody.binaryRow(m.input(), m.shape(1), 1) : InferBody.jsonRow(m.input(), m.shape(1), 1);
    Vertx loadVertx = Vertx.vertx();
    try {
      LoadGenerator gen = new LoadGenerator(loadVertx);
      Map<String, List<Run>> sweeps = new LinkedHashMap<>();
      Map<String, LoadTarget> targets = new LinkedHashMap<>();
      for (String fn : delays.keySet()) {
        targets.put(fn, LoadTarget.infer(server.url(), fn, server.adminKey(), body));
        warm(gen, fn, targets.get(fn));
        sweeps.put(fn, new ArrayList<>());
      }
      // Concurrency outside, functions inside: (b) and every (c) at one concurrency run seconds apart
      // from each other, so JIT warm-up and a neighbour's load on a shared machine bias none of them alone.
      for (int c : settings.concurrencies()) {
        for (String fn : delays.keySet()) {
          LoadTarget target = targets.get(fn);
          List<Run> runs = sweeps.get(fn);
          MetricsSnapshot before = server.metrics();
          LoadResult r = gen.closedLoop(fn, target,
                  new LoadGenerator.ClosedPlan(c, settings.warmup(), settings.duration(), settings.maxRequests()))
              .await(runLimitSeconds(), TimeUnit.SECONDS);
          ServerStats stats = ServerStats.between(before, server.metrics(), fn);
          log.info("  {} c={}: {} ok/s, p50 {} ms, p99 {} ms, errors {}, {} rows/batch", fn, c, Math.round(r.throughput()),
              LoadResult.round(r.latencyMs(50)), LoadResult.round(r.latencyMs(99)), r.errors(),
              LoadResult.round(stats.meanBatchRows()));
          runs.add(new Run(r, stats));
        }
      }
      List<Run> open = openLoops(server, gen, body, sweeps, delays);
      return new Outcome(ceiling, sweeps, delays, open, server.workers());
    } finally {
      loadVertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** Open loops on the batched function with the highest peak, at fractions of that peak. */
  private List<Run> openLoops(BenchmarkServer server, LoadGenerator gen, InferBody body, Map<String, List<Run>> sweeps,
      Map<String, Integer> delays) throws Exception {
    String best = null;
    double peak = 0;
    for (var e : sweeps.entrySet()) {
      if (delays.get(e.getKey()) < 0) {
        continue;
      }
      for (Run r : e.getValue()) {
        if (r.result().throughput() > peak) {
          peak = r.result().throughput();
          best = e.getKey();
        }
      }
    }
    List<Run> out = new ArrayList<>();
    if (best == null) {
      return out;
    }
    LoadTarget target = LoadTarget.infer(server.url(), best, server.adminKey(), body);
    for (double f : settings.openFractions()) {
      double rate = Math.max(1, Math.round(f * peak));
      MetricsSnapshot before = server.metrics();
      LoadResult r = gen.openLoop(best + " @" + Math.round(100 * f) + "% of peak", target,
              new LoadGenerator.OpenPlan(rate, settings.openConnections(), settings.warmup(), settings.duration(),
                  settings.maxRequests()))
          .await(runLimitSeconds(), TimeUnit.SECONDS);
      ServerStats stats = ServerStats.between(before, server.metrics(), best);
      log.info("  open {} at {}/s: {} ok/s, p50 {} ms, p99 {} ms, errors {}", best, rate, Math.round(r.throughput()),
          LoadResult.round(r.latencyMs(50)), LoadResult.round(r.latencyMs(99)), r.errors());
      out.add(new Run(r, stats));
    }
    return out;
  }

  /** Until one request answers 200 (the cold load), then a short closed loop unmeasured. */
  private void warm(LoadGenerator gen, String fn, LoadTarget target) throws Exception {
    LoadResult first = gen.closedLoop(fn, target, new LoadGenerator.ClosedPlan(1, Duration.ZERO, Duration.ofSeconds(10), 1))
        .await(runLimitSeconds(), TimeUnit.SECONDS);
    if (first.ok() != 1) {
      throw new IllegalStateException(fn + ": first request failed: " + first.errors());
    }
    gen.closedLoop(fn, target, new LoadGenerator.ClosedPlan(8, Duration.ZERO, Duration.ofSeconds(2), 100_000))
        .await(runLimitSeconds(), TimeUnit.SECONDS);
  }

  private long runLimitSeconds() {
    return settings.warmup().plus(settings.duration()).toSeconds() + TimeUnit.MILLISECONDS.toSeconds(LoadTarget.DEFAULT_TIMEOUT_MS) + 30;
  }

  private JsonObject spec(String name, JsonObject batching) {
    return new JsonObject().put("name", name).put("kind", "tensor")
        .put("description", "load-test " + settings.model().title()).put("batching", batching);
  }

  static Path extractModel(BenchModel m) throws Exception {
    Path tmp = Files.createTempFile("inferium-" + m.name() + "-", ".onnx");
    try (InputStream in = Benchmark.class.getResourceAsStream(m.resource())) {
      if (in == null) {
        throw new IllegalStateException(m.resource() + " is missing from the jar");
      }
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
    }
    return tmp;
  }
}
