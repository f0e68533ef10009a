package io.inferium.loadtest;

import io.inferium.infra.impl.EmbeddedCluster;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What durability costs, side by side in one JVM: four gateways on their own embedded PostgreSQL and
 * data directory, identical but for the embedded database's fsync/synchronous_commit (on, the default,
 * or off) and whether an answer waits for its usage event to be durable (on, the default, or off). The
 * same function (unbatched, so every request is one worker call and one usage event) is driven with a
 * closed loop, the variants interleaved round by round so that a neighbour's load biases none alone.
 */
final class DurabilityBenchmark {

  private static final Logger log = LoggerFactory.getLogger(DurabilityBenchmark.class);

  record Variant(String label, boolean pgDurable, boolean usageWait) {
  }

  static final List<Variant> VARIANTS = List.of(
      new Variant("fsync on, usage wait on (default)", true, true),
      new Variant("fsync on, usage wait off", true, false),
      new Variant("fsync off, usage wait on", false, true),
      new Variant("fsync off, usage wait off", false, false));

  private final int workers;
  private final int concurrency;
  private final Duration warmup;
  private final Duration duration;
  private final int rounds;

  DurabilityBenchmark(int workers, int concurrency, Duration warmup, Duration duration, int rounds) {
    this.workers = workers;
    this.concurrency = concurrency;
    this.warmup = warmup;
    this.duration = duration;
    this.rounds = rounds;
  }

  /** Returns the report as a Markdown table. */
  String run() throws Exception {
    Path model = Benchmark.extractModel(BenchModel.MLP);
    List<BenchmarkServer> servers = new ArrayList<>();
    ExecutorService deploys = Executors.newFixedThreadPool(VARIANTS.size());
    Vertx loadVertx = Vertx.vertx();
    try {
      for (Variant v : VARIANTS) {
        // Both switches are read when the gateway starts (Completions, EmbeddedCluster), one gateway at a time.
        System.setProperty(EmbeddedCluster.UNSAFE_NO_FSYNC_PROPERTY, Boolean.toString(!v.pgDurable()));
        System.setProperty(io.inferium.engine.completions.Completions.WAIT_PROPERTY, Boolean.toString(v.usageWait()));
        try {
          servers.add(BenchmarkServer.start(workers, null, 0, 0));
        } finally {
          System.clearProperty(EmbeddedCluster.UNSAFE_NO_FSYNC_PROPERTY);
          System.clearProperty(io.inferium.engine.completions.Completions.WAIT_PROPERTY);
        }
      }
      JsonObject spec = new JsonObject().put("name", "mlp").put("kind", "tensor")
          .put("batching", new JsonObject().put("max_batch_size", 0));
      List<Future<JsonObject>> deployed = new ArrayList<>();
      for (BenchmarkServer s : servers) {
        deployed.add(deploys.submit(() -> s.deploy(spec, model)));
      }
      for (Future<JsonObject> f : deployed) {
        f.get(5, TimeUnit.MINUTES);
      }
      InferBody body = InferBody.jsonRow(BenchModel.MLP.input(), BenchModel.MLP.shape(1), 1);
      LoadGenerator gen = new LoadGenerator(loadVertx);
      long[] ok = new long[VARIANTS.size()];
      double[] seconds = new double[VARIANTS.size()];
      long[] errors = new long[VARIANTS.size()];
      List<List<Double>> p50 = new ArrayList<>();
      List<List<Double>> p99 = new ArrayList<>();
      for (int i = 0; i < VARIANTS.size(); i++) {
        p50.add(new ArrayList<>());
        p99.add(new ArrayList<>());
      }
      long limit = warmup.plus(duration).toSeconds() + TimeUnit.MILLISECONDS.toSeconds(LoadTarget.DEFAULT_TIMEOUT_MS) + 30;
      // JIT and connection warm-up of every gateway before anything is measured.
      for (int i = 0; i < VARIANTS.size(); i++) {
        LoadTarget target = LoadTarget.infer(servers.get(i).url(), "mlp", servers.get(i).adminKey(), body);
        gen.closedLoop("warm-up", target, new LoadGenerator.ClosedPlan(concurrency, Duration.ZERO, Duration.ofSeconds(3),
            10_000_000)).await(limit, TimeUnit.SECONDS);
      }
      for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < VARIANTS.size(); i++) {
          LoadTarget target = LoadTarget.infer(servers.get(i).url(), "mlp", servers.get(i).adminKey(), body);
          LoadResult r = gen.closedLoop(VARIANTS.get(i).label(), target,
              new LoadGenerator.ClosedPlan(concurrency, warmup, duration, 10_000_000)).await(limit, TimeUnit.SECONDS);
          ok[i] += r.ok();
          seconds[i] += r.seconds();
          errors[i] += r.errorCount();
          p50.get(i).add(r.latencyMs(50));
          p99.get(i).add(r.latencyMs(99));
          log.info("  round {} {}: {} ok/s, p50 {} ms, p99 {} ms, errors {}", round + 1, VARIANTS.get(i).label(),
              Math.round(r.throughput()), LoadResult.round(r.latencyMs(50)), LoadResult.round(r.latencyMs(99)),
              r.errorCount());
        }
      }
      double base = ok[0] / seconds[0];
      StringBuilder md = new StringBuilder();
      md.append("| variant | ok/s | ratio to default | p50 (median of rounds) | p99 (median of rounds) | errors |\n");
      md.append("|---|---|---|---|---|---|\n");
      for (int i = 0; i < VARIANTS.size(); i++) {
        double rate = ok[i] / seconds[i];
        md.append(String.format(Locale.ROOT, "| %s | %.0f | %.2f | %.2f ms | %.2f ms | %d |%n", VARIANTS.get(i).label(), rate,
            rate / base, median(p50.get(i)), median(p99.get(i)), errors[i]));
      }
      return md.toString();
    } finally {
      deploys.shutdownNow();
      loadVertx.close().await(30, TimeUnit.SECONDS);
      for (BenchmarkServer s : servers) {
        s.close();
      }
      Files.deleteIfExists(model);
    }
  }

  private static double median(List<Double> xs) {
    List<Double> sorted = new ArrayList<>(xs);
    sorted.sort(Double::compare);
    return sorted.get(sorted.size() / 2);
  }
}
