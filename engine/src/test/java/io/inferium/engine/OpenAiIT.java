package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The OpenAI-compatible API against a real gateway and real workers running the repo's tiny GPT and
 * embedding models, deployed through the normal upload path: completions and chat, JSON and
 * Server-Sent Events, seeds, continuous batching seen from outside, errors, disconnects, billing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.extension.ExtendWith(SharedTextGateway.class)
class OpenAiIT {

  static final Path MODELS = Path.of(System.getProperty("inferium.text.models", "../functions/src/main/resources/models"));

  private TestGateway gw;

  @BeforeAll
  void start(TestGateway shared) {
    gw = shared; // shared with OpenApiIT, closed at the end of the run (SharedTextGateway)
  }

  /** Uploads a text function from the repo's model directory; {@code overrides} change its spec. */
  static JsonObject deployText(TestGateway gw, String dir, JsonObject overrides) throws Exception {
    Path d = MODELS.resolve(dir);
    JsonObject spec = new JsonObject(java.nio.file.Files.readString(d.resolve("spec.json"))).mergeIn(overrides);
    MultipartForm form = MultipartForm.create().attribute("spec", spec.encode())
        .binaryFileUpload("model", "model.onnx", d.resolve("model.onnx").toString(), "application/octet-stream")
        .binaryFileUpload("tokenizer", "tokenizer.json", d.resolve("tokenizer.json").toString(), "application/json");
    for (String optional : List.of("tokenizer_config", "generation_config")) {
      Path f = d.resolve(optional + ".json");
      if (java.nio.file.Files.exists(f)) {
        form.binaryFileUpload(optional, optional + ".json", f.toString(), "application/json");
      }
    }
    HttpResponse<Buffer> resp = gw.client.post(gw.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    assertEquals(202, resp.statusCode(), resp.bodyAsString());
    String path = "/api/functions/" + spec.getString("name") + "/versions/" + resp.bodyAsJsonObject().getInteger("version");
    return Eventually.value(path + " to leave verifying", Duration.ofSeconds(90), () -> gw.get(path).bodyAsJsonObject(),
        now -> !"verifying".equals(now.getString("state")));
  }

  private HttpResponse<Buffer> post(String path, JsonObject body) throws Exception {
    return gw.post(path, body.encode());
  }

  private static JsonObject completion(String prompt, int maxTokens) {
    return new JsonObject().put("model", "tiny-gpt").put("prompt", prompt).put("max_tokens", maxTokens).put("temperature", 0);
  }

  /** The {@code data:} payloads of an SSE body, in order. */
  static List<String> events(String body) {
    List<String> out = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      if (block.startsWith("data: ")) {
        out.add(block.substring("data: ".length()));
      } else if (!block.isBlank()) {
        throw new AssertionError("not an SSE data event: " + block);
      }
    }
    return out;
  }

  private static void assertOpenAiError(HttpResponse<Buffer> resp, int status, String type, String param, String fragment) {
    assertEquals(status, resp.statusCode(), resp.bodyAsString());
    JsonObject error = resp.bodyAsJsonObject().getJsonObject("error");
    assertEquals(type, error.getString("type"), error.encode());
    if (param != null) {
      assertEquals(param, error.getString("param"), error.encode());
    }
    assertTrue(error.getString("message").contains(fragment), error.encode());
  }

  @Test
  void modelsListsTextFunctionsOnly() throws Exception {
    JsonObject list = gw.get("/v1/models").bodyAsJsonObject();
    assertEquals("list", list.getString("object"));
    List<String> ids = list.getJsonArray("data").stream().map(o -> ((JsonObject) o).getString("id")).toList();
    assertTrue(ids.containsAll(List.of("tiny-gpt", "tiny-embed", "narrow")), ids.toString());
    assertFalse(ids.contains("adder"), ids.toString());
    assertEquals("model", gw.get("/v1/models/tiny-gpt").bodyAsJsonObject().getString("object"));
  }

