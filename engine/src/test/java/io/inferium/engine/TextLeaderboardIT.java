package io.inferium.engine;

import static io.inferium.engine.TestGateway.poll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.generation.LogLikelihood;
import io.inferium.functions.generation.TextModel;
import io.inferium.scoring.eval.RetrievalMetrics;
import io.inferium.scoring.eval.TextMetrics;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Benchmarks of embedding and text-generation functions through real workers, on the evaluation
 * sets the demo ships: the scheduler runs each function of the categories {@code embedding} and
 * {@code text} over the uploaded datasets, and the recorded metrics are recomputed here from answers
 * of {@code /v1/embeddings} and {@code /v1/completions} (temperature 0) for the same inputs.
 */
class TextLeaderboardIT {

  private static final Path DEMO = Path.of("src/main/resources/demo");
  private static final Path MODELS = OpenAiIT.MODELS;

  @Test
  void embeddingAndTextRunsMatchWhatTheApiAnswers() throws Exception {
    try (TestGateway gw = TestGateway.start(1)) {
      assertEquals("ready", deploy(gw, DEMO.resolve("tiny-gpt-terse"), MODELS.resolve("tiny-gpt")).getString("state"));
      assertEquals("ready", deploy(gw, MODELS.resolve("tiny-gpt"), MODELS.resolve("tiny-gpt")).getString("state"));
      assertEquals("ready", deploy(gw, MODELS.resolve("tiny-embed"), MODELS.resolve("tiny-embed")).getString("state"));
      assertEquals("ready", deploy(gw, DEMO.resolve("tiny-embed-cls"), MODELS.resolve("tiny-embed")).getString("state"));

      String pairs = Files.readString(DEMO.resolve("embedding-pairs.jsonl"));
      String nextWord = Files.readString(DEMO.resolve("text-next-word.jsonl"));
      String instructions = Files.readString(DEMO.resolve("text-instructions.jsonl"));
      String pairsId = upload(gw, "pairs", "embedding", pairs);
      String nextWordId = upload(gw, "next-word", "text", nextWord);
      String instructionsId = upload(gw, "instructions", "text", instructions);
      String choice = Files.readString(DEMO.resolve("text-choice.jsonl"));
      HttpResponse<Buffer> mc = gw.post("/api/datasets", new JsonObject().put("name", "choice").put("function", "tiny-gpt")
          .put("format", "jsonl").put("content", choice).encode());
      assertEquals(201, mc.statusCode(), mc.bodyAsString());

      // Embeddings: the same texts, in the same requests of 16, through the public API.
      List<JsonObject> pairRows = rows(pairs);
      double[] recall = new double[2];
      for (int f = 0; f < 2; f++) {
        String fn = f == 0 ? "tiny-embed" : "tiny-embed-cls";
        JsonObject run = run(gw, fn, pairsId, "done");
        List<String> texts = new ArrayList<>();
        pairRows.forEach(r -> texts.add(r.getString("query")));
        pairRows.forEach(r -> texts.add(r.getString("passage")));
        List<float[]> vectors = new ArrayList<>();
        for (int i = 0; i < texts.size(); i += 16) {
          HttpResponse<Buffer> e = gw.post("/v1/embeddings", new JsonObject().put("model", fn)
              .put("input", new JsonArray(texts.subList(i, Math.min(texts.size(), i + 16)))).encode());
          assertEquals(200, e.statusCode(), e.bodyAsString());
          for (Object d : e.bodyAsJsonObject().getJsonArray("data")) {
            JsonArray v = ((JsonObject) d).getJsonArray("embedding");
            float[] x = new float[v.size()];
            for (int j = 0; j < x.length; j++) {
              x[j] = v.getNumber(j).floatValue();
            }
            vectors.add(x);
          }
        }
        int n = pairRows.size();
        float[][] q = vectors.subList(0, n).toArray(new float[0][]);
        float[][] p = vectors.subList(n, 2 * n).toArray(new float[0][]);
        JsonObject m = run.getJsonObject("metrics");
        assertEquals("recall_at_k", run.getString("primary_metric"));
        assertEquals(RetrievalMetrics.recallAtK(q, p, 5), run.getDouble("primary_value"), 1e-9, fn + " " + m.encode());
        assertEquals(RetrievalMetrics.recallAtK(q, p, 1), m.getDouble("recall_at_1"), 1e-9, fn + " " + m.encode());
        assertEquals(RetrievalMetrics.recallAtK(q, p, 10), m.getDouble("recall_at_10"), 1e-9, fn + " " + m.encode());
        assertEquals(n, run.getInteger("rows"));
        assertTrue(run.getDouble("latency_p50_ms") > 0 && run.getLong("cost_micro_usd") > 0, run.encode());
        recall[f] = m.getDouble("recall_at_1");
      }
      assertNotEquals(recall[0], recall[1], "mean and cls pooling rank the passages differently");

      // Text: greedy completions through /v1/completions give the same exact matches and instruction checks.
      List<JsonObject> wordRows = rows(nextWord);
      List<JsonObject> instructionRows = rows(instructions);
      List<List<String>> outputs = new ArrayList<>();
      for (String fn : List.of("tiny-gpt", "tiny-gpt-terse")) {
        JsonObject em = run(gw, fn, nextWordId, "done");
        int matches = 0;
        for (JsonObject r : wordRows) {
          String out = complete(gw, fn, r.getString("prompt"), r.getInteger("max_tokens"));
          matches += TextMetrics.exactMatch(out, r.getString("reference"), false) ? 1 : 0;
        }
        assertEquals("exact_match", em.getString("primary_metric"));
        assertEquals(matches, em.getJsonObject("metrics").getInteger("exact_matches"), fn + " " + em.encode());
        assertEquals((double) matches / wordRows.size(), em.getDouble("primary_value"), 1e-9);
        assertTrue(matches > 0, fn + " predicts some next words of its own corpus: " + em.encode());

        JsonObject pf = run(gw, fn, instructionsId, "done");
        List<String> answers = new ArrayList<>();
        List<List<JsonObject>> checks = new ArrayList<>();
        for (JsonObject r : instructionRows) {
          answers.add(complete(gw, fn, r.getString("prompt"), null));
          List<JsonObject> list = new ArrayList<>();
          r.getJsonArray("instructions").forEach(o -> list.add((JsonObject) o));
          checks.add(list);
        }
        TextMetrics.PromptFollowing expected = TextMetrics.promptFollowing(answers, checks);
        assertEquals("prompt_level", pf.getString("primary_metric"));
        assertEquals(expected.promptLevel(), pf.getDouble("primary_value"), 1e-9, fn + " " + pf.encode());
        assertEquals(expected.instructionLevel(), pf.getJsonObject("metrics").getDouble("instruction_level"), 1e-9);
        assertEquals(answers.get(0), pf.getJsonObject("metrics").getJsonArray("samples").getJsonObject(0).getString("output"));
        assertTrue(pf.getLong("cost_micro_usd") > 0 && pf.getDouble("latency_p95_ms") >= pf.getDouble("latency_p50_ms"));
        outputs.add(answers);
      }
      assertNotEquals(outputs.get(0), outputs.get(1), "the terse variant's generation config changes what it answers");

      // Multiple choice: the worker's log-likelihoods (SCORE frames) give the same acc / acc_norm as this
      // process computes with the same model files.
      JsonObject mcRun = run(gw, "tiny-gpt", mc.bodyAsJsonObject().getString("id"), "done");
      List<TextMetrics.Choice> questions = new ArrayList<>();
      try (ai.onnxruntime.OrtSession.SessionOptions options = new ai.onnxruntime.OrtSession.SessionOptions();
          TextModel model = TextModel.load(ai.onnxruntime.OrtEnvironment.getEnvironment(), MODELS.resolve("tiny-gpt"), options)) {
        for (JsonObject r : rows(choice)) {
          List<String> continuations = r.getJsonArray("choices").stream().map(String.class::cast).toList();
          double[] ll = new double[continuations.size()];
          for (int i = 0; i < ll.length; i++) {
            ll[i] = LogLikelihood.score(model, r.getString("prompt"), continuations.get(i)).logLikelihood();
          }
          questions.add(new TextMetrics.Choice(continuations, ll, r.getInteger("gold")));
        }
      }
      TextMetrics.MultipleChoice expectedMc = TextMetrics.multipleChoice(questions);
      assertEquals("acc", mcRun.getString("primary_metric"));
      assertEquals(expectedMc.acc(), mcRun.getDouble("primary_value"), 1e-9, mcRun.encode());
      assertEquals(expectedMc.accNorm(), mcRun.getJsonObject("metrics").getDouble("acc_norm"), 1e-9, mcRun.encode());
      assertTrue(expectedMc.acc() > 0.25, "better than chance on its own corpus: " + mcRun.encode());

      for (String category : List.of("embedding", "text")) {
        JsonArray board = gw.get("/api/leaderboard?category=" + category).bodyAsJsonObject().getJsonArray("rows");
        assertEquals(2, board.size(), board.encode());
        board.forEach(r -> assertNotNull(((JsonObject) r).getJsonObject("parts").getJsonObject("metric"), board.encode()));
      }
      // Two text datasets with different primary metrics: the board shows their mean and says so.
      JsonObject textMetric = gw.get("/api/leaderboard?category=text").bodyAsJsonObject().getJsonArray("rows")
          .getJsonObject(0).getJsonObject("parts").getJsonObject("metric");
      assertEquals("mean_primary", textMetric.getString("name"), textMetric.encode());
      assertEquals(2, textMetric.getInteger("datasets"));
    }
  }

