package io.inferium.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The price of trust, side by side in one run: the same model deployed with verification
 * {@code none}, {@code audit(p)} and {@code redundant(k)} on one gateway, swept over the same
 * concurrencies (interleaved, so neither JIT warm-up nor a neighbour's load favours one policy).
 */
final class VerificationBenchmark {

  private static final Logger log = LoggerFactory.getLogger(VerificationBenchmark.class);

  record Settings(BenchModel model, boolean binary, int workers, int workerSlots, int workerThreads, String dbUrl,
      List<Integer> concurrencies, Duration warmup, Duration duration, double auditP, int k, long maxRequests,
      int maxBatch) {}

  /**
   * Throughput and p99 per policy and concurrency, and how the audits of the audited function ended over the whole
   * sweep ({@code inferium_audits_total} by outcome: a skipped audit cost nothing, so the figure means little without it).
   */
  record Outcome(Map<String, List<LoadResult>> sweeps, Map<String, Long> audits) {

    String markdown(Settings s) {
      StringBuilder md = new StringBuilder("| concurrency |");
      sweeps.keySet().forEach(p -> md.append(" ").append(p).append(" ok/s | p50 | p99 |"));
      md.append("\n|---|").append("---|---|---|".repeat(sweeps.size())).append('\n');
      for (int i = 0; i < s.concurrencies().size(); i++) {
        md.append("| ").append(s.concurrencies().get(i)).append(" |");
        for (List<LoadResult> runs : sweeps.values()) {
          LoadResult r = runs.get(i);
          md.append(String.format(Locale.ROOT, " %.0f | %.2f ms | %.2f ms |", r.throughput(), r.latencyMs(50), r.latencyMs(99)));
        }
        md.append('\n');
      }
      List<String> names = List.copyOf(sweeps.keySet());
      md.append("\nThroughput relative to `").append(names.get(0)).append("` at each concurrency:\n\n| concurrency |");
      names.subList(1, names.size()).forEach(p -> md.append(" ").append(p).append(" |"));
      md.append("\n|---|").append("---|".repeat(names.size() - 1)).append('\n');
      for (int i = 0; i < s.concurrencies().size(); i++) {
        md.append("| ").append(s.concurrencies().get(i)).append(" |");
        double base = sweeps.get(names.get(0)).get(i).throughput();
        for (String p : names.subList(1, names.size())) {
          md.append(String.format(Locale.ROOT, " %.2f |", sweeps.get(p).get(i).throughput() / base));
        }
        md.append('\n');
      }
      md.append("\nAudits of the audited function over the sweep, by outcome: ").append(audits).append('\n');
      return md.toString();
    }
  }

  private final Settings settings;

  VerificationBenchmark(Settings settings) {
    this.settings = settings;
  }

  Outcome run() throws Exception {
    Path model = Benchmark.extractModel(settings.model());
    try (BenchmarkServer server = BenchmarkServer.start(settings.workers(), settings.dbUrl(), settings.workerSlots(),
        settings.workerThreads())) {
      String base = settings.model().name();
      Map<String, JsonObject> policies = new LinkedHashMap<>();
      policies.put("none", new JsonObject().put("policy", "none"));
      policies.put("audit(" + settings.auditP() + ")", new JsonObject().put("policy", "audit").put("p", settings.auditP()));
      policies.put("redundant(" + settings.k() + ")", new JsonObject().put("policy", "redundant").put("k", settings.k()));
      Map<String, String> functions = new LinkedHashMap<>();
      int n = 0;
      for (var e : policies.entrySet()) {
        String fn = base + "-verify-" + (n++);
        server.deploy(new JsonObject().put("name", fn).put("kind", "tensor").put("verification", e.getValue())
            .put("batching", new JsonObject().put("max_batch_size", settings.maxBatch()).put("max_queue_delay_ms", 0)), model);
        functions.put(e.getKey(), fn);
      }
      InferBody body = settings.binary() ? InferBody.binaryRow(settings.model().input(), settings.model().shape(1), 1)
          : InferBody.jsonRow(settings.model().input(), settings.model().shape(1), 1);
      Vertx vertx = Vertx.vertx();
      try {
        LoadGenerator gen = new LoadGenerator(vertx);
        Map<String, List<LoadResult>> sweeps = new LinkedHashMap<>();
        Map<String, LoadTarget> targets = new LinkedHashMap<>();
        long limit = settings.warmup().plus(settings.duration()).toSeconds() + 90;
        for (var e : functions.entrySet()) {
          targets.put(e.getKey(), LoadTarget.infer(server.url(), e.getValue(), server.adminKey(), body));
          gen.closedLoop(e.getKey(), targets.get(e.getKey()), new LoadGenerator.ClosedPlan(4, Duration.ZERO,
              Duration.ofSeconds(2), 100_000)).await(limit, TimeUnit.SECONDS);
          sweeps.put(e.getKey(), new ArrayList<>());
        }
        for (int c : settings.concurrencies()) {
          for (String policy : functions.keySet()) {
            LoadResult r = gen.closedLoop(policy, targets.get(policy),
                new LoadGenerator.ClosedPlan(c, settings.warmup(), settings.duration(), settings.maxRequests()))
                .await(limit, TimeUnit.SECONDS);
            log.info("  {} c={}: {} ok/s, p50 {} ms, p99 {} ms, errors {}", policy, c, Math.round(r.throughput()),
                LoadResult.round(r.latencyMs(50)), LoadResult.round(r.latencyMs(99)), r.errors());
            sweeps.get(policy).add(r);
          }
        }
        return new Outcome(sweeps, audits(server, functions.get(names(policies).get(1))));
      } finally {
        vertx.close().await(30, TimeUnit.SECONDS);
      }
    } finally {
      Files.deleteIfExists(model);
    }
  }

  private static List<String> names(Map<String, JsonObject> policies) {
    return List.copyOf(policies.keySet());
  }

  /** The audits of {@code function} by outcome, once none waits for an auditor any more (at most 60 s). */
  private static Map<String, Long> audits(BenchmarkServer server, String function) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpRequest scrape = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + "/metrics"))
        .header("Authorization", "Bearer " + server.adminKey()).build();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String text;
    do {
      text = http.send(scrape, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    } while (value(text, "inferium_audits_waiting") > 0 && System.nanoTime() < end && sleep());
    Map<String, Long> out = new LinkedHashMap<>();
    for (String outcome : List.of("clean", "caught", "inconclusive", "skipped")) {
      out.put(outcome, (long) value(text, "inferium_audits_total{function=\"" + function + "\",outcome=\"" + outcome + "\"}"));
    }
    return out;
  }

  private static double value(String scrape, String series) {
    return scrape.lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).orElse(0.0);
  }

  private static boolean sleep() throws InterruptedException {
    Thread.sleep(500);
    return true;
  }
}
