package io.inferium.loadtest;

import io.inferium.engine.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -Xss8m -jar loadtest/target/inferium-loadtest.jar benchmark|verification|streaming|run}: the
 * side-by-side benchmarks, or a load run against a server that is already running.
 */
@Command(name = "inferium-loadtest", mixinStandardHelpOptions = true,
    subcommands = {Main.BenchmarkCommand.class, Main.VerificationCommand.class, Main.StreamingCommand.class,
        Main.RunCommand.class, Main.DurabilityCommand.class, Main.EchoCommand.class, Main.CeilingCommand.class},
    description = "Load generator and benchmark for Inferium (loopback only).")
public final class Main implements Runnable {

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new Main()).setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof IllegalArgumentException) {
        cmd.getErr().println(e.getMessage());
        return 2;
      }
      throw e;
    });
    System.exit(cli.execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static Duration seconds(double s) {
    return Duration.ofMillis(Math.round(s * 1000));
  }

  static JsonObject meta(String command) {
    return new JsonObject()
        .put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
        .put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
            + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version")
            + "; load generator in the same JVM as the gateway")
        .put("command", command);
  }

  @Command(name = "benchmark", mixinStandardHelpOptions = true,
      description = "(a) ONNX Runtime in-process, (b) gateway without batching, (c) gateway with dynamic batching; "
          + "one JVM, one model, side by side.")
  static final class BenchmarkCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "loadtest/results", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--warmup", defaultValue = "1", description = "seconds of warm-up per run (default: ${DEFAULT-VALUE})")
    double warmup;
    @Option(names = "--duration", defaultValue = "4", description = "measured seconds per run (default: ${DEFAULT-VALUE})")
    double duration;
    @Option(names = "--concurrency", split = ",", defaultValue = "1,2,4,8,16,32,64",
        description = "closed-loop concurrencies (default: ${DEFAULT-VALUE})")
    List<Integer> concurrencies;
    @Option(names = "--workers", defaultValue = "0", description = "worker processes, 0 for the server's default")
    int workers;
    @Option(names = "--db-url", description = "postgresql://user@127.0.0.1:5432/db: a fresh database is created there "
        + "and dropped afterwards (default: embedded PostgreSQL)")
    String dbUrl;
    @Option(names = "--max-batch", defaultValue = "64", description = "max_batch_size of (c) (default: ${DEFAULT-VALUE})")
    int maxBatch;
    @Option(names = "--queue-delays", split = ",", defaultValue = "0,2",
        description = "max_queue_delay_ms values of (c), one function each (default: ${DEFAULT-VALUE})")
    List<Integer> delays;
    @Option(names = "--binary", description = "send the row with the binary tensor extension instead of JSON")
    boolean binary;
    @Option(names = "--model", defaultValue = "mlp",
        description = "bundled model: mlp (microseconds per row) or cnn (about a millisecond per row) (default: ${DEFAULT-VALUE})")
    String model;
    @Option(names = "--worker-slots", defaultValue = "0",
        description = "batches one worker runs at once, 0 for the server's default")
    int workerSlots;
    @Option(names = "--worker-threads", defaultValue = "0",
        description = "ONNX Runtime intra-op threads per run in the workers, 0 for the server's default")
    int workerThreads;
    @Option(names = "--ceiling-batches", split = ",", defaultValue = "1,8,32,64",
        description = "batch sizes tried for (a) (default: ${DEFAULT-VALUE})")
    List<Integer> ceilingBatches;
    @Option(names = "--ceiling-seconds", defaultValue = "2", description = "seconds per (a) measurement (default: ${DEFAULT-VALUE})")
    double ceilingSeconds;
    @Option(names = "--open-fractions", split = ",", defaultValue = "0.5,0.8",
        description = "open-loop rates as fractions of the best (c) peak (default: ${DEFAULT-VALUE}); 0 to skip")
    List<Double> openFractions;

    @Override
    public Integer call() throws Exception {
      BenchmarkSettings d = BenchmarkSettings.defaults();
      BenchModel m = BenchModel.named(model);
      BenchmarkSettings s = new BenchmarkSettings(seconds(warmup), seconds(duration), concurrencies, workers, dbUrl,
          maxBatch, delays, binary, d.ceilingLayouts(), ceilingBatches, seconds(ceilingSeconds),
          openFractions.stream().filter(f -> f > 0).toList(), d.openConnections(), d.maxRequests(), m, workerSlots,
          workerThreads);
      ServerConfig.Builder layout = ServerConfig.builder();
      if (workerSlots > 0) {
        layout.workerSlots(workerSlots);
      }
      if (workerThreads > 0) {
        layout.workerThreads(workerThreads);
      }
      ServerConfig effective = layout.build();
      Benchmark.Outcome outcome = new Benchmark(s).run();
      JsonObject meta = meta("java -Xss8m -jar loadtest/target/inferium-loadtest.jar " + String.join(" ", args()))
          .put("model", m.description()).put("chart_title", m.title())
          .put("worker_slots", effective.workerSlots()).put("worker_intra_op_threads", effective.workerThreads())
          .put("body", binary ? "binary tensor extension" : "V2 JSON")
          .put("warmup_s", warmup).put("duration_s", duration).put("max_batch_size", maxBatch);
      BenchmarkReport report = new BenchmarkReport(outcome, meta);
      report.write(out);
      System.out.println(report.markdown());
      System.out.println("Written: " + out.resolve("benchmark.md") + ", benchmark.json, benchmark.png");
      return 0;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private List<String> args() {
      return spec.commandLine().getParseResult().originalArgs();
    }
  }

  @Command(name = "verification", mixinStandardHelpOptions = true,
      description = "The cost of verification: none vs audit(p) vs redundant(k), side by side on one gateway.")
  static final class VerificationCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "cnn", description = "mlp or cnn (default: ${DEFAULT-VALUE})")
    String model;
    @Option(names = "--binary", description = "send tensors with the binary extension")
    boolean binary;
    @Option(names = "--workers", defaultValue = "3", description = "worker processes (default: ${DEFAULT-VALUE})")
    int workers;
    @Option(names = "--worker-slots", defaultValue = "0", description = "batches per worker at once, 0 = server default")
    int workerSlots;
    @Option(names = "--worker-threads", defaultValue = "0", description = "ONNX Runtime threads per run, 0 = server default")
    int workerThreads;
    @Option(names = "--db-url", description = "PostgreSQL to use (a fresh database is created); embedded when absent")
    String dbUrl;
    @Option(names = "--concurrency", split = ",", defaultValue = "1,8,32", description = "callers (default: ${DEFAULT-VALUE})")
    List<Integer> concurrencies;
    @Option(names = "--warmup", defaultValue = "1", description = "seconds (default: ${DEFAULT-VALUE})")
    double warmup;
    @Option(names = "--duration", defaultValue = "4", description = "seconds (default: ${DEFAULT-VALUE})")
    double duration;
    @Option(names = "--audit-p", defaultValue = "0.05", description = "audited fraction (default: ${DEFAULT-VALUE})")
    double auditP;
    @Option(names = "--k", defaultValue = "3", description = "redundancy (default: ${DEFAULT-VALUE})")
    int k;
    @Option(names = "--max-batch", defaultValue = "64",
        description = "max_batch_size of the functions; 1 sends each request alone, so workers' in-flight limits fill "
            + "under load (default: ${DEFAULT-VALUE})")
    int maxBatch;
    @Option(names = "--out", defaultValue = "loadtest/results", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
      VerificationBenchmark.Settings s = new VerificationBenchmark.Settings(BenchModel.named(model), binary, workers,
          workerSlots, workerThreads, dbUrl, concurrencies, seconds(warmup), seconds(duration), auditP, k, 5_000_000,
          maxBatch);
      VerificationBenchmark.Outcome outcome = new VerificationBenchmark(s).run();
      String md = outcome.markdown(s);
      Files.createDirectories(out);
      Files.writeString(out.resolve("verification.md"), "# Verification cost (" + model + ", " + workers + " workers)\n\n" + md);
      System.out.println(md);
      return 0;
    }
  }

  @Command(name = "streaming", mixinStandardHelpOptions = true,
      description = "Streaming generation with tiny-gpt: (a) the decode loop in-process, (b) the gateway streaming "
          + "/v1/completions with continuous batching on, (c) with it off (one sequence at a time); tokens/s, "
          + "time to first token, inter-token latency.")
  static final class StreamingCommand implements Callable<Integer> {
    @Option(names = "--concurrency", split = ",", defaultValue = "1,4,16",
        description = "concurrent streams (default: ${DEFAULT-VALUE})")
    List<Integer> concurrencies;
    @Option(names = "--max-tokens", defaultValue = "64", description = "max_tokens per generation (default: ${DEFAULT-VALUE})")
    int maxTokens;
    @Option(names = "--prompt", defaultValue = StreamingCommand.DEFAULT_PROMPT,
        description = "completions prompt, decoded greedily (default: ${DEFAULT-VALUE})")
    String prompt;
    @Option(names = "--workers", defaultValue = "1", description = "worker processes (default: ${DEFAULT-VALUE})")
    int workers;
    @Option(names = "--worker-threads", defaultValue = "0",
        description = "ONNX Runtime intra-op threads in the workers and in (a), 0 for the server's default")
    int workerThreads;
    @Option(names = "--max-tokens-per-step", defaultValue = "512",
        description = "prompt tokens admitted per decode step (default: ${DEFAULT-VALUE})")
    int maxTokensPerStep;
    @Option(names = "--db-url", description = "PostgreSQL to use (a fresh database is created); embedded when absent")
    String dbUrl;
    @Option(names = "--warmup", defaultValue = "1", description = "seconds per run before measuring (default: ${DEFAULT-VALUE})")
    double warmup;
    @Option(names = "--duration", defaultValue = "3", description = "measured seconds per run (default: ${DEFAULT-VALUE})")
    double duration;
    @Option(names = "--rounds", defaultValue = "3",
        description = "times the whole interleaved sweep runs; the rounds of each cell are merged (default: ${DEFAULT-VALUE})")
    int rounds;
    @Option(names = "--prefill-runs", defaultValue = "50", description = "single prompts timed for (a)'s prefill (default: ${DEFAULT-VALUE})")
    int prefillRuns;
    @Option(names = "--max-generations", defaultValue = "1000000", description = "cap per run (default: ${DEFAULT-VALUE})")
    long maxGenerations;
    @Option(names = "--out", defaultValue = "loadtest/results", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    /** Greedy decoding of this prompt runs to 64 tokens without meeting an end-of-sequence token. */
    static final String DEFAULT_PROMPT = "Licensed under the Apache License";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      int threads = workerThreads > 0 ? workerThreads : ServerConfig.builder().build().workerThreads();
      StreamingBenchmark.Settings s = new StreamingBenchmark.Settings(concurrencies, maxTokens, prompt, workers, threads,
          dbUrl, seconds(warmup), seconds(duration), rounds, prefillRuns, maxGenerations, maxTokensPerStep);
      StreamingBenchmark.Outcome outcome = new StreamingBenchmark(s).run();
      JsonObject meta = meta("java -Xss8m -jar loadtest/target/inferium-loadtest.jar "
          + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
          .put("model", "tiny-gpt (functions/src/main/resources/models/tiny-gpt)").put("prompt", prompt)
          .put("max_tokens", maxTokens).put("workers", workers).put("worker_intra_op_threads", threads)
          .put("warmup_s", warmup).put("duration_s", duration).put("rounds", rounds);
      StreamingBenchmark.write(out, outcome, meta);
      System.out.println(outcome.markdown());
      System.out.println("Written: " + out.resolve("streaming.md") + ", streaming.json");
      return 0;
    }
  }

  @Command(name = "durability", mixinStandardHelpOptions = true,
      description = "What durability costs: the embedded PostgreSQL's fsync on/off x the answer waiting for its usage "
          + "event on/off, four gateways side by side, rounds interleaved.")
  static final class DurabilityCommand implements Callable<Integer> {
    @Option(names = "--warmup", defaultValue = "1", description = "seconds of warm-up per run (default: ${DEFAULT-VALUE})")
    double warmup;
    @Option(names = "--duration", defaultValue = "4", description = "measured seconds per run (default: ${DEFAULT-VALUE})")
    double duration;
    @Option(names = "--rounds", defaultValue = "2", description = "rounds over the four variants (default: ${DEFAULT-VALUE})")
    int rounds;
    @Option(names = "--concurrency", defaultValue = "16", description = "closed-loop callers (default: ${DEFAULT-VALUE})")
    int concurrency;
    @Option(names = "--workers", defaultValue = "1", description = "worker processes per gateway (default: ${DEFAULT-VALUE})")
    int workers;

    @Override
    public Integer call() throws Exception {
      System.out.println(new DurabilityBenchmark(workers, concurrency, seconds(warmup), seconds(duration), rounds).run());
      return 0;
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true, description = "Drive a running server (loopback only).")
  static final class RunCommand implements Callable<Integer> {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "server (default: ${DEFAULT-VALUE})")
    String url;
    @Option(names = "--key", defaultValue = "${env:INFERIUM_KEY}", description = "API key (default: $INFERIUM_KEY)")
    String key;
    @Option(names = "--function", required = true, description = "function name")
    String function;
    @Option(names = "--body", required = true, description = "JSON request body, or @file to read it from a file")
    String body;
    @Option(names = "--mode", defaultValue = "closed", description = "closed or open (default: ${DEFAULT-VALUE})")
    String mode;
    @Option(names = "--concurrency", split = ",", defaultValue = "1,2,4,8,16,32,64",
        description = "closed loop: callers per run (default: ${DEFAULT-VALUE})")
    List<Integer> concurrencies;
    @Option(names = "--rate", split = ",", description = "open loop: requests/s per run")
    List<Double> rates;
    @Option(names = "--connections", defaultValue = "64", description = "open loop: HTTP connections (default: ${DEFAULT-VALUE})")
    int connections;
    @Option(names = "--warmup", defaultValue = "1", description = "seconds (default: ${DEFAULT-VALUE})")
    double warmup;
    @Option(names = "--duration", defaultValue = "5", description = "seconds (default: ${DEFAULT-VALUE})")
    double duration;
    @Option(names = "--max-requests", defaultValue = "5000000", description = "cap per run (default: ${DEFAULT-VALUE})")
    long maxRequests;
    @Option(names = "--out", defaultValue = "loadtest/results", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
      Buffer json = Buffer.buffer(body.startsWith("@") ? Files.readString(Path.of(body.substring(1))) : body);
      LoadTarget target = LoadTarget.infer(url, function, key, InferBody.json(json));
      Vertx vertx = Vertx.vertx();
      List<LoadResult> results = new ArrayList<>();
      try {
        LoadGenerator gen = new LoadGenerator(vertx);
        long limit = (long) (warmup + duration) + TimeUnit.MILLISECONDS.toSeconds(LoadTarget.DEFAULT_TIMEOUT_MS) + 30;
        if ("open".equals(mode)) {
          if (rates == null || rates.isEmpty()) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--mode open needs --rate");
          }
          for (double r : rates) {
            results.add(gen.openLoop(function, target,
                new LoadGenerator.OpenPlan(r, connections, seconds(warmup), seconds(duration), maxRequests))
                .await(limit, TimeUnit.SECONDS));
            System.out.println(ReportFiles.markdown(List.of(results.get(results.size() - 1))));
          }
        } else if ("closed".equals(mode)) {
          for (int c : concurrencies) {
            results.add(gen.closedLoop(function, target,
                new LoadGenerator.ClosedPlan(c, seconds(warmup), seconds(duration), maxRequests))
                .await(limit, TimeUnit.SECONDS));
            System.out.println(ReportFiles.markdown(List.of(results.get(results.size() - 1))));
          }
        } else {
          throw new CommandLine.ParameterException(new CommandLine(this), "--mode is closed or open, not " + mode);
        }
      } finally {
        vertx.close().await(30, TimeUnit.SECONDS);
      }
      ReportFiles.write(out, "run", "Load run: " + function + " (" + mode + " loop)",
          meta("inferium-loadtest run").put("url", url).put("function", function), results);
      System.out.println("Written: " + out.resolve("run.md") + ", run.json" + ("closed".equals(mode) ? ", run.png" : ""));
      return 0;
    }
  }

  @Command(name = "echo", mixinStandardHelpOptions = true,
      description = "A bare Vert.x 5 JSON echo server (router, JSON parse, the same JSON answered) on POST /echo: the "
          + "baseline the gateway's serving path is measured against (loadtest/scripts/serving-path.sh). Runs until killed.")
  static final class EchoCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "18090", description = "port on 127.0.0.1 (default: ${DEFAULT-VALUE})")
    int port;

    @Override
    public Integer call() throws Exception {
      Vertx vertx = Vertx.vertx();
      int bound = EchoServer.start(vertx, "127.0.0.1", port).await(30, TimeUnit.SECONDS).actualPort();
      System.out.println("echo server on http://127.0.0.1:" + bound + "/echo, pid " + ProcessHandle.current().pid());
      Thread.currentThread().join();
      return 0;
    }
  }

  @Command(name = "ceiling", mixinStandardHelpOptions = true,
      description = "ONNX Runtime in-process on an ONNX file with one FP32 input [batch, width]: rows/s at the given "
          + "batch, best of one caller with all intra-op threads (spinning on, then off) and one caller per core.")
  static final class CeilingCommand implements Callable<Integer> {
    @Option(names = "--model-file", required = true, description = "the .onnx file")
    Path modelFile;
    @Option(names = "--input", defaultValue = "x", description = "input name (default: ${DEFAULT-VALUE})")
    String input;
    @Option(names = "--width", required = true, description = "values per row")
    int width;
    @Option(names = "--batch", defaultValue = "64", description = "rows per run (default: ${DEFAULT-VALUE})")
    int batch;
    @Option(names = "--seconds", defaultValue = "4", description = "seconds per layout (default: ${DEFAULT-VALUE})")
    double secs;

    @Override
    public Integer call() throws Exception {
      int cores = Runtime.getRuntime().availableProcessors();
      List<OrtCeiling.Point> points = new OrtCeiling(modelFile, input, width).measure(
          List.of(new OrtCeiling.Layout(1, cores), new OrtCeiling.Layout(1, cores, false), new OrtCeiling.Layout(cores, 1)),
          List.of(batch), seconds(secs));
      OrtCeiling.Point best = points.stream().max(java.util.Comparator.comparingDouble(OrtCeiling.Point::rowsPerSecond))
          .orElseThrow();
      points.forEach(p -> System.out.printf("%s batch %d: %.0f rows/s, p50 %.2f ms, CPU %.0f us/row%n", p.layout(),
          p.batch(), p.rowsPerSecond(), p.p50Ms(), p.cpuUsPerRow()));
      System.out.printf("best_rows_per_s %.0f%n", best.rowsPerSecond());
      return 0;
    }
  }
}
