package io.inferium.engine.scoring;

import io.inferium.engine.mempool.Mempool;
import io.inferium.engine.text.Embeddings;
import io.inferium.engine.text.Generations;
import io.inferium.engine.text.LogLikelihoods;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.inferium.scoring.eval.ClassifierMetrics;
import io.inferium.scoring.eval.EvalDataset;
import io.inferium.scoring.eval.EvalStore;
import io.inferium.scoring.eval.MetricSuite;
import io.inferium.scoring.eval.RegressorMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Runs a dataset through the serving path: rows go in chunks as ordinary mempool requests at the
 * lowest priority (9), each with the function's deadline, at most {@link #IN_FLIGHT} at a time, so
 * benchmarks never crowd out callers and never block the event loop. Records quality (the kind's
 * metric suite), per-request latency (p50/p95) and what the requests would cost at the function's
 * price. Classifier and regressor rows go here as tensors; embedding and text-generation datasets
 * go through the text serving path ({@link EmbeddingBenchmark}, {@link TextBenchmark}) and labelled
 * image, clip or video sets through the media path ({@link MediaBenchmark}) under the same rules.
 */
public final class BenchmarkRunner {

  /** The lowest mempool priority: served after every caller's request. */
  public static final int PRIORITY = 9;
  /** Rows per request. */
  public static final int ROWS_PER_REQUEST = 16;
  /** Requests of one run in flight at once. */
  public static final int IN_FLIGHT = 2;

  private final Vertx vertx;
  private final Mempool mempool;
  private final EvalStore evals;
  private final double dropThreshold;
  private final EmbeddingBenchmark embedding;
  private final TextBenchmark text;
  private final MediaBenchmark media;

  public BenchmarkRunner(Vertx vertx, Mempool mempool, Generations generations, LogLikelihoods logLikelihoods,
      Embeddings embeddings, EvalStore evals, double dropThreshold) {
    this.vertx = vertx;
    this.mempool = mempool;
    this.evals = evals;
    this.dropThreshold = dropThreshold;
    this.embedding = new EmbeddingBenchmark(vertx, embeddings);
    this.text = new TextBenchmark(vertx, generations, logLikelihoods);
    this.media = new MediaBenchmark(vertx, mempool);
  }

  /** Whether runs of this kind (its wire name) go through here: every kind with a metric suite. */
  public static boolean supports(String kind) {
    return MetricSuite.forKind(kind).isPresent();
  }

  /** Whether {@code fn} has a metric suite: its kind has one, and an audio or video function is a classifier (has labels). */
  public static boolean supports(FunctionRecord fn) {
    io.inferium.functions.FunctionKind kind = fn.spec().kind();
    boolean labelsOptional = kind != io.inferium.functions.FunctionKind.AUDIO && kind != io.inferium.functions.FunctionKind.VIDEO;
    return supports(kind.wire()) && (labelsOptional || !fn.spec().labels().isEmpty());
  }

  /**
   * Whether the scheduler pairs {@code fn} with {@code dataset}: media classifiers with labelled media sets (format
   * zip) only, and the other kinds with anything but those (a manual run may pair them and fail with the reason).
   */
  public static boolean fits(FunctionRecord fn, EvalStore.Dataset dataset) {
    boolean media = MetricSuite.forKind(fn.spec().kind().wire()).map(MetricSuite::media).orElse(false);
    return media == "zip".equals(dataset.format());
  }

  /** Runs {@code fn} on a dataset and stores the run; the stored run (or the failure, also stored). */
  public Future<JsonObject> run(FunctionRecord fn, EvalStore.Dataset dataset, String trigger) {
    return run(fn, dataset, trigger, null);
  }

  /** As {@link #run(FunctionRecord, EvalStore.Dataset, String)}, recording the tenant that started it (null: the platform). */
  public Future<JsonObject> run(FunctionRecord fn, EvalStore.Dataset dataset, String trigger, String startedBy) {
    return evals.startRun(dataset.id(), fn.name(), fn.version(), fn.spec().category(), trigger, startedBy)
        .compose(runId -> evals.rows(dataset.id())
            .compose(rows -> execute(fn, rows))
            .compose(result -> evals.finishRun(runId, result, dropThreshold))
            .recover(err -> evals.failRun(runId, reason(err))
                .compose(v -> evals.run(runId)).map(o -> o.orElseThrow())));
  }

  /**
   * What a failed run tells whoever reads its history: our own errors (bad rows, worker failures,
   * deadlines) say what went wrong; anything else (a database error, a bug) only an id, with the
   * exception in the log.
   */
  private static String reason(Throwable err) {
    if (err instanceof IllegalArgumentException || err.getClass().getName().startsWith("io.inferium.")) {
      return String.valueOf(err.getMessage());
    }
    String id = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    org.slf4j.LoggerFactory.getLogger(BenchmarkRunner.class).error("Benchmark run failed: internal error {}", id, err);
    return "internal error " + id;
  }

