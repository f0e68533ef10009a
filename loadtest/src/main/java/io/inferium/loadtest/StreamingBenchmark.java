package io.inferium.loadtest;

import io.inferium.functions.SamplingParams;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streaming generation side by side, one JVM, one run: (a) the decode loop in-process, (b) the
 * gateway streaming {@code /v1/completions} with continuous batching on (a function whose
 * {@code max_running_sequences} is at least the largest concurrency), (c) the same with it off
 * ({@code max_running_sequences = 1}, one sequence at a time per worker). For each concurrency the
 * three run back to back, never overlapping, so neither JIT warm-up nor a neighbour's burst favours
 * one. Uses the bundled tiny-gpt model.
 */
final class StreamingBenchmark {

  private static final Logger log = LoggerFactory.getLogger(StreamingBenchmark.class);
  static final String MODEL_RESOURCE = "/models/tiny-gpt/";
  static final List<String> MODEL_FILES = List.of("model.onnx", "tokenizer.json", "tokenizer_config.json",
      "generation_config.json", "config.json", "spec.json");
  static final String TTFT_METRIC = "inferium_generation_ttft_seconds";
  static final String IN_PROCESS = "(a) in-process";
  static final String BATCHING_ON = "(b) batching on";
  static final String BATCHING_OFF = "(c) batching off";

  /**
   * @param workerThreads ONNX Runtime intra-op threads in the workers and in (a); the server's default when 0
   */
  record Settings(List<Integer> concurrencies, int maxTokens, String prompt, int workers, int workerThreads,
      String dbUrl, Duration warmup, Duration duration, int rounds, int prefillRuns, long maxGenerations,
      int maxTokensPerStep) {

    /** The OpenAI request every client sends, and (a) decodes: greedy, usage at the end. */
    JsonObject body(String function) {
      return new JsonObject().put("model", function).put("prompt", prompt).put("max_tokens", maxTokens)
          .put("temperature", 0).put("stream", true)
          .put("stream_options", new JsonObject().put("include_usage", true));
    }
  }

  /**
   * What one run measured.
   *
   * @param promptTokens the prompt's length in tokens
   * @param prefillUs    (a)'s submit-to-first-token of one prompt on an idle loop, microseconds
   * @param runs         every run, in the order they ran
   */
  record Outcome(int promptTokens, Histogram prefillUs, List<StreamingResult> runs) {

    /** Every round of {@code label} at {@code concurrency} merged into one; null when it did not run. */
    StreamingResult find(String label, int concurrency) {
      return runs.stream().filter(r -> r.label().equals(label) && r.concurrency() == concurrency)
          .reduce(StreamingResult::merge).orElse(null);
    }

    /** Tokens/s of each round of {@code label} at {@code concurrency}, in the order they ran. */
    List<Double> rounds(String label, int concurrency) {
      return runs.stream().filter(r -> r.label().equals(label) && r.concurrency() == concurrency)
          .map(StreamingResult::tokensPerSecond).toList();
    }

    List<String> labels() {
      return runs.stream().map(StreamingResult::label).distinct().toList();
    }

    List<Integer> concurrencies() {
      return runs.stream().map(StreamingResult::concurrency).distinct().sorted().toList();
    }

    double prefillMs(double percentile) {
      return prefillUs.getTotalCount() == 0 ? Double.NaN : prefillUs.getValueAtPercentile(percentile) / 1000.0;
    }

    /** {@code label}'s tokens/s over {@code base}'s at the same concurrency; NaN when either is missing or zero. */
    double ratio(String label, String base, int concurrency) {
      StreamingResult a = find(label, concurrency);
      StreamingResult b = find(base, concurrency);
      return a == null || b == null || b.tokensPerSecond() == 0 ? Double.NaN : a.tokensPerSecond() / b.tokensPerSecond();
    }

    /** (b)'s median time to first token at the lowest concurrency minus (a)'s prefill median, milliseconds. */
    double ttftOverheadMs() {
      List<Integer> cs = concurrencies();
      StreamingResult b = cs.isEmpty() ? null : find(BATCHING_ON, cs.get(0));
      return b == null ? Double.NaN : b.ttftMs(50) - prefillMs(50);
    }

