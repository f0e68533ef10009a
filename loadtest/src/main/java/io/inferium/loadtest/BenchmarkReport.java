package io.inferium.loadtest;

import io.inferium.loadtest.Benchmark.Outcome;
import io.inferium.loadtest.Benchmark.Run;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's one table and its ratios against the targets, as Markdown, JSON and a
 * chart. Pure rendering of an {@link Outcome}, so it is tested without running anything.
 */
public final class BenchmarkReport {

  /** Concurrency at which (c) is compared with (b). */
  static final int COMPARE_AT = 32;

  private final Outcome outcome;
  private final JsonObject meta;

  public BenchmarkReport(Outcome outcome, JsonObject meta) {
    this.outcome = outcome;
    this.meta = meta;
  }

  /** (a): the fastest layout × batch. */
  OrtCeiling.Point bestCeiling() {
    return outcome.ceiling().stream().max(Comparator.comparingDouble(OrtCeiling.Point::rowsPerSecond)).orElseThrow();
  }

  /** (a) for one row: the lowest median of a single caller running batch 1. */
  double singleRowMs() {
    return outcome.ceiling().stream().filter(p -> p.batch() == 1 && p.layout().callers() == 1)
        .mapToDouble(OrtCeiling.Point::p50Ms).min().orElse(Double.NaN);
  }

  static double peak(List<Run> runs) {
    return runs.stream().mapToDouble(r -> r.result().throughput()).max().orElse(Double.NaN);
  }

  static Run at(List<Run> runs, int concurrency) {
    return runs.stream().filter(r -> r.result().concurrency() == concurrency).findFirst().orElse(null);
  }

  private List<String> batched() {
    return outcome.delays().entrySet().stream().filter(e -> e.getValue() >= 0).map(Map.Entry::getKey).toList();
  }

  private String unbatched() {
    return outcome.delays().entrySet().stream().filter(e -> e.getValue() < 0).map(Map.Entry::getKey).findFirst()
        .orElseThrow();
  }

  /** Ratios per batched function: (c)/(a) at saturation, (c)/(b) at concurrency 32, p50 overhead at concurrency 1. */
  JsonArray ratios() {
    JsonArray out = new JsonArray();
    double a = bestCeiling().rowsPerSecond();
    List<Run> b = outcome.sweeps().get(unbatched());
    for (String fn : batched()) {
      List<Run> c = outcome.sweeps().get(fn);
      int delay = outcome.delays().get(fn);
      Run c32 = at(c, COMPARE_AT);
      Run b32 = at(b, COMPARE_AT);
      Run c1 = at(c, 1);
      double overhead = c1 == null ? Double.NaN : c1.result().latencyMs(50) - singleRowMs();
      JsonObject o = new JsonObject().put("function", fn).put("queue_delay_ms", delay)
          .put("c_peak_per_s", LoadResult.round(peak(c)))
          .put("c_over_a_at_saturation", LoadResult.round(peak(c) / a)).put("target_c_over_a", 0.85);
      if (c32 != null && b32 != null) {
        o.put("c_over_b_at_32", LoadResult.round(c32.result().throughput() / b32.result().throughput()))
            .put("target_c_over_b", 3.0);
      }
      o.put("p50_overhead_ms_at_1", LoadResult.round(overhead)).put("target_p50_overhead_ms", 1.0 + delay);
      out.add(o);
    }
    return out;
  }

