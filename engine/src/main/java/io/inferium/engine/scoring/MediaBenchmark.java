package io.inferium.engine.scoring;

import io.inferium.engine.mempool.Mempool;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.MediaOptions;
import io.inferium.functions.VideoScores;
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
 * A benchmark of an image, audio or video classifier on a labelled image, clip or video set: the files go as the
 * BYTES tensor {@code /predict} sends ({@link BenchmarkRunner#ROWS_PER_REQUEST} files a request,
 * {@link #VIDEOS_PER_REQUEST} for videos, through the mempool at the lowest priority, {@link BenchmarkRunner#IN_FLIGHT}
 * at a time, each under the function's deadline), so a worker decodes and pre-processes them exactly as it does a
 * caller's files. A file's class ranking is by the first output's scores; a video's by its pooled prediction
 * ({@link VideoScores}: the mean of its sampled frames' scores, as {@code /predict} answers). Scored by top-1
 * accuracy (the primary), top-k accuracy ({@link #K}, or one less than the number of classes when that is fewer: over
 * every class it would always be 1) and the classifier report. Cost: the function's per-image, per-audio-minute or
 * per-video-minute price, counted as {@code /predict} counts it.
 */
final class MediaBenchmark {

  /** The k of {@code top_k_accuracy}, at most. */
  static final int K = 5;
  /** Videos a request: {@code /predict}'s {@code max_videos}, which also keeps one run's frames under the worker's bound. */
  static final int VIDEOS_PER_REQUEST = 4;

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
    FunctionKind kind = fn.spec().kind();
    boolean audio = kind == FunctionKind.AUDIO;
    boolean video = kind == FunctionKind.VIDEO;
    String field = audio ? "audio" : video ? "video" : "image";
    int[] expected;
    try {
      for (int i = 0; i < data.size(); i++) {
        if (!(data.rows().get(i).getValue(field) instanceof String)) {
          throw new IllegalArgumentException("row " + (i + 1) + ": a benchmark of a " + fn.spec().kind().wire()
              + " function needs " + (audio ? "a clip in 'audio'" : video ? "an MP4 in 'video'" : "an image in 'image'")
              + " (upload a zip set)");
        }
      }
      expected = data.expectedClasses(labels);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    String input = media.input(fn.signature());
    List<String> outputs = media.postprocess().output() == null ? List.of() : List.of(media.postprocess().output());
    int n = data.size();
    int per = video ? VIDEOS_PER_REQUEST : BenchmarkRunner.ROWS_PER_REQUEST;
    int requests = (n + per - 1) / per;
    int k = Math.max(1, Math.min(K, labels.size() - 1));
    return RequestWindow.run(vertx, requests, BenchmarkRunner.IN_FLIGHT, r -> {
      List<JsonObject> part = data.rows().subList(r * per, Math.min(n, (r + 1) * per));
      long millis = part.stream().mapToLong(row -> row.getLong("millis", 0L)).sum();
      long[] declared = part.stream().mapToLong(row -> row.getLong("millis", 0L)).toArray();
      long cost = audio ? fn.spec().price().chargeAudioMillis(millis) : fn.spec().price().chargeImages(part.size());
      // Decoding base64 is the gateway's only work on a file (up to 16 files of 4 MiB): on a worker thread.
      return vertx.executeBlocking(() -> Tensors.byteArrays(input, new long[] {part.size()},
          part.stream().map(row -> Base64.getDecoder().decode(row.getString(field))).toList()), false).compose(t -> {
            long start = System.nanoTime();
            long deadline = start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
            return RequestWindow.whenFree(vertx, () -> mempool.submit("bench-" + UUID.randomUUID(), fn, List.of(t), outputs,
                    BenchmarkRunner.PRIORITY, deadline, null).future(), deadline)
                .map(outcome -> {
                  if (!video) {
                    return new Answer(ranked(outcome.outputs(), part.size(), labels.size()), System.nanoTime() - start, cost);
                  }
                  // A video's class is its pooled prediction; it costs what /predict charges for the frames sampled.
                  VideoScores scores = VideoScores.of(media, outcome.outputs(), declared);
                  return new Answer(ranked(scores.pooled()), System.nanoTime() - start,
                      fn.spec().price().chargeVideoMillis(scores.totalMillis()));
                });
          });
    }).compose(answers -> vertx.executeBlocking(() -> score(suite, labels, expected, k, answers), false));
  }

  /** Each row's class indices, best first (ties to the lower index), from the first output's scores. */
  static int[][] ranked(List<Tensor> outputs, int rows, int classes) {
    Tensor first = outputs.get(0);
    if (first.shape().length == 0 || first.shape()[0] != rows || !first.type().isFixedWidth()) {
      throw new IllegalArgumentException("output '" + first.name() + "' is " + first.type()
          + java.util.Arrays.toString(first.shape()) + ": expected one row of scores per file (" + rows + ")");
    }
    double[] all = Tensors.toDoubleArray(first);
    int width = all.length / rows;
    double[][] scores = new double[rows][];
    for (int i = 0; i < rows; i++) {
      scores[i] = java.util.Arrays.copyOfRange(all, i * width, (i + 1) * width);
    }
    return ranked(scores);
  }

  /** Each row's class indices, best first (ties to the lower index). */
  static int[][] ranked(double[][] scores) {
    int[][] ranked = new int[scores.length][];
    for (int i = 0; i < scores.length; i++) {
      double[] row = scores[i];
      ranked[i] = java.util.stream.IntStream.range(0, row.length).boxed()
          .sorted(java.util.Comparator.<Integer>comparingDouble(j -> -row[j]).thenComparingInt(j -> j))
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