    String markdown() {
      StringBuilder md = new StringBuilder();
      md.append(String.format(Locale.ROOT, "Prefill of the %d-token prompt in-process (submit to first token, idle loop): "
          + "p50 %s, p99 %s.%n%n", promptTokens, ReportFiles.ms(prefillMs(50)), ReportFiles.ms(prefillMs(99))));
      md.append("| run | concurrency | tokens/s | per round | generations | tokens/generation | TTFT p50 | TTFT p99 "
          + "| gateway TTFT mean | ITL p50 | ITL p99 | cores busy: this JVM / workers | errors |\n");
      md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      List<StreamingResult> merged = new ArrayList<>();
      for (int c : concurrencies()) {
        for (String label : labels()) {
          StreamingResult r = find(label, c);
          if (r != null) {
            merged.add(r);
          }
        }
      }
      for (StreamingResult r : merged) {
        md.append("| ").append(r.label()).append(" | ").append(r.concurrency())
            .append(" | ").append(ReportFiles.fmt(r.tokensPerSecond()))
            .append(" | ").append(String.join(" / ", rounds(r.label(), r.concurrency()).stream()
                .map(ReportFiles::fmt).toList()))
            .append(" | ").append(r.generations())
            .append(" | ").append(Double.isNaN(r.tokensPerGeneration()) ? "–"
                : String.format(Locale.ROOT, "%.1f", r.tokensPerGeneration()))
            .append(" | ").append(ReportFiles.ms(r.ttftMs(50))).append(" | ").append(ReportFiles.ms(r.ttftMs(99)))
            .append(" | ").append(ReportFiles.ms(r.gatewayTtftMs()))
            .append(" | ").append(ReportFiles.ms(r.itlMs(50))).append(" | ").append(ReportFiles.ms(r.itlMs(99)))
            .append(" | ").append(cores(r.cores(), ProcessCpu.THIS_JVM)).append(" / ").append(cores(r.cores(), ProcessCpu.WORKERS))
            .append(" | ").append(ReportFiles.errors(r.errors())).append(" |\n");
      }
      md.append("\n| concurrency | (b)/(a) tokens/s, target ≥ 0.85 | (b)/(c) tokens/s, target ≥ 3 at 16 |\n|---|---|---|\n");
      for (int c : concurrencies()) {
        md.append("| ").append(c).append(" | ").append(ratio(ratio(BATCHING_ON, IN_PROCESS, c), 0.85))
            .append(" | ").append(ratio(ratio(BATCHING_ON, BATCHING_OFF, c), c == 16 ? 3 : Double.NaN)).append(" |\n");
      }
      double overhead = ttftOverheadMs();
      md.append(String.format(Locale.ROOT, "%nTTFT over the model's own prefill: (b) p50 at concurrency %s minus (a)'s "
              + "prefill p50 = %s (target < 5 ms: %s).%n", concurrencies().isEmpty() ? "–" : concurrencies().get(0),
          ReportFiles.ms(overhead), Double.isNaN(overhead) ? "not measured" : overhead < 5 ? "met" : "missed"));
      return md.toString();
    }

    private static String cores(Map<String, Double> cores, String group) {
      Double v = cores.get(group);
      return v == null ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String ratio(double r, double target) {
      if (Double.isNaN(r)) {
        return "–";
      }
      String s = String.format(Locale.ROOT, "%.2f", r);
      return Double.isNaN(target) ? s : s + (r >= target ? " (met)" : " (missed)");
    }

    JsonObject toJson(JsonObject meta) {
      JsonArray array = new JsonArray();
      runs.forEach(r -> array.add(r.toJson()));
      JsonArray merged = new JsonArray();
      for (int c : concurrencies()) {
        for (String label : labels()) {
          StreamingResult r = find(label, c);
          if (r != null) {
            merged.add(r.toJson());
          }
        }
      }
      JsonArray targets = new JsonArray();
      for (int c : concurrencies()) {
        targets.add(new JsonObject().put("concurrency", c)
            .put("on_over_in_process", round(ratio(BATCHING_ON, IN_PROCESS, c)))
            .put("on_over_off", round(ratio(BATCHING_ON, BATCHING_OFF, c))));
      }
      return meta.copy().put("prompt_tokens", promptTokens).put("prefill_ms", LoadResult.percentiles(prefillUs))
          .put("ttft_overhead_ms", round(ttftOverheadMs())).put("ratios", targets).put("merged", merged).put("runs", array);
    }

    private static Double round(double v) {
      return Double.isNaN(v) ? null : LoadResult.round(v);
    }
  }

  private final Settings settings;

  StreamingBenchmark(Settings settings) {
    this.settings = settings;
  }

