package io.inferium.engine.scoring;

import io.inferium.engine.mempool.Mempool;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.MediaOptions;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.inferium.scoring.eval.ClassifierMetrics;
import io.inferium.scoring.eval.EvalDataset;
import io.inferium.scoring.eval.EvalStore;
import io.inferium.scoring.eval.MetricSuite;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A benchmark of an image classifier or an audio classifier on a labelled image or clip set: the files go as the
 * BYTES tensor {@code /predict} sends ({@link BenchmarkRunner#ROWS_PER_REQUEST} files a request, through the
 * mempool at the lowest priority, {@link BenchmarkRunner#IN_FLIGHT} at a time, each under the function's deadline),
 * so a worker decodes and pre-processes them exactly as it does a caller's files. Scored by top-1 accuracy (the
 * primary), top-k accuracy ({@link #K}, or one less than the number of classes when that is fewer: over every class
 * it would always be 1) and the classifier report. Cost: the function's per-image or per-audio-minute price.
 */
final class MediaBenchmark {

  /** The k of {@code top_k_accuracy}, at most. */
  static final int K = 5;

  private record Answer(int[][] ranked, long latencyNanos, long cost) {}

  private final Vertx vertx;
  private final Mempool mempool;

  MediaBenchmark(Vertx vertx, Mempool mempool) {
    this.vertx = vertx;
    this.mempool = mempool;
  }

  Future<EvalStore.RunResult> execute(FunctionRecord fn, MetricSuite suite, EvalDataset data) {
    MediaOptions media = fn.spec().media();
    List<String> labels = fn.spec().labels();
    if (media == null || labels.isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException("a benchmark of " + fn.ref()
          + " needs a classifier: a media function with labels"));
    }
    boolean audio = fn.spec().kind() == FunctionKind.AUDIO;
    String field = audio ? "audio" : "image";
    int[] expected;
    try {
      for (int i = 0; i < data.size(); i++) {
        if (!(data.rows().get(i).getValue(field) instanceof String)) {
          throw new IllegalArgumentException("row " + (i + 1) + ": a benchmark of a " + fn.spec().kind().wire()
              + " function needs " + (audio ? "a clip in 'audio'" : "an image in 'image'") + " (upload a zip set)");
        }
      }
      expected = data.expectedClasses(labels);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    String input = media.input(fn.signature());
    List<String> outputs = media.postprocess().output() == null ? List.of() : List.of(media.postprocess().output());
    int n = data.size();
    int per = BenchmarkRunner.ROWS_PER_REQUEST;
    int requests = (n + per - 1) / per;
    int k = Math.max(1, Math.min(K, labels.size() - 1));
    return RequestWindow.run(vertx, requests, BenchmarkRunner.IN_FLIGHT, r -> {
      List<JsonObject> part = data.rows().subList(r * per, Math.min(n, (r + 1) * per));
      long millis = part.stream().mapToLong(row -> row.getLong("millis", 0L)).sum();
      long cost = audio ? fn.spec().price().chargeAudioMillis(millis) : fn.spec().price().chargeImages(part.size());
      // Decoding base64 is the gateway's only work on a file (up to 16 files of 4 MiB): on a worker thread.
      return vertx.executeBlocking(() -> Tensors.byteArrays(input, new long[] {part.size()},
          part.stream().map(row -> Base64.getDecoder().decode(row.getString(field))).toList()), false).compose(t -> {
            long start = System.nanoTime();
            long deadline = start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
            return RequestWindow.whenFree(vertx, () -> mempool.submit("bench-" + UUID.randomUUID(), fn, List.of(t), outputs,
                    BenchmarkRunner.PRIORITY, deadline, null).future(), deadline)
                .map(outcome -> new Answer(ranked(outcome.outputs(), part.size(), labels.size()), System.nanoTime() - start,
                    cost));
          });
    }).compose(answers -> vertx.executeBlocking(() -> score(suite, labels, expected, k, answers), false));
  }

  /** Each row's class indices, best first (ties to the lower index), from the first output's scores. */
  static int[][] ranked(List<Tensor> outputs, int rows, int classes) {
    Tensor out = outputs.get(0);
    if (out.shape().length == 0 || out.shape()[0] != rows || !out.type().isFixedWidth()) {
      throw new IllegalArgumentException("output '" + out.name() + "' is " + out.type()
          + java.util.Arrays.toString(out.shape()) + ": expected one row of scores per file (" + rows + ")");
    }
    double[] all = Tensors.toDoubleArray(out);
    int width = all.length / rows;
    int[][] ranked = new int[rows][];
    for (int i = 0; i < rows; i++) {
      int row = i;
      ranked[i] = java.util.stream.IntStream.range(0, width).boxed()
          .sorted(java.util.Comparator.<Integer>comparingDouble(j -> -all[row * width + j]).thenComparingInt(j -> j))
          .mapToInt(Integer::intValue).toArray();
    }
    return ranked;
  }

  private static EvalStore.RunResult score(MetricSuite suite, List<String> labels, int[] expected, int k,
      List<Answer> answers) {
    int[] predicted = new int[expected.length];
    long[] latency = new long[answers.size()];
    long cost = 0;
    int row = 0;
    int inTopK = 0;
    List<String> names = new ArrayList<>(labels);
    for (int a = 0; a < answers.size(); a++) {
      for (int[] ranks : answers.get(a).ranked()) {
        predicted[row] = ranks[0];
        while (names.size() <= ranks[0]) {
          names.add(Integer.toString(names.size()));
        }
        for (int j = 0; j < Math.min(k, ranks.length); j++) {
          inTopK += ranks[j] == expected[row] ? 1 : 0;
        }
        row++;
      }
      latency[a] = answers.get(a).latencyNanos();
      cost += answers.get(a).cost();
    }
    ClassifierMetrics.Report r = ClassifierMetrics.evaluate(expected, predicted, names);
    JsonObject metrics = r.toJson().put("top_k_accuracy", (double) inTopK / expected.length).put("k", k)
        .put("files", expected.length);
    double[] p = RequestWindow.percentilesMs(latency);
    return new EvalStore.RunResult(metrics, suite.primary(), r.accuracy(), r.rows(), p[0], p[1], cost);
  }
}
