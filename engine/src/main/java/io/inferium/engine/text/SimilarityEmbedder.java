package io.inferium.engine.text;

import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.EmbeddedText;
import io.inferium.verifier.TextOutput;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Embeds the texts of a generation run with the similarity function its text function names
 * ({@link FunctionSpec.SemanticCheck}), so unseeded runs can be compared by meaning. The embedder is the latest
 * ready version of that name, and must be an embedding function the text function's owner may call (public, its
 * own, or any for a function deployed by a platform key, which has no tenant); it is called through the text scheduler like any embedding
 * (queued, under its own verification policy, its worker's signature checked), within the caller's deadline.
 * Nobody is billed for it: the client pays the generation once, at the text function's price, as for the k-fold
 * compute of redundancy (docs/TEXT_MODELS.md, *Verification*). Empty texts are not sent.
 */
final class SimilarityEmbedder {

  /** Finds the latest ready version of a function by name (the function store). */
  @FunctionalInterface
  interface Lookup {
    Future<Optional<FunctionRecord>> latestReady(String name);
  }

  private final Generations scheduler;
  private final Lookup lookup;
  private final TextMetrics metrics;

  SimilarityEmbedder(Generations scheduler, Lookup lookup, TextMetrics metrics) {
    this.scheduler = scheduler;
    this.lookup = lookup;
    this.metrics = metrics;
  }

  /** Whether {@code owner}'s function may use {@code embedder} (null owner: deployed by a platform key). */
  static boolean usableBy(String owner, FunctionRecord embedder) {
    return embedder.spec().kind() == FunctionKind.EMBEDDING && (owner == null
        || embedder.spec().visibility() == FunctionSpec.Visibility.PUBLIC || owner.equals(embedder.owner()));
  }

  /**
   * The run's texts with their embeddings (one per choice, null for an empty text). Fails with a
   * {@link WorkerFailure} {@code similarity} when the embedder is gone, no longer usable or cannot answer: the run is
   * then not judged (never counted as a lie of the node that produced it).
   */
  Future<EmbeddedText> embed(FunctionRecord fn, TextOutput text, long deadlineNanos) {
    FunctionSpec.SemanticCheck check = fn.spec().verification().similarity();
    List<String> inputs = text.texts().stream().filter(t -> !t.isEmpty()).toList();
    if (inputs.isEmpty()) {
      return Future.succeededFuture(new EmbeddedText(text, java.util.Collections.nCopies(text.texts().size(), null)));
    }
    return lookup.latestReady(check.function()).compose(found -> {
      FunctionRecord embedder = found.filter(e -> usableBy(fn.owner(), e)).orElse(null);
      if (embedder == null) {
        return Future.failedFuture(new WorkerFailure("similarity", "the similarity function '" + check.function()
            + "' named by " + fn.ref() + " is not a ready embedding function its owner may call"));
      }
      JsonObject meta = new JsonObject().put("input", new JsonArray(inputs))
          .put("pooling", embedder.spec().text().pooling()).put("normalize", embedder.spec().text().normalize());
      metrics.similarityEmbeddings(fn.name(), inputs.size());
      return scheduler.call(embedder, WorkerCall.Kind.EMBED, meta, deadlineNanos)
          .recover(err -> Future.failedFuture(new WorkerFailure("similarity", "the similarity function '"
              + check.function() + "' could not embed a run of " + fn.ref() + ": " + err.getMessage())))
          .map(reply -> new EmbeddedText(text, vectors(text.texts(), reply.outputs().get(0))));
    });
  }

  /** One row of {@code rows} ({@code count × dim} float32) per non-empty text, in order; null for empty ones. */
  private static List<float[]> vectors(List<String> texts, Tensor rows) {
    long[] shape = rows.shape();
    int dim = (int) shape[shape.length - 1];
    ByteBuffer all = rows.view().order(ByteOrder.LITTLE_ENDIAN);
    List<float[]> out = new ArrayList<>(texts.size());
    int row = 0;
    for (String t : texts) {
      if (t.isEmpty()) {
        out.add(null);
        continue;
      }
      float[] v = new float[dim];
      int base = all.position() + row * dim * 4;
      for (int i = 0; i < dim; i++) {
        v[i] = base + (i + 1) * 4 <= all.limit() ? all.getFloat(base + i * 4) : Float.NaN;
      }
      out.add(v);
      row++;
    }
    return out;
  }
}