  Outcome run() throws Exception {
    Path dir = extractModel();
    try (BenchmarkServer server = BenchmarkServer.start(settings.workers(), settings.dbUrl(), 0,
        settings.workerThreads())) {
      int widest = Collections.max(settings.concurrencies());
      int waiting = Math.max(256, 4 * widest);
      JsonObject spec = new JsonObject(Files.readString(dir.resolve("spec.json")));
      String on = "tiny-gpt-batching-on";
      String off = "tiny-gpt-batching-off";
      server.deployText(spec.copy().put("name", on).put("text", new JsonObject()
          .put("max_running_sequences", widest).put("max_tokens_per_step", settings.maxTokensPerStep())
          .put("max_waiting", waiting)), dir);
      server.deployText(spec.copy().put("name", off).put("text", new JsonObject()
          .put("max_running_sequences", 1).put("max_tokens_per_step", settings.maxTokensPerStep())
          .put("max_waiting", waiting)), dir);
      try (InProcessDecode local = InProcessDecode.load(dir, settings.workerThreads(), settings.maxTokensPerStep())) {
        int[] prompt = local.encode(settings.prompt());
        SamplingParams params = local.params(settings.body(on));
        Vertx vertx = Vertx.vertx();
        try {
          StreamingClients clients = new StreamingClients(vertx, "127.0.0.1", server.port(), server.adminKey());
          long limit = settings.warmup().plus(settings.duration()).toSeconds() + StreamingClients.IDLE_TIMEOUT_MS / 1000 + 60;
          log.info("warm-up: (a), (b), (c) at concurrency 4, 2 s each");
          local.closedLoop("warm-up", 4, prompt, params, Duration.ZERO, Duration.ofSeconds(2), settings.maxGenerations());
          for (String fn : List.of(on, off)) {
            clients.closedLoop("warm-up", 4, settings.body(fn), Duration.ZERO, Duration.ofSeconds(2),
                settings.maxGenerations()).await(limit, TimeUnit.SECONDS);
          }
          Histogram prefill = local.prefill(prompt, params, settings.prefillRuns());
          log.info("(a) prefill of {} prompt tokens: p50 {} ms", prompt.length, prefill.getValueAtPercentile(50) / 1000.0);
          List<StreamingResult> runs = new ArrayList<>();
          for (int round = 1; round <= settings.rounds(); round++) {
            for (int c : settings.concurrencies()) {
              log.info("round {}, concurrency {}, load average {}", round, c, loadAverage());
              ProcessCpu.Snapshot cpu = ProcessCpu.snapshot();
              StreamingResult a = local.closedLoop(IN_PROCESS, c, prompt, params, settings.warmup(), settings.duration(),
                  settings.maxGenerations());
              runs.add(logged(a.withCores(ProcessCpu.cores(cpu, ProcessCpu.snapshot()))));
              runs.add(logged(throughServer(server, clients, BATCHING_ON, on, c, limit)));
              runs.add(logged(throughServer(server, clients, BATCHING_OFF, off, c, limit)));
            }
          }
          return new Outcome(prompt.length, prefill, runs);
        } finally {
          vertx.close().await(30, TimeUnit.SECONDS);
        }
      }
    } finally {
      BenchmarkServer.deleteTree(dir);
    }
  }

  /** One closed loop through the gateway, with the gateway's own mean TTFT over it from {@code /metrics}. */
  private StreamingResult throughServer(BenchmarkServer server, StreamingClients clients, String label, String function,
      int concurrency, long limitSeconds) throws Exception {
    MetricsSnapshot before = server.metrics();
    ProcessCpu.Snapshot cpu = ProcessCpu.snapshot();
    StreamingResult r = clients.closedLoop(label, concurrency, settings.body(function), settings.warmup(),
        settings.duration(), settings.maxGenerations()).await(limitSeconds, TimeUnit.SECONDS)
        .withCores(ProcessCpu.cores(cpu, ProcessCpu.snapshot()));
    MetricsSnapshot after = server.metrics();
    double count = after.sum(TTFT_METRIC + "_count", function) - before.sum(TTFT_METRIC + "_count", function);
    double sum = after.sum(TTFT_METRIC + "_sum", function) - before.sum(TTFT_METRIC + "_sum", function);
    return r.withGatewayTtft(count > 0 ? sum / count * 1000 : Double.NaN);
  }

  private static StreamingResult logged(StreamingResult r) {
    log.info("  {} c={}: {} tokens/s, TTFT p50 {} ms p99 {} ms (gateway mean {} ms), ITL p50 {} ms p99 {} ms, "
            + "{} tokens/generation, errors {}, cores busy {}", r.label(), r.concurrency(), Math.round(r.tokensPerSecond()),
        LoadResult.round(r.ttftMs(50)), LoadResult.round(r.ttftMs(99)), LoadResult.round(r.gatewayTtftMs()),
        LoadResult.round(r.itlMs(50)), LoadResult.round(r.itlMs(99)), LoadResult.round(r.tokensPerGeneration()),
        r.errors(), r.cores());
    return r;
  }

  /** The 1, 5 and 15-minute load averages (Linux), for the log: neighbours' load explains outliers. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /** Copies the bundled tiny-gpt files into a fresh temporary directory. */
  static Path extractModel() throws IOException {
    Path dir = Files.createTempDirectory("inferium-tiny-gpt-");
    for (String name : MODEL_FILES) {
      try (InputStream in = StreamingBenchmark.class.getResourceAsStream(MODEL_RESOURCE + name)) {
        if (in == null) {
          throw new IllegalStateException(MODEL_RESOURCE + name + " is missing from the class path");
        }
        Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return dir;
  }

  /** Writes {@code streaming.json} and {@code streaming.md} into {@code out}. */
  static void write(Path out, Outcome outcome, JsonObject meta) throws IOException {
    Files.createDirectories(out);
    Files.writeString(out.resolve("streaming.json"), outcome.toJson(meta).encodePrettily(), StandardCharsets.UTF_8);
    Files.writeString(out.resolve("streaming.md"), "# Streaming generation (tiny-gpt)\n\n`" + meta.getString("command")
        + "`\n\n" + outcome.markdown(), StandardCharsets.UTF_8);
  }
}