  @Test
  void greedyCompletionStreamsTheSameTextItAnswersWhole() throws Exception {
    HttpResponse<Buffer> whole = post("/v1/completions", completion("The license", 12));
    assertEquals(200, whole.statusCode(), whole.bodyAsString());
    JsonObject body = whole.bodyAsJsonObject();
    assertEquals("text_completion", body.getString("object"));
    JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
    JsonObject usage = body.getJsonObject("usage");
    assertTrue(usage.getInteger("prompt_tokens") > 0);
    assertEquals(usage.getInteger("prompt_tokens") + usage.getInteger("completion_tokens"), usage.getInteger("total_tokens"));
    if ("length".equals(choice.getString("finish_reason"))) {
      assertEquals(12, usage.getInteger("completion_tokens"));
    } else {
      assertEquals("stop", choice.getString("finish_reason"));
    }

    HttpResponse<Buffer> streamed = post("/v1/completions", completion("The license", 12).put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true)));
    assertEquals(200, streamed.statusCode());
    assertTrue(streamed.getHeader("Content-Type").startsWith("text/event-stream"));
    List<String> events = events(streamed.bodyAsString());
    assertEquals("[DONE]", events.get(events.size() - 1));
    // Billed, and its completion event was durable in the log before [DONE] left: it is there now, unpolled.
    assertEquals("true", whole.getHeader("X-Inferium-Billed"));
    assertFalse(streamed.bodyAsString().contains("inferium-billed false"));
    String streamId = new JsonObject(events.get(0)).getString("id");
    try (var files = java.nio.file.Files.walk(gw.dataDir.resolve("events"))) {
      assertTrue(files.filter(f -> f.toString().contains("inferium.completions") && f.toString().endsWith(".log"))
          .anyMatch(f -> {
            try {
              return java.nio.file.Files.readString(f).contains(streamId);
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }), "the completion event of " + streamId + " in the event log when [DONE] arrived");
    }
    StringBuilder text = new StringBuilder();
    String finish = null;
    JsonObject streamedUsage = null;
    for (String e : events.subList(0, events.size() - 1)) {
      JsonObject chunk = new JsonObject(e);
      assertEquals(body.getString("model"), chunk.getString("model"));
      JsonArray choices = chunk.getJsonArray("choices");
      if (choices.isEmpty()) {
        streamedUsage = chunk.getJsonObject("usage");
        continue;
      }
      assertNull(chunk.getValue("usage"), "usage is null on every chunk but the last");
      text.append(choices.getJsonObject(0).getString("text"));
      if (choices.getJsonObject(0).getString("finish_reason") != null) {
        finish = choices.getJsonObject(0).getString("finish_reason");
      }
    }
    assertEquals(choice.getString("text"), text.toString());
    assertEquals(choice.getString("finish_reason"), finish);
    assertEquals(usage, streamedUsage);
  }

  @Test
  void chatUsesTheTemplateAndStreamsRoleThenContent() throws Exception {
    JsonObject request = new JsonObject().put("model", "tiny-gpt").put("max_completion_tokens", 6).put("temperature", 0)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "system").put("content", "Be brief."))
            .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                .add(new JsonObject().put("type", "text").put("text", "Hello there")))));
    HttpResponse<Buffer> whole = post("/v1/chat/completions", request);
    assertEquals(200, whole.statusCode(), whole.bodyAsString());
    JsonObject body = whole.bodyAsJsonObject();
    assertEquals("chat.completion", body.getString("object"));
    JsonObject message = body.getJsonArray("choices").getJsonObject(0).getJsonObject("message");
    assertEquals("assistant", message.getString("role"));
    // The ChatML template wraps both messages: far more prompt tokens than the words alone.
    assertTrue(body.getJsonObject("usage").getInteger("prompt_tokens") > 8, body.encode());

    List<String> events = events(post("/v1/chat/completions", request.copy().put("stream", true)).bodyAsString());
    JsonObject first = new JsonObject(events.get(0));
    assertEquals("chat.completion.chunk", first.getString("object"));
    assertEquals("assistant", first.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("role"));
    StringBuilder text = new StringBuilder();
    for (String e : events.subList(1, events.size() - 1)) {
      JsonObject delta = new JsonObject(e).getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
      text.append(delta.getString("content", ""));
    }
    assertEquals(message.getString("content"), text.toString());
    assertEquals("[DONE]", events.get(events.size() - 1));
  }

  @Test
  void seedsReproduceAndConcurrentStreamsMatchSoloRuns() throws Exception {
    List<JsonObject> requests = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      requests.add(new JsonObject().put("model", "tiny-gpt").put("prompt", "Permission is granted " + i)
          .put("max_tokens", 16).put("temperature", 0.9).put("seed", 1000 + i));
    }
    List<String> solo = new ArrayList<>();
    for (JsonObject r : requests) {
      solo.add(text(post("/v1/completions", r)));
    }
    assertEquals(solo.get(0), text(post("/v1/completions", requests.get(0))), "same seed, same text");
    assertNotEquals(solo.get(0), text(post("/v1/completions", requests.get(0).copy().put("seed", 7))));
    // All eight at once: they share decode steps on the workers and must not disturb each other.
    List<Future<HttpResponse<Buffer>>> together = requests.stream().map(r -> gw.client.post(gw.port(), "127.0.0.1",
        "/v1/completions").bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendJsonObject(r)).toList();
    for (int i = 0; i < requests.size(); i++) {
      assertEquals(solo.get(i), text(together.get(i).await(60, TimeUnit.SECONDS)), "request " + i);
    }
  }

  private static String text(HttpResponse<Buffer> resp) {
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    return resp.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getString("text");
  }

  @Test
  void stopStringsAndNChoices() throws Exception {
    JsonObject request = completion("The", 24);
    String free = text(post("/v1/completions", request));
    assertTrue(free.length() > 4, free);
    String stop = free.substring(2, 4);
    JsonObject stopped = post("/v1/completions", request.copy().put("stop", new JsonArray().add(stop))).bodyAsJsonObject();
    JsonObject choice = stopped.getJsonArray("choices").getJsonObject(0);
    assertEquals("stop", choice.getString("finish_reason"));
    assertEquals(free.substring(0, free.indexOf(stop)), choice.getString("text"));

    JsonObject three = post("/v1/completions", request.copy().put("n", 3).put("temperature", 1.0).put("seed", 3)
        .put("max_tokens", 5)).bodyAsJsonObject();
    JsonArray choices = three.getJsonArray("choices");
    assertEquals(3, choices.size());
    assertEquals(List.of(0, 1, 2), choices.stream().map(c -> ((JsonObject) c).getInteger("index")).toList());
  }

  @Test
  void errorsComeInOpenAisShape() throws Exception {
    assertOpenAiError(post("/v1/completions", completion("x", 4).put("model", "nope")), 404, "invalid_request_error",
        null, "'nope' does not exist");
    assertOpenAiError(post("/v1/completions", completion("x", 4).put("temperature", 3)), 400, "invalid_request_error",
        "temperature", "temperature");
    assertOpenAiError(post("/v1/completions", new JsonObject().put("model", "tiny-gpt")), 400, "invalid_request_error",
        "prompt", "prompt");
    assertOpenAiError(post("/v1/chat/completions", new JsonObject().put("model", "adder")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))), 404,
        "invalid_request_error", null, "not a ready text-generation or embedding function");
    assertOpenAiError(post("/v1/embeddings", new JsonObject().put("model", "tiny-gpt").put("input", "hi")), 400,
        "invalid_request_error", "model", "serves embedding functions");
    assertOpenAiError(post("/v1/chat/completions", new JsonObject().put("model", "tiny-gpt")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "wizard").put("content", "hi")))), 400,
        "invalid_request_error", "messages", "role");
    assertOpenAiError(post("/v1/chat/completions", new JsonObject().put("model", "tiny-gpt")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))
        .put("response_format", new JsonObject().put("type", "json_object"))), 400, "invalid_request_error",
        "response_format", "only {\"type\": \"text\"} is supported");
    HttpResponse<Buffer> text = post("/v1/completions", completion("x", 2).put("response_format",
        new JsonObject().put("type", "text")));
    assertEquals(200, text.statusCode(), "plain text is what it answers anyway: " + text.bodyAsString());
    HttpResponse<Buffer> noKey = gw.client.get(gw.port(), "127.0.0.1", "/v1/models").send().await(10, TimeUnit.SECONDS);
    assertOpenAiError(noKey, 401, "authentication_error", null, "API key");
  }

  @Test
  void embeddingsAsFloatsAndBase64() throws Exception {
    JsonObject request = new JsonObject().put("model", "tiny-embed")
        .put("input", new JsonArray().add("a short sentence").add("another, somewhat longer sentence about licenses"));
    JsonObject floats = post("/v1/embeddings", request).bodyAsJsonObject();
    JsonArray data = floats.getJsonArray("data");
    assertEquals(2, data.size());
    JsonArray v0 = data.getJsonObject(0).getJsonArray("embedding");
    double norm = 0;
    for (Object x : v0) {
      norm += ((Number) x).doubleValue() * ((Number) x).doubleValue();
    }
    assertEquals(1.0, Math.sqrt(norm), 1e-4);
    assertTrue(floats.getJsonObject("usage").getInteger("prompt_tokens") > 4);

    JsonObject b64 = post("/v1/embeddings", request.copy().put("encoding_format", "base64")).bodyAsJsonObject();
    ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(b64.getJsonArray("data").getJsonObject(0)
        .getString("embedding"))).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(v0.size() * 4, bytes.remaining());
    for (int i = 0; i < v0.size(); i++) {
      assertEquals(((Number) v0.getValue(i)).floatValue(), bytes.getFloat(), 0f);
    }
    assertOpenAiError(post("/v1/embeddings", request.copy().put("input", new JsonArray().add(1).add(2))), 400,
        "invalid_request_error", "input", "token arrays are not supported");
  }

  @Test
  void aFullQueueAnswers429() throws Exception {
    // narrow: one running sequence per worker, one waiting: with 2 workers, a burst of 8 long generations overflows.
    List<Future<HttpResponse<Buffer>>> burst = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      burst.add(gw.client.post(gw.port(), "127.0.0.1", "/v1/completions").bearerTokenAuthentication(TestGateway.ADMIN_KEY)
          .sendJsonObject(new JsonObject().put("model", "narrow").put("prompt", "Burst " + i).put("max_tokens", 64)
              .put("temperature", 0)));
    }
    int ok = 0;
    int limited = 0;
    for (Future<HttpResponse<Buffer>> f : burst) {
      HttpResponse<Buffer> r = f.await(60, TimeUnit.SECONDS);
      if (r.statusCode() == 200) {
        ok++;
      } else {
        assertOpenAiError(r, 429, "rate_limit_error", null, "already waiting");
        assertEquals("1", r.getHeader("Retry-After"));
        limited++;
      }
    }
    // At least one running and one waiting are served (more when both workers are up: another test kills one).
    assertTrue(ok >= 2 && limited >= 1, ok + " answered, " + limited + " limited");
  }

  @Test
  void aClientThatDisconnectsStopsItsGeneration() throws Exception {
    HttpClient http = gw.vertx.createHttpClient();
    AtomicInteger chunks = new AtomicInteger();
    io.vertx.core.Promise<Void> some = io.vertx.core.Promise.promise();
    JsonObject body = new JsonObject().put("model", "tiny-gpt").put("prompt", "Long story").put("max_tokens", 200)
        .put("temperature", 0.8).put("seed", 1).put("stream", true);
    HttpClientResponse resp = http.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(gw.port())
            .setHost("127.0.0.1").setURI("/v1/completions").putHeader("Authorization", "Bearer " + TestGateway.ADMIN_KEY)
            .putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(body.encode())).map(r -> {
          r.handler(b -> { // set as the response arrives, so no chunk goes before it
            if (chunks.incrementAndGet() == 3) {
              some.tryComplete();
            }
          });
          return r;
        }).await(30, TimeUnit.SECONDS);
    assertEquals(200, resp.statusCode());
    some.future().await(30, TimeUnit.SECONDS);
    resp.request().connection().close().await(10, TimeUnit.SECONDS);
    double gone = Eventually.value("the gateway to see the client go", Duration.ofSeconds(10),
        () -> gw.metrics.registry().find("inferium.rejections").tag("function", "tiny-gpt").tag("reason", "client_gone")
            .counters().stream().mapToDouble(c -> c.count()).sum(), n -> n >= 1);
    assertEquals(1.0, gone, "the gateway saw the client go once");
    Eventually.until("no generation left running", Duration.ofSeconds(10), () -> running("tiny-gpt") == 0);
    http.close();
  }

  @Test
  void aWorkerLostMidStreamEndsTheStreamWithAnErrorEvent() throws Exception {
    HttpClient http = gw.vertx.createHttpClient();
    JsonObject body = new JsonObject().put("model", "tiny-gpt").put("prompt", "Doomed").put("max_tokens", 250)
        .put("temperature", 0.8).put("seed", 5).put("stream", true);
    StringBuilder received = new StringBuilder();
    io.vertx.core.Promise<Void> started = io.vertx.core.Promise.promise();
    io.vertx.core.Promise<String> ended = io.vertx.core.Promise.promise();
    // The handlers are set on the event loop as the response arrives: set later, from this thread, the first
    // chunks (on a loaded machine, the whole stream) could be delivered before them and lost.
    HttpClientResponse resp = http.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(gw.port())
            .setHost("127.0.0.1").setURI("/v1/completions").putHeader("Authorization", "Bearer " + TestGateway.ADMIN_KEY)
            .putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(body.encode())).map(r -> {
          r.handler(b -> {
            synchronized (received) {
              received.append(b.toString());
              if (received.toString().split("\n\n").length >= 3) {
                started.tryComplete();
              }
            }
          });
          r.endHandler(v -> {
            synchronized (received) {
              ended.tryComplete(received.toString());
            }
          });
          return r;
        }).await(30, TimeUnit.SECONDS);
    assertEquals(200, resp.statusCode());
    started.future().await(30, TimeUnit.SECONDS);
    assertTrue(resp.getHeader("X-Inferium-Request-Id") != null, "the stream names its request");
    // Kill every worker running tiny-gpt generations: the stream has begun, so it cannot be re-run.
    for (var link : gw.gateway.supervisor().workers()) {
      if (link.inUse(gw.gateway.store().latestReady("tiny-gpt").await(10, TimeUnit.SECONDS).orElseThrow().modelSha256()) > 0) {
        ProcessHandle.of(link.pid()).orElseThrow().destroyForcibly();
      }
    }
    List<String> events = events(ended.future().await(30, TimeUnit.SECONDS));
    JsonObject last = new JsonObject(events.get(events.size() - 1));
    JsonObject error = last.getJsonObject("error");
    assertTrue(error != null, "the last event is an error: " + last.encode());
    assertEquals("server_error", error.getString("type"));
    assertTrue(error.getString("message").contains("lost"), error.encode());
    assertFalse(events.contains("[DONE]"));
    http.close();
  }

  private double running(String function) {
    var g = gw.metrics.registry().find("inferium.generation.running").tag("function", function).gauge();
    return g == null ? 0 : g.value();
  }

  @Test
  void textUsageIsBilledPerToken() throws Exception {
    HttpResponse<Buffer> resp = post("/v1/completions", completion("Billing", 5));
    JsonObject usage = resp.bodyAsJsonObject().getJsonObject("usage");
    long tokens = usage.getInteger("total_tokens");
    // $0.003 per 1,000 tokens = 3 micro-dollars per token.
    assertEquals(Long.toString(tokens * 3), resp.getHeader("X-Inferium-Charge-Micro-Usd"));
    // The usage is stored (through the event log) with the tokens as units; usage reads wait for this
    // process's events to be stored.
    JsonObject summary = gw.get("/api/usage?group_by=function").bodyAsJsonObject();
    JsonObject gpt = summary.getJsonArray("groups").stream().map(JsonObject.class::cast)
        .filter(g -> "tiny-gpt".equals(g.getString("function"))).findFirst().orElseThrow(() -> new AssertionError(summary));
    assertEquals(gpt.getLong("units") * 3, gpt.getLong("charge_micro_usd"), "every text charge is 3 µ$ per token");
    String metrics = gw.get("/metrics").bodyAsString();
    assertTrue(metrics.contains("inferium_generation_ttft_seconds_count{function=\"tiny-gpt\"}"), "ttft exported");
    assertTrue(metrics.contains("inferium_tokens_total{function=\"tiny-gpt\",kind=\"completion\"}"), "tokens exported");
    // Workers report their decode steps and tokens in heartbeats.
    Eventually.until("heartbeats reporting decode steps and tokens", Duration.ofSeconds(10),
        () -> gw.metrics.registry().find("inferium.worker.decode.steps").functionCounters().stream()
                .mapToDouble(c -> c.count()).sum() > 0
            && gw.metrics.registry().find("inferium.worker.decode.tokens").functionCounters().stream()
                .mapToDouble(c -> c.count()).sum() > 0);
  }

  /** Runs a command in {@code dir}, returning its stdout; fails the test on a non-zero exit or a timeout. */
  private static String run(Path dir, java.util.Map<String, String> env, String... command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(false);
    pb.environment().putAll(env);
    Path err = java.nio.file.Files.createTempFile("node-", ".err");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    String stdout = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish in 180 s");
    }
    assertEquals(0, p.exitValue(), String.join(" ", command) + " failed: " + java.nio.file.Files.readString(err));
    return stdout;
  }

  @Test
  void theOfficialOpenAiClientWorksUnchanged() throws Exception {
    Path dir = Path.of("src/test/node").toAbsolutePath();
    if (!java.nio.file.Files.isDirectory(dir.resolve("node_modules/openai"))) {
      run(dir, java.util.Map.of(), "npm", "ci", "--no-audit", "--no-fund");
    }
    String stdout = run(dir, java.util.Map.of("INFERIUM_URL", "http://127.0.0.1:" + gw.port(),
        "INFERIUM_KEY", TestGateway.ADMIN_KEY), "node", "openai-client.mjs");
    JsonObject out = new JsonObject(stdout.strip());
    assertTrue(out.getJsonArray("models").contains("tiny-gpt"), out.encode());

    JsonObject completion = out.getJsonObject("completion");
    assertEquals(text(post("/v1/completions", completion("The license", 8))), completion.getString("text"));
    JsonObject usage = completion.getJsonObject("usage");
    assertEquals(usage.getInteger("prompt_tokens") + usage.getInteger("completion_tokens"), usage.getInteger("total_tokens"));

    JsonObject several = out.getJsonObject("promptArray");
    List<String> texts = several.getJsonArray("choices").stream().map(JsonObject.class::cast)
        .sorted(java.util.Comparator.comparingInt(c -> c.getInteger("index"))).map(c -> c.getString("text")).toList();
    String license = text(post("/v1/completions", completion("The license", 6)));
    String hello = text(post("/v1/completions", completion("Hello there", 6)));
    assertEquals(List.of(license, license, hello, hello), texts, "index = prompt * n + sample: " + several.encode());

    JsonObject chat = out.getJsonObject("chat");
    JsonObject stream = out.getJsonObject("stream");
    assertEquals("assistant", chat.getString("role"));
    assertEquals(chat.getString("content"), stream.getString("content"), "streamed chat equals the whole answer");
    assertEquals(chat.getJsonObject("usage"), stream.getJsonObject("usage"));
    assertTrue(List.of("stop", "length").contains(stream.getString("finish_reason")), stream.encode());

    JsonObject emb = out.getJsonObject("embeddings");
    assertEquals(2, emb.getInteger("count"));
    assertTrue(emb.getInteger("dims") > 0);
    assertEquals(1.0, emb.getDouble("norm"), 1e-4);

    JsonObject error = out.getJsonObject("error");
    assertEquals(true, error.getBoolean("thrown"));
    assertEquals("NotFoundError", error.getString("name"));
    assertEquals(404, error.getInteger("status"));
    assertEquals("model_not_found", error.getString("code"));
    JsonObject bad = out.getJsonObject("badParam");
    assertEquals("BadRequestError", bad.getString("name"));
    assertEquals("temperature", bad.getString("param"));
  }

  @Test
  void promptArraysGetOneGenerationEachAndOneAnswerBilledOnce() throws Exception {
    List<String> prompts = List.of("The license", "Hello there", "Inferium");
    List<String> alone = new ArrayList<>();
    int promptTokens = 0;
    for (String p : prompts) {
      HttpResponse<Buffer> one = post("/v1/completions", completion(p, 6));
      alone.add(text(one));
      promptTokens += one.bodyAsJsonObject().getJsonObject("usage").getInteger("prompt_tokens");
    }
    JsonObject request = completion("x", 6).put("prompt", new JsonArray(prompts));
    HttpResponse<Buffer> all = post("/v1/completions", request);
    assertEquals(200, all.statusCode(), all.bodyAsString());
    JsonArray choices = all.bodyAsJsonObject().getJsonArray("choices");
    assertEquals(List.of(0, 1, 2), choices.stream().map(c -> ((JsonObject) c).getInteger("index")).toList());
    assertEquals(alone, choices.stream().map(c -> ((JsonObject) c).getString("text")).toList(), "each prompt answered as alone");
    JsonObject usage = all.bodyAsJsonObject().getJsonObject("usage");
    assertEquals(promptTokens, usage.getInteger("prompt_tokens"), "usage summed over the prompts");
    long tokens = usage.getInteger("total_tokens");
    assertEquals(Long.toString(tokens * 3), all.getHeader("X-Inferium-Charge-Micro-Usd"), "billed once, for all of it");

    // Streamed: the prompts' chunks interleave, each with its own index, then one [DONE].
    List<String> events = events(post("/v1/completions", request.copy().put("stream", true)).bodyAsString());
    assertEquals("[DONE]", events.get(events.size() - 1));
    java.util.Map<Integer, StringBuilder> streamed = new java.util.TreeMap<>();
    for (String e : events.subList(0, events.size() - 1)) {
      for (Object c : new JsonObject(e).getJsonArray("choices")) {
        JsonObject choice = (JsonObject) c;
        streamed.computeIfAbsent(choice.getInteger("index"), i -> new StringBuilder()).append(choice.getString("text"));
      }
    }
    assertEquals(alone, streamed.values().stream().map(StringBuilder::toString).toList());

    assertOpenAiError(post("/v1/completions", completion("x", 4).put("prompt", new JsonArray().add(1).add(2))), 400,
        "invalid_request_error", "prompt", "token-id arrays are not supported");
    assertOpenAiError(post("/v1/completions", completion("x", 4).put("prompt", new JsonArray().add("a").add(3))), 400,
        "invalid_request_error", "prompt", "'prompt[1]': expected a string");
    assertOpenAiError(post("/v1/completions", completion("x", 4).put("prompt", new JsonArray(java.util.Collections.nCopies(9, "a")))),
        400, "invalid_request_error", "prompt", "at most 8 prompts");
    assertOpenAiError(post("/v1/completions", completion("x", 4).put("prompt", new JsonArray(java.util.Collections.nCopies(3, "a")))
        .put("n", 6)), 400, "invalid_request_error", "n", "at most 16 per request");
    assertOpenAiError(post("/v1/completions", completion("x", 4).put("prompt", new JsonArray())), 400,
        "invalid_request_error", "prompt", "an empty array");
  }
}
