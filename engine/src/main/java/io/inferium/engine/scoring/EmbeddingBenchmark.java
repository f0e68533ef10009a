package io.inferium.engine.scoring;

import io.inferium.engine.text.Embeddings;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.tensor.Tensors;
import io.inferium.scoring.eval.EvalDataset;
import io.inferium.scoring.eval.EvalStore;
import io.inferium.scoring.eval.MetricSuite;
import io.inferium.scoring.eval.RetrievalMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A benchmark of an embedding function: every query and every passage of the dataset's
 * {@code (query, passage)} rows is embedded through {@link Embeddings} (the same path as
 * {@code /v1/embeddings}), {@link #TEXTS_PER_REQUEST} texts a request, {@link BenchmarkRunner#IN_FLIGHT}
 * requests at a time, each under the function's deadline; a busy answer (every worker at its limit)
 * is retried after a pause rather than failing, so callers go first. Then recall@k by cosine.
 */
final class EmbeddingBenchmark {

  /** Texts per embedding request. */
  static final int TEXTS_PER_REQUEST = 16;
  /** The k of the primary metric {@code recall_at_k}; recall@1 and recall@10 are recorded beside it. */
  static final int K = 5;

  private record Answer(float[][] vectors, long latencyNanos, long cost) {}

  private final Vertx vertx;
  private final Embeddings embeddings;

  EmbeddingBenchmark(Vertx vertx, Embeddings embeddings) {
    this.vertx = vertx;
    this.embeddings = embeddings;
  }

  Future<EvalStore.RunResult> execute(FunctionRecord fn, EvalDataset data) {
    List<String> texts = new ArrayList<>();
    try {
      texts.addAll(column(data, "query"));
      texts.addAll(column(data, "passage"));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    int requests = (texts.size() + TEXTS_PER_REQUEST - 1) / TEXTS_PER_REQUEST;
    return RequestWindow.run(vertx, requests, BenchmarkRunner.IN_FLIGHT, r -> {
      List<String> part = texts.subList(r * TEXTS_PER_REQUEST, Math.min(texts.size(), (r + 1) * TEXTS_PER_REQUEST));
      long start = System.nanoTime();
      long deadline = start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
      return RequestWindow.whenFree(vertx, () -> embeddings.embed(fn, part, deadline), deadline)
          .map(res -> {
            float[] flat = Tensors.toFloatArray(res.vectors());
            int dim = (int) res.vectors().shape()[1];
            float[][] rows = new float[part.size()][];
            for (int i = 0; i < rows.length; i++) {
              rows[i] = java.util.Arrays.copyOfRange(flat, i * dim, (i + 1) * dim);
            }
            return new Answer(rows, System.nanoTime() - start, fn.spec().price().chargeTokens(res.promptTokens()));
          });
    }).compose(answers -> vertx.executeBlocking(() -> score(data.size(), answers), false));
  }

  private static List<String> column(EvalDataset data, String field) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < data.size(); i++) {
      if (!(data.rows().get(i).getValue(field) instanceof String s)) {
        throw new IllegalArgumentException("row " + (i + 1) + ": an embedding benchmark needs a string '" + field + "'");
      }
      out.add(s);
    }
    return out;
  }

  private static EvalStore.RunResult score(int pairs, List<Answer> answers) {
    List<float[]> vectors = new ArrayList<>();
    long[] latency = new long[answers.size()];
    long cost = 0;
    for (int i = 0; i < answers.size(); i++) {
      vectors.addAll(List.of(answers.get(i).vectors()));
      latency[i] = answers.get(i).latencyNanos();
      cost += answers.get(i).cost();
    }
    float[][] queries = vectors.subList(0, pairs).toArray(new float[0][]);
    float[][] passages = vectors.subList(pairs, 2 * pairs).toArray(new float[0][]);
    double atK = RetrievalMetrics.recallAtK(queries, passages, K);
    JsonObject metrics = new JsonObject().put("pairs", pairs).put("k", K).put("recall_at_k", atK)
        .put("recall_at_1", RetrievalMetrics.recallAtK(queries, passages, 1))
        .put("recall_at_10", RetrievalMetrics.recallAtK(queries, passages, 10))
        .put("dimensions", queries[0].length);
    double[] p = RequestWindow.percentilesMs(latency);
    return new EvalStore.RunResult(metrics, MetricSuite.EMBEDDING.primary(), atK, pairs, p[0], p[1], cost);
  }
}
