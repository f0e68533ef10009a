package io.inferium.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.loadtest.Benchmark.Run;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

  static Histogram latencies(long... micros) {
    Histogram h = new Histogram(Recording.MAX_MICROS, 3);
    for (long m : micros) {
      h.recordValue(m);
    }
    return h;
  }

  static LoadResult closed(String label, int concurrency, long ok, long... micros) {
    return new LoadResult(label, "closed", concurrency, 0, 1.0, ok, Map.of(), latencies(micros));
  }

  static Run run(LoadResult r, double rowsPerBatch) {
    return new Run(r, new ServerStats(10, rowsPerBatch, Map.of("delay", 10.0), 1.5, 0.2));
  }

  @Test
  void markdownAndJsonCarryThroughputErrorsAndPercentiles(@TempDir Path dir) throws Exception {
    LoadResult a = new LoadResult("fn", "closed", 8, 0, 2.0, 1000, Map.of("http 503", 3L), latencies(1000, 2000, 3000, 40_000));
    LoadResult b = new LoadResult("fn", "closed", 16, 0, 2.0, 3000, Map.of(), latencies(5000));

    ReportFiles.write(dir, "run", "test run", new JsonObject().put("command", "x"), List.of(a, b));

    String md = Files.readString(dir.resolve("run.md"));
    assertTrue(md.contains("| fn | closed | 8 | – | 500 | 3 × http 503 | 2.00 ms |"), md);
    assertTrue(md.contains("| fn | closed | 16 | – | 1500 | 0 | 5.00 ms |"), md);
    JsonObject json = new JsonObject(Files.readString(dir.resolve("run.json")));
    assertEquals("x", json.getString("command"));
    JsonObject first = json.getJsonArray("runs").getJsonObject(0);
    assertEquals(500.0, first.getDouble("throughput_per_s"));
    assertEquals(3, first.getJsonObject("errors").getInteger("http 503"));
    assertEquals(40.0, first.getJsonObject("latency_ms").getDouble("p99"), 0.1);
    assertNotNull(ImageIO.read(dir.resolve("run.png").toFile()));
  }

  @Test
  void benchmarkReportComputesTheIssueRatios(@TempDir Path dir) throws Exception {
    List<OrtCeiling.Point> ceiling = List.of(
        new OrtCeiling.Point(new OrtCeiling.Layout(1, 1), 1, 2_000, latencies(400)),
        new OrtCeiling.Point(new OrtCeiling.Layout(1, 1), 32, 10_000, latencies(3_200)));
    Map<String, List<Run>> sweeps = new LinkedHashMap<>();
    sweeps.put("b", List.of(run(closed("b", 1, 800, 1_000), 1), run(closed("b", 32, 2_000, 16_000), 1)));
    sweeps.put("c", List.of(run(closed("c", 1, 500, 2_900), 1), run(closed("c", 32, 9_000, 4_000), 20)));
    Map<String, Integer> delays = new LinkedHashMap<>();
    delays.put("b", -1);
    delays.put("c", 2);
    BenchmarkReport report = new BenchmarkReport(new Benchmark.Outcome(ceiling, sweeps, delays, List.of(), 1),
        new JsonObject().put("max_batch_size", 64));

    JsonObject ratios = report.ratios().getJsonObject(0);
    assertEquals(0.9, ratios.getDouble("c_over_a_at_saturation"), 1e-9);
    assertEquals(4.5, ratios.getDouble("c_over_b_at_32"), 1e-9);
    assertEquals(2.5, ratios.getDouble("p50_overhead_ms_at_1"), 0.01);
    assertEquals(3.0, ratios.getDouble("target_p50_overhead_ms"));
    String md = report.markdown();
    assertTrue(md.contains("**10000 rows/s** at batch 32"), md);
    assertTrue(md.contains("| 32 | 2000 | 16.0 ms |"), md);
    assertTrue(md.contains("| c | 9000 | 0.90 | 4.50 | 2.50 ms [< 3 ms] |"), md);

    report.write(dir);
    assertNotNull(ImageIO.read(dir.resolve("benchmark.png").toFile()));
    assertEquals(0.9, new JsonObject(Files.readString(dir.resolve("benchmark.json")))
        .getJsonArray("ratios").getJsonObject(0).getDouble("c_over_a_at_saturation"), 1e-9);
  }

  @Test
  void metricsDeltasExplainARun() {
    MetricsSnapshot before = MetricsSnapshot.parse("""
        # HELP inferium_batch_size_rows_count x
        inferium_batch_size_rows_count{function="m"} 10
        inferium_batch_size_rows_sum{function="m"} 20
        inferium_batches_total{function="m",reason="delay"} 10
        inferium_queue_duration_seconds_sum{function="m"} 0.01
        inferium_queue_duration_seconds_count{function="m"} 20
        """);
    MetricsSnapshot after = MetricsSnapshot.parse("""
        inferium_batch_size_rows_count{function="m"} 30
        inferium_batch_size_rows_sum{function="m"} 220
        inferium_batch_size_rows_sum{function="other"} 999
        inferium_batches_total{function="m",reason="delay"} 15
        inferium_batches_total{function="m",reason="full"} 15
        inferium_queue_duration_seconds_sum{function="m"} 0.11
        inferium_queue_duration_seconds_count{function="m"} 220
        """);
    ServerStats s = ServerStats.between(before, after, "m");
    assertEquals(20, s.batches());
    assertEquals(10.0, s.meanBatchRows(), 1e-9);
    assertEquals(Map.of("delay", 5.0, "full", 15.0), s.batchesByReason());
    assertEquals(0.5, s.meanQueueMs(), 1e-9);
    assertTrue(Double.isNaN(s.meanComputeMs()));
  }
}