  private Future<EvalStore.RunResult> execute(FunctionRecord fn, EvalDataset data) {
    MetricSuite suite = MetricSuite.forKind(fn.spec().kind().wire()).orElse(null);
    if (suite == null) {
      return Future.failedFuture(new IllegalArgumentException("a " + fn.spec().kind().wire() + " function has no metric suite"));
    }
    if (suite == MetricSuite.EMBEDDING) {
      return embedding.execute(fn, data);
    }
    if (suite == MetricSuite.TEXT_GENERATION) {
      return text.execute(fn, data);
    }
    if (suite.media()) {
      return media.execute(fn, suite, data);
    }
    List<TensorSpec> ins = fn.signature().inputs();
    if (ins.size() != 1 || ins.get(0).type() != DataType.FP32 || ins.get(0).shape().length != 2) {
      return Future.failedFuture(new IllegalArgumentException("benchmarks feed one FP32 [batch, features] input; "
          + fn.ref() + " has " + ins.size() + " inputs"));
    }
    float[][] inputs;
    try {
      inputs = data.inputs();
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    String inputName = ins.get(0).name();
    int n = inputs.length;
    int chunks = (n + ROWS_PER_REQUEST - 1) / ROWS_PER_REQUEST;
    List<List<Tensor>> answers = new ArrayList<>(java.util.Collections.nCopies(chunks, null));
    long[] latencyNanos = new long[chunks];
    long[] cost = new long[1];
    Promise<Void> done = Promise.promise();
    int[] next = {0};
    int[] finished = {0};
    Runnable[] launch = new Runnable[1];
    launch[0] = () -> {
      if (done.future().isComplete() || next[0] >= chunks) {
        return;
      }
      int c = next[0]++;
      int from = c * ROWS_PER_REQUEST;
      int to = Math.min(n, from + ROWS_PER_REQUEST);
      float[] flat = new float[(to - from) * inputs[0].length];
      for (int r = from; r < to; r++) {
        System.arraycopy(inputs[r], 0, flat, (r - from) * inputs[0].length, inputs[0].length);
      }
      Tensor t = Tensors.fp32(inputName, new long[] {to - from, inputs[0].length}, flat);
      long start = System.nanoTime();
      long deadline = start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
      mempool.submit("bench-" + UUID.randomUUID(), fn, List.of(t), List.of(), PRIORITY, deadline, null).future()
          .onComplete(ar -> {
            if (ar.failed()) {
              done.tryFail(ar.cause());
              return;
            }
            latencyNanos[c] = System.nanoTime() - start;
            long share = ar.result().batchRows() > 0 ? ar.result().computeMicros() * (to - from) / ar.result().batchRows()
                : ar.result().computeMicros();
            cost[0] += fn.spec().price().charge(share);
            answers.set(c, ar.result().outputs());
            if (++finished[0] == chunks) {
              done.tryComplete();
            } else {
              launch[0].run();
            }
          });
    };
    vertx.getOrCreateContext().runOnContext(v -> {
      for (int i = 0; i < IN_FLIGHT; i++) {
        launch[0].run();
      }
    });
    return done.future().compose(v -> vertx.executeBlocking(() -> score(fn, suite, data, answers, latencyNanos, cost[0]),
        false));
  }

  private static EvalStore.RunResult score(FunctionRecord fn, MetricSuite suite, EvalDataset data,
      List<List<Tensor>> answers, long[] latencyNanos, long cost) {
    double[] percentiles = RequestWindow.percentilesMs(latencyNanos);
    double p50 = percentiles[0];
    double p95 = percentiles[1];
    if (suite == MetricSuite.CLASSIFIER) {
      List<String> labels = fn.spec().labels();
      int classes = labels.isEmpty() ? 0 : labels.size();
      int[] predicted = new int[data.size()];
      int row = 0;
      for (List<Tensor> out : answers) {
        int[] p = classes(out);
        System.arraycopy(p, 0, predicted, row, p.length);
        row += p.length;
        for (int x : p) {
          classes = Math.max(classes, x + 1);
        }
      }
      List<String> names = new ArrayList<>(labels);
      int[] expected = data.expectedClasses(labels);
      for (int e : expected) {
        classes = Math.max(classes, e + 1);
      }
      while (names.size() < classes) {
        names.add(Integer.toString(names.size()));
      }
      ClassifierMetrics.Report r = ClassifierMetrics.evaluate(expected, predicted, names);
      return new EvalStore.RunResult(r.toJson(), suite.primary(), r.macroF1(), r.rows(), p50, p95, cost);
    }
    double[] predicted = new double[data.size()];
    int row = 0;
    for (List<Tensor> out : answers) {
      Tensor t = out.stream().filter(x -> isFloat(x.type())).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("the regressor returned no floating-point output"));
      double[] v = Tensors.toDoubleArray(t);
      int rows = (int) t.shape()[0];
      int width = rows == 0 ? 0 : v.length / rows;
      for (int i = 0; i < rows; i++) {
        predicted[row++] = v[i * width];
      }
    }
    RegressorMetrics.Report r = RegressorMetrics.evaluate(data.expectedValues(), predicted);
    return new EvalStore.RunResult(r.toJson(), suite.primary(), r.r2(), r.rows(), p50, p95, cost);
  }

  /** Predicted class per row: an integer output of shape [batch] if there is one, else argmax of the first float output. */
  static int[] classes(List<Tensor> outputs) {
    for (Tensor t : outputs) {
      if ((t.type() == DataType.INT64 || t.type() == DataType.INT32) && t.shape().length == 1) {
        return Arrays.stream(Tensors.toLongArray(t)).mapToInt(x -> (int) x).toArray();
      }
    }
    Tensor t = outputs.stream().filter(x -> isFloat(x.type()) && x.shape().length == 2).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("the classifier returned neither labels nor scores"));
    float[] v = Tensors.toFloatArray(t);
    int rows = (int) t.shape()[0];
    int width = (int) t.shape()[1];
    int[] out = new int[rows];
    for (int i = 0; i < rows; i++) {
      int best = 0;
      for (int j = 1; j < width; j++) {
        if (v[i * width + j] > v[i * width + best]) {
          best = j;
        }
      }
      out[i] = best;
    }
    return out;
  }

  private static boolean isFloat(DataType t) {
    return t == DataType.FP32 || t == DataType.FP64 || t == DataType.FP16 || t == DataType.BF16;
  }
}