  /** Uploads a text function: spec.json and whatever bundle files {@code dir} has, the rest from {@code base}. */
  private static JsonObject deploy(TestGateway gw, Path dir, Path base) throws Exception {
    JsonObject spec = new JsonObject(Files.readString(dir.resolve("spec.json")));
    MultipartForm form = MultipartForm.create().attribute("spec", spec.encode());
    for (String part : List.of("model", "tokenizer", "tokenizer_config", "generation_config")) {
      String file = part.equals("model") ? "model.onnx" : part + ".json";
      Path f = Files.exists(dir.resolve(file)) ? dir.resolve(file) : base.resolve(file);
      if (Files.exists(f)) {
        form.binaryFileUpload(part, file, f.toString(), "application/octet-stream");
      }
    }
    HttpResponse<Buffer> resp = gw.client.post(gw.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    assertEquals(202, resp.statusCode(), resp.bodyAsString());
    String path = "/api/functions/" + spec.getString("name") + "/versions/" + resp.bodyAsJsonObject().getInteger("version");
    return poll(path, () -> gw.get(path).bodyAsJsonObject(), s -> !"verifying".equals(s.getString("state")));
  }

  private static String upload(TestGateway gw, String name, String category, String content) throws Exception {
    HttpResponse<Buffer> r = gw.post("/api/datasets", new JsonObject().put("name", name).put("category", category)
        .put("format", "jsonl").put("content", content).encode());
    assertEquals(201, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject().getString("id");
  }

  /** The function's run on the dataset once it is in {@code state}. */
  private static JsonObject run(TestGateway gw, String fn, String datasetId, String state) throws Exception {
    return poll(fn + " on " + datasetId, () -> gw.get("/api/benchmarks?function=" + fn).bodyAsJsonObject()
            .getJsonArray("runs").stream().map(o -> (JsonObject) o)
            .filter(r -> datasetId.equals(r.getString("dataset_id")) && !"running".equals(r.getString("state")))
            .findFirst().orElse(null),
        r -> r != null && (r.getString("state").equals(state) || fail(r)));
  }

  private static boolean fail(JsonObject run) {
    throw new AssertionError("unexpected run: " + run.encode());
  }

  private static String complete(TestGateway gw, String fn, String prompt, Integer maxTokens) throws Exception {
    JsonObject body = new JsonObject().put("model", fn).put("prompt", prompt).put("temperature", 0);
    if (maxTokens != null) {
      body.put("max_tokens", maxTokens);
    }
    HttpResponse<Buffer> r = gw.post("/v1/completions", body.encode());
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getString("text");
  }

  private static List<JsonObject> rows(String jsonl) {
    return jsonl.lines().filter(l -> !l.isBlank()).map(JsonObject::new).toList();
  }

}