  public String markdown() {
    StringBuilder sb = new StringBuilder();
    OrtCeiling.Point a = bestCeiling();
    List<String> cols = new ArrayList<>();
    cols.add(unbatched());
    cols.addAll(batched());
    sb.append("(a) ONNX Runtime in-process, best of batch sizes ").append(outcome.ceiling().stream()
            .map(OrtCeiling.Point::batch).distinct().sorted().toList())
        .append(": **").append(ReportFiles.fmt(a.rowsPerSecond())).append(" rows/s** at batch ").append(a.batch())
        .append(" (").append(a.layout().callers()).append(" caller(s) × ").append(a.layout().intraOpThreads())
        .append(" intra-op thread(s)); one row alone: p50 ").append(ReportFiles.ms(singleRowMs())).append(".\n\n");
    sb.append("| concurrency |");
    for (String fn : cols) {
      String what = outcome.delays().get(fn) < 0 ? "(b) batching off" : "(c) batch ≤ " + maxBatch(fn) + ", delay "
          + outcome.delays().get(fn) + " ms";
      sb.append(' ').append(what).append(": ok/s | p50 | p99 | rows/batch |");
    }
    sb.append("\n|---|");
    sb.append("---|---|---|---|".repeat(cols.size()));
    sb.append('\n');
    List<Integer> concurrencies = outcome.sweeps().get(cols.get(0)).stream().map(r -> r.result().concurrency()).toList();
    for (int c : concurrencies) {
      sb.append("| ").append(c).append(" |");
      for (String fn : cols) {
        Run r = at(outcome.sweeps().get(fn), c);
        if (r == null) {
          sb.append(" – | – | – | – |");
          continue;
        }
        sb.append(' ').append(ReportFiles.fmt(r.result().throughput()));
        if (r.result().errorCount() > 0) {
          sb.append(" (").append(ReportFiles.errors(r.result().errors())).append(')');
        }
        sb.append(" | ").append(ReportFiles.ms(r.result().latencyMs(50))).append(" | ")
            .append(ReportFiles.ms(r.result().latencyMs(99))).append(" | ")
            .append(fixed(r.server().meanBatchRows(), 1)).append(" |");
      }
      sb.append('\n');
    }
    sb.append("\nRatios (targets in brackets):\n\n");
    sb.append("| (c) | peak ok/s | (c)/(a) at saturation [≥ 0.85] | (c)/(b) at concurrency ").append(COMPARE_AT)
        .append(" [≥ 3] | p50 overhead at concurrency 1 over (a)'s single row [< 1 ms + delay] |\n|---|---|---|---|---|\n");
    for (Object o : ratios()) {
      JsonObject r = (JsonObject) o;
      sb.append("| ").append(r.getString("function")).append(" | ").append(ReportFiles.fmt(r.getDouble("c_peak_per_s")))
          .append(" | ").append(fixed(r.getDouble("c_over_a_at_saturation"), 2))
          .append(" | ").append(r.containsKey("c_over_b_at_32") ? fixed(r.getDouble("c_over_b_at_32"), 2) : "–")
          .append(" | ").append(ReportFiles.ms(r.getDouble("p50_overhead_ms_at_1")))
          .append(" [< ").append(fixed(r.getDouble("target_p50_overhead_ms"), 0)).append(" ms] |\n");
    }
    sb.append("\n(a) in-process, every layout (callers × intra-op threads) and batch:\n\n| layout | batch | rows/s | run p50 |\n|---|---|---|---|\n");
    for (OrtCeiling.Point p : outcome.ceiling()) {
      sb.append("| ").append(p.layout()).append(" | ").append(p.batch()).append(" | ")
          .append(ReportFiles.fmt(p.rowsPerSecond())).append(" | ").append(ReportFiles.ms(p.p50Ms())).append(" |\n");
    }
    sb.append("\nGateway metrics per run (deltas of `GET /metrics`): batches by close reason, mean queue and compute time:\n\n")
        .append("| function | concurrency | batches | rows/batch | closed by | queue mean | compute mean |\n|---|---|---|---|---|---|---|\n");
    for (var e : outcome.sweeps().entrySet()) {
      for (Run r : e.getValue()) {
        serverRow(sb, e.getKey(), Integer.toString(r.result().concurrency()), r.server());
      }
    }
    for (Run r : outcome.open()) {
      serverRow(sb, r.result().label(), "open " + ReportFiles.fmt(r.result().rate()) + "/s", r.server());
    }
    if (!outcome.open().isEmpty()) {
      sb.append("\nOpen loop (latency from the intended send time, so stalls count for every request they delay):\n\n")
          .append(ReportFiles.markdown(outcome.open().stream().map(Run::result).toList()));
    }
    return sb.toString();
  }

  private static void serverRow(StringBuilder sb, String fn, String load, ServerStats s) {
    StringBuilder reasons = new StringBuilder();
    s.batchesByReason().forEach((k, v) -> reasons.append(reasons.length() == 0 ? "" : ", ").append(k).append(' ')
        .append(Math.round(v)));
    sb.append("| ").append(fn).append(" | ").append(load).append(" | ").append(Math.round(s.batches())).append(" | ")
        .append(fixed(s.meanBatchRows(), 1)).append(" | ").append(reasons).append(" | ")
        .append(ReportFiles.ms(s.meanQueueMs())).append(" | ").append(ReportFiles.ms(s.meanComputeMs())).append(" |\n");
  }

  private String maxBatch(String fn) {
    return meta.getInteger("max_batch_size", 0).toString();
  }

  static String fixed(double v, int decimals) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  public JsonObject toJson() {
    JsonArray ceiling = new JsonArray();
    outcome.ceiling().forEach(p -> ceiling.add(p.toJson()));
    JsonObject sweeps = new JsonObject();
    outcome.sweeps().forEach((fn, runs) -> {
      JsonArray arr = new JsonArray();
      runs.forEach(r -> arr.add(r.result().toJson().put("server", r.server().toJson())));
      sweeps.put(fn, new JsonObject().put("queue_delay_ms", outcome.delays().get(fn)).put("runs", arr));
    });
    JsonArray open = new JsonArray();
    outcome.open().forEach(r -> open.add(r.result().toJson().put("server", r.server().toJson())));
    return meta.copy().put("workers", outcome.workers()).put("ceiling", ceiling)
        .put("ceiling_best", bestCeiling().toJson()).put("ceiling_single_row_p50_ms", LoadResult.round(singleRowMs()))
        .put("sweeps", sweeps).put("open_loop", open).put("ratios", ratios());
  }

  /** Writes {@code benchmark.json}, {@code benchmark.md} and {@code benchmark.png} into {@code dir}. */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("benchmark.json"), toJson().encodePrettily(), StandardCharsets.UTF_8);
    StringBuilder md = new StringBuilder("# Inferium benchmark\n\n");
    meta.forEach(e -> md.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n'));
    md.append("- workers: ").append(outcome.workers()).append("\n\n").append(markdown());
    Files.writeString(dir.resolve("benchmark.md"), md.toString(), StandardCharsets.UTF_8);
    List<SweepChart.Series> series = new ArrayList<>();
    outcome.sweeps().forEach((fn, runs) -> series.add(new SweepChart.Series(fn, runs.stream().map(Run::result).toList())));
    SweepChart.write(dir.resolve("benchmark.png"),
        meta.getString("chart_title", "MLP 256-512-512-10, one row per request"), series,
        bestCeiling().rowsPerSecond());
  }
}
