package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.completions.Completions;
import io.inferium.engine.completions.Digests;
import io.inferium.engine.text.Embeddings;
import io.inferium.engine.text.TextMetrics;
import io.inferium.functions.CompletionEvent;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Embedding battles: 2 to {@link #MAX_TEXTS} texts embedded by 2 or 3 anonymous functions. A human cannot judge
 * vectors, so each side shows what its vectors say about the texts: the cosine similarity of every pair (rounded
 * to 3 decimals) and, for each text, its nearest other text. The vectors and their dimension stay server-side (a
 * dimension would name the model), and so do token counts.
 */
final class ArenaEmbeddings {

  static final int MAX_TEXTS = 16;
  static final int MAX_TEXT_CHARS = 2000;

  private final ArenaRoutes arena;
  private final Embeddings embeddings;
  private final TextMetrics metrics;
  private final Limits limits;
  private final Completions completions;
  private final PromptLimits prompts;

  ArenaEmbeddings(ArenaRoutes arena, Embeddings embeddings, TextMetrics metrics, Limits limits, Completions completions,
      PromptLimits prompts) {
    this.arena = arena;
    this.embeddings = embeddings;
    this.metrics = metrics;
    this.limits = limits;
    this.completions = completions;
    this.prompts = prompts;
  }

  void battle(RoutingContext ctx, Principal who, String category, JsonObject input) {
    long start = System.nanoTime();
    List<String> texts = texts(input);
    if (input.size() > 1) {
      throw ApiError.badRequest("field 'input': an embedding battle takes only 'texts', got " + input.fieldNames());
    }
    long bytes = texts.stream().mapToLong(PromptLimits::utf8Bytes).sum();
    limits.request(who);
    limits.monthly(who).compose(v -> arena.candidates(who, category, FunctionKind.EMBEDDING)).compose(fns -> {
      List<FunctionRecord> fit = fns.stream().filter(f -> bytes <= prompts.limitFor(f)).toList();
      if (fit.size() < 2) {
        return Future.failedFuture(new ApiError(413, "field 'input.texts': " + bytes + " bytes of text are more than "
            + (fns.size() - fit.size()) + " of the " + fns.size() + " embedding functions of '" + category
            + "' accept; a battle needs 2; send shorter texts"));
      }
      return arena.draw(category, fit);
    }).compose(picked -> {
      arena.furtherRuns(who, picked.size());
      List<Future<Embeddings.Result>> runs = new ArrayList<>();
      for (FunctionRecord f : picked) {
        runs.add(embeddings.embed(f, texts, start + TimeUnit.MILLISECONDS.toNanos(f.spec().timeoutMs())));
      }
      return Future.join(runs).transform(joined -> {
        ApiError failed = ArenaRoutes.firstFailure(runs);
        return failed == null ? Future.succeededFuture() : Future.<Void>failedFuture(failed);
      }).compose(v -> {
        String requestId = "arena-" + UUID.randomUUID();
        List<Future<Long>> bills = new ArrayList<>();
        for (int i = 0; i < picked.size(); i++) {
          bills.add(bill(who, requestId + "/" + ArenaRoutes.LABELS.get(i), picked.get(i), texts, runs.get(i).result(),
              start));
        }
        return Future.all(bills).compose(all -> {
          JsonObject models = new JsonObject();
          JsonArray outputs = new JsonArray();
          boolean billed = true;
          for (int i = 0; i < picked.size(); i++) {
            String label = ArenaRoutes.LABELS.get(i);
            Embeddings.Result r = runs.get(i).result();
            billed &= bills.get(i).result() >= 0;
            models.put(label, new JsonObject().put("function", picked.get(i).name()).put("version", picked.get(i).version())
                .put("charge_micro_usd", Math.max(0, bills.get(i).result())).put("prompt_tokens", r.promptTokens())
                .put("dimensions", r.vectors().shape()[1]));
            double[][] sim = similarity(r.vectors());
            outputs.add(new JsonObject().put("id", label).put("label", "Model " + label)
                .put("similarity", matrix(sim)).put("nearest", nearest(sim)));
          }
          ctx.response().putHeader("X-Inferium-Request-Id", requestId).putHeader(Billed.HEADER, Boolean.toString(billed));
          return arena.record(category, who, input, models).map(id -> new JsonObject().put("id", id)
              .put("category", category).put("kind", "embedding").put("texts", new JsonArray(texts)).put("models", outputs));
        });
      });
    }).onSuccess(b -> FunctionRoutes.json(ctx, 201, b)).onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }

  static List<String> texts(JsonObject input) {
    if (!(input.getValue("texts") instanceof JsonArray a) || a.size() < 2 || a.size() > MAX_TEXTS) {
      throw ApiError.badRequest("field 'input.texts': expected an array of 2 to " + MAX_TEXTS + " strings, got "
          + input.getValue("texts"));
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      if (!(a.getValue(i) instanceof String s) || s.isBlank() || s.length() > MAX_TEXT_CHARS) {
        throw ApiError.badRequest("field 'input.texts[" + i + "]': expected a non-empty string of at most "
            + MAX_TEXT_CHARS + " characters, got " + (a.getValue(i) instanceof String s ? s.length() + " characters"
                : a.getValue(i)));
      }
      out.add(s);
    }
    return out;
  }

  /** Cosine similarity of every pair of rows of {@code vectors} ({@code count × dim} float32). */
  static double[][] similarity(Tensor vectors) {
    int n = (int) vectors.shape()[0];
    int dim = (int) vectors.shape()[1];
    FloatBuffer all = vectors.view().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[][] rows = new float[n][dim];
    for (int i = 0; i < n; i++) {
      all.get(i * dim, rows[i]);
    }
    return similarity(rows);
  }

  /** Cosine similarity of every pair of {@code rows}; 0 with a zero vector. */
  static double[][] similarity(float[][] rows) {
    int n = rows.length;
    double[] norms = new double[n];
    for (int i = 0; i < n; i++) {
      for (float v : rows[i]) {
        norms[i] += (double) v * v;
      }
      norms[i] = Math.sqrt(norms[i]);
    }
    double[][] sim = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double dot = 0;
        for (int d = 0; d < rows[i].length; d++) {
          dot += (double) rows[i][d] * rows[j][d];
        }
        double norm = norms[i] * norms[j];
        sim[i][j] = norm == 0 ? 0 : dot / norm;
      }
    }
    return sim;
  }

  private static JsonArray matrix(double[][] sim) {
    JsonArray out = new JsonArray();
    for (double[] row : sim) {
      JsonArray r = new JsonArray();
      for (double v : row) {
        r.add(Math.round(v * 1000) / 1000.0);
      }
      out.add(r);
    }
    return out;
  }

  /** For each text, the index of its most similar other text (the lower index on a tie). */
  static JsonArray nearest(double[][] sim) {
    JsonArray out = new JsonArray();
    for (int i = 0; i < sim.length; i++) {
      int best = -1;
      for (int j = 0; j < sim.length; j++) {
        if (j != i && (best < 0 || sim[i][j] > sim[i][best])) {
          best = j;
        }
      }
      out.add(best);
    }
    return out;
  }

  /** One side's usage event (modality arena, units = its prompt tokens); the charge, or -1 when not billed. */
  private Future<Long> bill(Principal who, String id, FunctionRecord fn, List<String> texts, Embeddings.Result r,
      long start) {
    long charge = fn.spec().price().chargeTokens(r.promptTokens());
    metrics.tokens(fn.name(), r.promptTokens(), 0);
    CompletionEvent.Builder event = CompletionEvent.builder(id, fn).tenant(who.tenantId()).endpoint("arena", "arena")
        .worker(r.workerId()).timings(0, r.computeMicros(), TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start))
        .charge(r.promptTokens(), r.computeMicros(), charge).detail("prompt_tokens", r.promptTokens())
        .detail("inputs", texts.size());
    return completions.emit(event, Digests.textToTensors(texts, List.of(r.vectors()))).map(billed -> {
      if (!billed) {
        return -1L;
      }
      limits.charged(who, charge);
      return charge;
    });
  }
}
