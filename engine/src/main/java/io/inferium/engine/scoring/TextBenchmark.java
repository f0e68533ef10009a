package io.inferium.engine.scoring;

import io.inferium.engine.text.Generations;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.generation.SamplingParams;
import io.inferium.scoring.eval.EvalDataset;
import io.inferium.scoring.eval.EvalStore;
import io.inferium.scoring.eval.TextMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A benchmark of a text-generation function: each row's {@code prompt} (or chat {@code messages}) is
 * generated through {@link Generations} (the path behind {@code /v1/completions}), greedily
 * (temperature 0, so a run is reproducible) under the rest of the function's own
 * {@code generation_config.json} ({@code max_new_tokens}, {@code repetition_penalty}); a row may set
 * {@code max_tokens} and {@code stop}. At most {@link #IN_FLIGHT} generations at a time, each under
 * the function's deadline; a full queue is retried after a pause. Generations has no priority levels,
 * so the small window is what keeps a run from crowding out callers.
 *
 * <p>Rows with a {@code reference} are scored by exact match ({@code ignore_case} per row), rows with
 * {@code instructions} by prompt following; the primary metric is {@code exact_match} when the
 * dataset has references, else {@code prompt_level}. Multiple-choice rows ({@code choices}) need
 * per-token log-likelihoods, which the serving path does not return; such a dataset is refused.
 */
final class TextBenchmark {

  /** Generations of one run in flight at once. */
  static final int IN_FLIGHT = 4;
  /** Tokens per answer when neither the row nor the function's generation config bounds it. */
  static final int DEFAULT_MAX_TOKENS = 64;
  /** How many (prompt, output) pairs the stored report keeps, for a reader to see what was scored. */
  static final int SAMPLES = 5;

  private record Answer(String text, long latencyNanos, long cost) {}

  private final Vertx vertx;
  private final Generations generations;

  TextBenchmark(Vertx vertx, Generations generations) {
    this.vertx = vertx;
    this.generations = generations;
  }

  /** The work a row becomes: what {@code /v1/completions} would send for the same prompt at temperature 0. */
  static JsonObject work(FunctionRecord fn, JsonObject row, int index) {
    String where = "row " + (index + 1) + ": ";
    if (row.containsKey("choices")) {
      throw new IllegalArgumentException(where + "multiple-choice rows need per-token log-likelihoods, which the "
          + "serving path does not return yet");
    }
    if (!(row.getValue("reference") instanceof String) && !(row.getValue("instructions") instanceof JsonArray)) {
      throw new IllegalArgumentException(where + "nothing to score: expected a string 'reference' or an 'instructions' array");
    }
    JsonObject work = new JsonObject();
    if (row.getValue("prompt") instanceof String p) {
      work.put("prompt", p);
    } else if (row.getValue("messages") instanceof JsonArray m) {
      work.put("messages", m);
    } else {
      throw new IllegalArgumentException(where + "expected a string 'prompt' or a 'messages' array");
    }
    JsonObject body = new JsonObject().put("temperature", 0);
    if (row.containsKey("max_tokens")) {
      body.put("max_tokens", row.getValue("max_tokens"));
    }
    if (row.containsKey("stop")) {
      body.put("stop", row.getValue("stop"));
    }
    JsonObject defaults = fn.report() == null ? new JsonObject()
        : fn.report().getJsonObject("text", new JsonObject()).getJsonObject("generation_config", new JsonObject());
    SamplingParams params;
    try {
      params = SamplingParams.fromOpenAi(body, defaults);
      if (params.maxTokens() == SamplingParams.UNLIMITED_TOKENS) {
        params = SamplingParams.fromOpenAi(body.put("max_tokens", DEFAULT_MAX_TOKENS), defaults);
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + e.getMessage());
    }
    return work.put("params", params.toJson());
  }

  Future<EvalStore.RunResult> execute(FunctionRecord fn, EvalDataset data) {
    List<JsonObject> works = new ArrayList<>();
    try {
      for (int i = 0; i < data.size(); i++) {
        works.add(work(fn, data.rows().get(i), i));
      }
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return RequestWindow.run(vertx, works.size(), IN_FLIGHT, i -> {
      long start = System.nanoTime();
      long deadline = start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
      return RequestWindow.whenFree(vertx, () -> generate(fn, works.get(i), deadline), deadline)
          .map(a -> new Answer(a.text(), System.nanoTime() - start, a.cost()));
    }).compose(answers -> vertx.executeBlocking(() -> score(data, answers), false));
  }

  private Future<Answer> generate(FunctionRecord fn, JsonObject work, long deadline) {
    StringBuilder text = new StringBuilder();
    return generations.submit(fn, work, deadline, chunk -> {
      if (chunk.index() == 0) {
        text.append(chunk.text());
      }
    }).future().map(f -> new Answer(text.toString(), 0,
        fn.spec().price().chargeTokens((long) f.promptTokens() + f.completionTokens())));
  }

  private static EvalStore.RunResult score(EvalDataset data, List<Answer> answers) {
    List<String> references = new ArrayList<>();
    int matches = 0;
    List<String> followed = new ArrayList<>();
    List<List<JsonObject>> instructions = new ArrayList<>();
    long[] latency = new long[answers.size()];
    long cost = 0;
    JsonArray samples = new JsonArray();
    for (int i = 0; i < answers.size(); i++) {
      JsonObject row = data.rows().get(i);
      Answer a = answers.get(i);
      latency[i] = a.latencyNanos();
      cost += a.cost();
      if (row.getValue("reference") instanceof String ref) {
        references.add(ref);
        matches += TextMetrics.exactMatch(a.text(), ref, row.getBoolean("ignore_case", false)) ? 1 : 0;
      }
      if (row.getValue("instructions") instanceof JsonArray list) {
        followed.add(a.text());
        List<JsonObject> checks = new ArrayList<>();
        list.forEach(o -> checks.add((JsonObject) o));
        instructions.add(checks);
      }
      if (samples.size() < SAMPLES) {
        samples.add(new JsonObject().put("row", i + 1).put("output", a.text()));
      }
    }
    JsonObject metrics = new JsonObject().put("rows", answers.size());
    String primary;
    double value;
    TextMetrics.PromptFollowing pf = followed.isEmpty() ? null : TextMetrics.promptFollowing(followed, instructions);
    if (pf != null) {
      metrics.put("prompt_level", pf.promptLevel()).put("instruction_level", pf.instructionLevel())
          .put("prompt_following_rows", pf.prompts());
    }
    if (!references.isEmpty()) {
      value = (double) matches / references.size();
      metrics.put("exact_match", value).put("exact_match_rows", references.size()).put("exact_matches", matches);
      primary = "exact_match";
    } else {
      value = pf.promptLevel();
      primary = "prompt_level";
    }
    metrics.put("samples", samples);
    double[] p = RequestWindow.percentilesMs(latency);
    return new EvalStore.RunResult(metrics, primary, value, answers.size(), p[0], p[1], cost);
  }
}
