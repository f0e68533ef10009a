package io.inferium.loadtest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class VerificationReportTest {

  private static LoadResult run(String label, int c, long ok) {
    Histogram h = new Histogram(3);
    h.recordValue(2_000_000);
    return new LoadResult(label, "closed", c, 0, 1.0, ok, Map.of(), h);
  }

  @Test
  void theTableHasEveryPolicyAndTheRatiosToNone() {
    Map<String, List<LoadResult>> sweeps = new LinkedHashMap<>();
    sweeps.put("none", List.of(run("none", 1, 100), run("none", 8, 400)));
    sweeps.put("redundant(3)", List.of(run("r", 1, 50), run("r", 8, 100)));
    VerificationBenchmark.Settings s = new VerificationBenchmark.Settings(BenchModel.named("cnn"), true, 3, 1, 1, null,
        List.of(1, 8), Duration.ZERO, Duration.ofSeconds(1), 0.05, 3, 1000, 64);
    String md = new VerificationBenchmark.Outcome(sweeps, Map.of("skipped", 2L)).markdown(s);
    assertTrue(md.contains("| none ok/s | p50 | p99 | redundant(3) ok/s |"), md);
    assertTrue(md.contains("| 1 | 100 |"), md);
    assertTrue(md.contains("| 1 | 0.50 |") && md.contains("| 8 | 0.25 |"), md);
    assertTrue(md.contains("by outcome: {skipped=2}"), md);
  }
}
