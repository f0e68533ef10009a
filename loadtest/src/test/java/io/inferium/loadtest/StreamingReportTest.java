package io.inferium.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamingReportTest {

  private static final long MS = 1_000_000;

  @Test
  void tokensAndLatenciesCountOnlyInsideTheWindow() {
    StreamRecording rec = new StreamRecording(1000 * MS, 2000 * MS);
    StreamRecording.Stream early = rec.open(900 * MS);
    early.token(950 * MS); // before the window: not counted, but it is the stream's first token
    early.token(1010 * MS); // ITL 60 ms, counted
    early.finished(1020 * MS, 7);
    StreamRecording.Stream late = rec.open(1990 * MS);
    late.token(1995 * MS); // TTFT 5 ms
    late.token(2010 * MS); // after the window
    late.finished(2020 * MS, 64);
    StreamRecording.Stream inside = rec.open(1100 * MS);
    inside.token(1120 * MS); // TTFT 20 ms
    inside.token(1121 * MS);
    inside.token(1123 * MS);
    inside.finished(1124 * MS, 3);
    rec.error("http 429", 1500 * MS);
    rec.error("http 503", 2500 * MS);

    StreamingResult r = rec.result("x", 2);
    assertEquals(1.0, r.seconds(), 1e-9);
    assertEquals(5, r.tokens());
    assertEquals(5.0, r.tokensPerSecond(), 1e-9);
    assertEquals(2, r.generations());
    assertEquals(10, r.completionTokens());
    assertEquals(5.0, r.tokensPerGeneration(), 1e-9);
    assertEquals(2, r.ttft().getTotalCount());
    assertEquals(5.0, r.ttftMs(0), 0.01);
    assertEquals(20.0, r.ttftMs(100), 0.05);
    assertEquals(3, r.itl().getTotalCount());
    assertEquals(1.0, r.itlMs(0), 0.01);
    assertEquals(60.0, r.itlMs(100), 0.1);
    assertEquals(Map.of("http 429", 1L), r.errors());
  }

  @Test
  void roundsOfOneCellMergeIntoTotalsOverTotalTime() {
    StreamingResult a = result(StreamingBenchmark.BATCHING_ON, 4, 1000, 2_000).withGatewayTtft(1.0)
        .withCores(Map.of(ProcessCpu.WORKERS, 1.0, ProcessCpu.THIS_JVM, 0.5));
    StreamingResult b = result(StreamingBenchmark.BATCHING_ON, 4, 3000, 4_000).withGatewayTtft(3.0)
        .withCores(Map.of(ProcessCpu.WORKERS, 2.0));
    StreamingBenchmark.Outcome o = new StreamingBenchmark.Outcome(11, ReportTest.latencies(400), List.of(a, b));
    StreamingResult m = o.find(StreamingBenchmark.BATCHING_ON, 4);
    assertEquals(4.0, m.seconds(), 1e-9);
    assertEquals(1000.0, m.tokensPerSecond(), 1e-9);
    assertEquals(2, m.generations());
    assertEquals(2, m.ttft().getTotalCount());
    assertEquals(3998, m.itl().getTotalCount());
    assertEquals(2.0, m.gatewayTtftMs(), 1e-9);
    assertEquals(1.5, m.cores().get(ProcessCpu.WORKERS), 1e-9);
    assertEquals(0.25, m.cores().get(ProcessCpu.THIS_JVM), 1e-9);
    assertEquals(List.of(500.0, 1500.0), o.rounds(StreamingBenchmark.BATCHING_ON, 4));
    assertTrue(o.markdown().contains("| (b) batching on | 4 | 1000 | 500 / 1500 |"), o.markdown());
    assertThrows(IllegalArgumentException.class, () -> a.merge(result(StreamingBenchmark.BATCHING_ON, 16, 10, 1)));
  }

  @Test
  void procStatTicksAndCoresBusy() {
    assertEquals(1234 + 56, ProcessCpu.parseTicks(
        "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 30 0 123 456 789"));
    ProcessCpu.Snapshot before = new ProcessCpu.Snapshot(0, Map.of(ProcessCpu.THIS_JVM, 100L));
    ProcessCpu.Snapshot after = new ProcessCpu.Snapshot(2_000_000_000L, Map.of(ProcessCpu.THIS_JVM, 250L,
        ProcessCpu.WORKERS, 100L));
    assertEquals(Map.of(ProcessCpu.THIS_JVM, 0.75, ProcessCpu.WORKERS, 0.5), ProcessCpu.cores(before, after));
  }

  @Test
  void aWindowMustHaveALength() {
    assertThrows(IllegalArgumentException.class, () -> new StreamRecording(5, 5));
  }

  private static StreamingResult result(String label, int c, long tokens, long ttftMicros) {
    StreamRecording rec = new StreamRecording(0, 2_000 * MS);
    StreamRecording.Stream s = rec.open(10 * MS);
    s.token(10 * MS + ttftMicros * 1000);
    for (long i = 1; i < tokens; i++) {
      s.token(10 * MS + ttftMicros * 1000 + i * 1000);
    }
    s.finished(1_500 * MS, (int) tokens);
    return rec.result(label, c);
  }

  @Test
  void ratiosOverheadAndReport(@TempDir Path dir) throws Exception {
    List<StreamingResult> runs = List.of(
        result(StreamingBenchmark.IN_PROCESS, 1, 1000, 400),
        result(StreamingBenchmark.BATCHING_ON, 1, 900, 2_400).withGatewayTtft(2.0),
        result(StreamingBenchmark.BATCHING_OFF, 1, 900, 2_400),
        result(StreamingBenchmark.IN_PROCESS, 16, 4000, 400),
        result(StreamingBenchmark.BATCHING_ON, 16, 3000, 3_000),
        result(StreamingBenchmark.BATCHING_OFF, 16, 1000, 50_000));
    StreamingBenchmark.Outcome o = new StreamingBenchmark.Outcome(11, ReportTest.latencies(400, 400, 500), runs);

    assertEquals(List.of(1, 16), o.concurrencies());
    assertEquals(0.9, o.ratio(StreamingBenchmark.BATCHING_ON, StreamingBenchmark.IN_PROCESS, 1), 1e-9);
    assertEquals(3.0, o.ratio(StreamingBenchmark.BATCHING_ON, StreamingBenchmark.BATCHING_OFF, 16), 1e-9);
    assertTrue(Double.isNaN(o.ratio(StreamingBenchmark.BATCHING_ON, StreamingBenchmark.IN_PROCESS, 4)));
    assertEquals(2.0, o.ttftOverheadMs(), 0.01);

    String md = o.markdown();
    assertTrue(md.contains("| 1 | 0.90 (met) | 1.00 |"), md);
    assertTrue(md.contains("| 16 | 0.75 (missed) | 3.00 (met) |"), md);
    assertTrue(md.contains("| (b) batching on | 1 | 450 | 450 | 1 | 900.0 | 2.40 ms | 2.40 ms | 2.00 ms | 0.00 ms | 0.00 ms | – / – | 0 |"), md);
    assertTrue(md.contains("= 2.00 ms (target < 5 ms: met)"), md);

    StreamingBenchmark.write(dir, o, new JsonObject().put("command", "streaming --concurrency 1,16"));
    JsonObject json = new JsonObject(Files.readString(dir.resolve("streaming.json")));
    assertEquals(6, json.getJsonArray("runs").size());
    assertEquals(11, json.getInteger("prompt_tokens"));
    assertEquals(2.0, json.getDouble("ttft_overhead_ms"), 0.01);
    assertEquals(3.0, json.getJsonArray("ratios").getJsonObject(1).getDouble("on_over_off"), 1e-9);
    JsonObject on1 = json.getJsonArray("runs").getJsonObject(1);
    assertEquals(900, on1.getLong("tokens"));
    assertEquals(2.0, on1.getDouble("gateway_ttft_mean_ms"), 1e-9);
    assertTrue(Files.readString(dir.resolve("streaming.md")).contains("`streaming --concurrency 1,16`"));
  }
}
