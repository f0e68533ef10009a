package io.inferium.engine.scoring;

import io.inferium.engine.text.Generations;
import io.inferium.engine.text.LogLikelihoods;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.SamplingParams;
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
 * {@code instructions} by prompt following. Multiple-choice rows ({@code prompt}, {@code choices},
 * {@code gold}) generate nothing: {@link LogLikelihoods} gives each choice's log-likelihood after the
 * prompt and they are scored as {@code acc} / {@code acc_norm}. The primary metric is {@code acc}
 * when the dataset has multiple-choice rows, else {@code exact_match} when it has references, else
 * {@code prompt_level}.
 */
final class TextBenchmark {

  /** Generations of one run in flight at once. */
  static final int IN_FLIGHT = 4;
  /** Tokens per answer when neither the row nor the function's generation config bounds it. */
  static final int DEFAULT_MAX_TOKENS = 64;
  /** How many (prompt, output) pairs the stored report keeps, for a reader to see what was scored. */
  static final int SAMPLES = 5;

  /** A row's answer: the generated text, or for a multiple-choice row each choice's log-likelihood. */
  private record Answer(String text, double[] logLikelihoods, long latencyNanos, long cost) {}

  private final Vertx vertx;
  private final Generations generations;
  private final LogLikelihoods logLikelihoods;

  TextBenchmark(Vertx vertx, Generations generations, LogLikelihoods logLikelihoods) {
    this.vertx = vertx;
    this.generations = generations;
    this.logLikelihoods = logLikelihoods;
  }

  /** A multiple-choice row's choices, checked; null for other rows. */
  static List<String> choices(JsonObject row, int index) {
    if (!row.containsKey("choices")) {
      return null;
    }
    String where = "row " + (index + 1) + ": ";
    if (!(row.getValue("choices") instanceof JsonArray a) || a.isEmpty() || !a.stream().allMatch(c -> c instanceof String)) {
      throw new IllegalArgumentException(where + "'choices' must be a non-empty array of strings");
    }
    if (!(row.getValue("prompt") instanceof String)) {
      throw new IllegalArgumentException(where + "a multiple-choice row needs a string 'prompt' (the context)");
    }
    if (!(row.getValue("gold") instanceof Integer g) || g < 0 || g >= a.size()) {
      throw new IllegalArgumentException(where + "'gold' must be the index of the right choice, 0.." + (a.size() - 1));
    }
    return a.stream().map(String.class::cast).toList();
  }

  /** The work a row becomes: what {@code /v1/completions} would send for the same prompt at temperature 0. */
  static JsonObject work(FunctionRecord fn, JsonObject row, int index) {
    String where = "row " + (index + 1) + ": ";
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
    List<List<String>> choices = new ArrayList<>();
    try {
      for (int i = 0; i < data.size(); i++) {
        List<String> c = choices(data.rows().get(i), i);
        choices.add(c);
        works.add(c == null ? work(fn, data.rows().get(i), i) : null);
      }
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return RequestWindow.run(vertx, works.size(), IN_FLIGHT, i -> {
      long start = System.nanoTime();
      long deadline = start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
      Future<Answer> answer = choices.get(i) == null
          ? RequestWindow.whenFree(vertx, () -> generate(fn, works.get(i), deadline), deadline)
          : RequestWindow.whenFree(vertx, () -> logLikelihoods.score(fn, data.rows().get(i).getString("prompt"), choices.get(i),
              deadline), deadline).map(r -> new Answer(null, r.logLikelihoods(), 0,
              fn.spec().price().chargeTokens(r.promptTokens())));
      return answer.map(a -> new Answer(a.text(), a.logLikelihoods(), System.nanoTime() - start, a.cost()));
    }).compose(answers -> vertx.executeBlocking(() -> score(data, answers), false));
  }

  private Future<Answer> generate(FunctionRecord fn, JsonObject work, long deadline) {
    StringBuilder text = new StringBuilder();
    return generations.submit(fn, work, deadline, batch -> batch.forEach(chunk -> {
      if (chunk.index() == 0) {
        text.append(chunk.text());
      }
    })).future().map(f -> new Answer(text.toString(), null, 0,
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
    List<TextMetrics.Choice> questions = new ArrayList<>();
    for (int i = 0; i < answers.size(); i++) {
      JsonObject row = data.rows().get(i);
      Answer a = answers.get(i);
      latency[i] = a.latencyNanos();
      cost += a.cost();
      if (a.logLikelihoods() != null) {
        questions.add(new TextMetrics.Choice(choices(row, i), a.logLikelihoods(), row.getInteger("gold")));
        continue;
      }
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
      metrics.put("exact_match", (double) matches / references.size()).put("exact_match_rows", references.size())
          .put("exact_matches", matches);
    }
    if (!questions.isEmpty()) {
      TextMetrics.MultipleChoice mc = TextMetrics.multipleChoice(questions);
      metrics.put("acc", mc.acc()).put("acc_norm", mc.accNorm()).put("multiple_choice_rows", mc.questions());
      value = mc.acc();
      primary = "acc";
    } else if (!references.isEmpty()) {
      value = metrics.getDouble("exact_match");
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
