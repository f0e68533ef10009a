package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.gateway.NodeCode;
import io.inferium.engine.gateway.NodePortSettings;
import io.inferium.functions.Bundle;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Text functions on a real remote node ({@code inferium-node node}, its own process and data dir, TLS to the node
 * port): the bundle travels by content hash (manifest, model, tokenizer, configuration each fetched by sha256,
 * checked and cached), and a seeded streamed chat and an embedding answered by the remote node equal the local
 * worker's answers to the same requests, computed first while the node was not yet staked. Then, with a lying node
 * ({@code --test-fault=lie-tokens}) of a third operator: seeded {@code redundant(3)}, unseeded {@code redundant(3)} judged
 * by a similarity embedder, and {@code audit(1)}, each keeping or catching the liar (docs/TEXT_MODELS.md,
 * *Verification*). The methods run in order and share the gateway and the node processes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class RemoteTextNodeIT {

  private TestGateway gw;
  private final List<Process> nodes = new java.util.ArrayList<>();
  /** Left by the first test for the verification tests after it: the honest remote node and the lying one. */
  private String honest;
  private String liar;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(1, b -> b.nodePort(NodePortSettings.on(0).withHost("127.0.0.1")));
  }

  @AfterAll
  void stop() throws Exception {
    for (Process node : nodes) {
      node.destroy();
      if (!node.waitFor(10, TimeUnit.SECONDS)) {
        node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    if (gw != null) {
      gw.close();
    }
  }

  private static JsonObject chat() {
    return chat("tiny-gpt");
  }

  private static JsonObject chat(String model) {
    return new JsonObject().put("model", model).put("max_completion_tokens", 12).put("temperature", 0.9)
        .put("seed", 42).put("stream", true)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Tell me about licenses")));
  }

  private static JsonObject embedding() {
    return new JsonObject().put("model", "tiny-embed").put("input", new JsonArray().add("a short sentence").add("another one"));
  }

  /** The streamed chat's text (a stream's head is out before a worker is picked, so it names none). */
  private String[] streamedChat() throws Exception {
    return streamedChat("tiny-gpt");
  }

  private String[] streamedChat(String model) throws Exception {
    HttpResponse<Buffer> resp = gw.post("/v1/chat/completions", chat(model).encode());
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    StringBuilder text = new StringBuilder();
    List<String> events = OpenAiIT.events(resp.bodyAsString());
    assertEquals("[DONE]", events.get(events.size() - 1), resp.bodyAsString());
    for (String e : events.subList(0, events.size() - 1)) {
      JsonArray choices = new JsonObject(e).getJsonArray("choices");
      if (choices != null && !choices.isEmpty() && choices.getJsonObject(0).getJsonObject("delta") != null) {
        text.append(choices.getJsonObject(0).getJsonObject("delta").getString("content", ""));
      }
    }
    return new String[] {text.toString(), resp.getHeader("X-Inferium-Worker")};
  }

  /** The same chat, not streamed: its answer names the worker. */
  private HttpResponse<Buffer> whole() throws Exception {
    HttpResponse<Buffer> resp = gw.post("/v1/chat/completions", chat().put("stream", false).encode());
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    return resp;
  }

  private HttpResponse<Buffer> embed() throws Exception {
    return embed("tiny-embed");
  }

  private HttpResponse<Buffer> embed(String model) throws Exception {
    HttpResponse<Buffer> resp = gw.post("/v1/embeddings", embedding().put("model", model).encode());
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    return resp;
  }

  /** Starts {@code inferium-node node} (its own process and data dir, a new operator), staked; returns its id. */
  private String startNode(Path dir, String operator, String fault) throws Exception {
    JsonObject key = gw.post("/api/operator-keys", new JsonObject().put("name", operator).encode()).bodyAsJsonObject();
    Path keyFile = dir.resolve("operator.key");
    Files.writeString(keyFile, key.getString("secret") + "\n", StandardCharsets.UTF_8);
    List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xss8m", "-Xmx384m", "-cp", NodeCode.resolve().classPath(), "io.inferium.node.NodeMain", "node",
        "--gateway", "127.0.0.1:" + gw.gateway.remoteNodes().port(), "--operator-key", keyFile.toString(),
        "--data-dir", dir.toString(), "--gateway-fingerprint", gw.gateway.remoteNodes().fingerprint(),
        "--heartbeat-ms", "500", "--label", operator));
    if (fault != null) {
      cmd.add("--test-fault=" + fault);
    }
    nodes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile()).start());
    return Eventually.value("node " + operator + " connected", Duration.ofSeconds(90), () -> {
      Path f = dir.resolve("node.key");
      return Files.exists(f) ? NodeKeys.loadOrCreate(f).nodeId() : null;
    }, id -> id != null && gw.gateway.remoteNodes().node(id).isPresent());
  }

  private JsonObject nodeView(String nodeId) throws Exception {
    return gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> nodeId.equals(n.getString("node_id"))).findFirst().orElse(new JsonObject());
  }

  @Test
  @org.junit.jupiter.api.Order(1)
  void aRemoteNodeFetchesTextBundlesByHashAndAnswersAsTheLocalWorkerDoes() throws Exception {
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject()).getString("state"));
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-embed", new JsonObject()).getString("state"));
    String localWorker = gw.gateway.supervisor().workers().get(0).workerId();
    String[] localChat = streamedChat();
    assertEquals(localWorker, whole().getHeader("X-Inferium-Worker"));
    assertFalse(localChat[0].isEmpty(), "the local worker generated text");
    HttpResponse<Buffer> localEmbed = embed();
    assertEquals(localWorker, localEmbed.getHeader("X-Inferium-Worker"));

    Path dir = Files.createTempDirectory("inferium-text-node-it-");
    String nodeId = startNode(dir, "op-text", null);
    honest = nodeId;

    // Only the remote node is left to serve: the local worker goes, then the node is staked.
    assertTrue(gw.gateway.supervisor().retireWorker("test: only the remote node serves"));
    Eventually.value("the local worker gone", Duration.ofSeconds(30), () -> gw.gateway.supervisor().workers().size(),
        n -> n == 0);
    assertEquals(200, gw.post("/api/nodes/" + nodeId + "/stake",
        new JsonObject().put("amount_micro_usd", NodePortSettings.DEFAULT_MIN_STAKE_MICRO_USD).encode()).statusCode());

    String[] remoteChat = streamedChat();
    assertEquals(nodeId, whole().getHeader("X-Inferium-Worker"), "the remote node answers (no local worker is left)");
    assertEquals(localChat[0], remoteChat[0], "same seed, same bundle: the same text as the local worker's");
    HttpResponse<Buffer> remoteEmbed = embed();
    assertEquals(nodeId, remoteEmbed.getHeader("X-Inferium-Worker"));
    JsonArray local = localEmbed.bodyAsJsonObject().getJsonArray("data");
    JsonArray remote = remoteEmbed.bodyAsJsonObject().getJsonArray("data");
    assertEquals(local.size(), remote.size());
    for (int i = 0; i < local.size(); i++) {
      assertEquals(local.getJsonObject(i).getJsonArray("embedding"), remote.getJsonObject(i).getJsonArray("embedding"),
          "embedding " + i + " equals the local worker's");
    }

    // Every file of the bundle is in the node's cache under its own sha256 (and nothing under a gateway path).
    for (String fn : List.of("tiny-gpt", "tiny-embed")) {
      String manifestSha = gw.get("/api/functions/" + fn).bodyAsJsonObject().getJsonObject("model").getString("sha256");
      Path manifest = dir.resolve("blobs").resolve(manifestSha);
      assertTrue(Files.isRegularFile(manifest), fn + "'s manifest cached by hash");
      for (Bundle.Part part : Bundle.read(manifest).files().values()) {
        assertTrue(Files.isRegularFile(dir.resolve("blobs").resolve(part.sha256())), fn + " part " + part.sha256());
      }
      assertTrue(gw.gateway.remoteNodes().node(nodeId).orElseThrow().link().hasLoaded(manifestSha));
    }

    // ---- redundant(3) with a lying remote node: no lied text reaches a client, and the liar is slashed ----
    io.vertx.core.Promise<Object> added = io.vertx.core.Promise.promise();
    gw.vertx.runOnContext(v -> gw.gateway.supervisor().addWorker("test: a local worker again").map(w -> (Object) w)
        .onComplete(added));
    added.future().await(2, TimeUnit.MINUTES);
    liar = startNode(Files.createTempDirectory("inferium-text-liar-it-"), "op-liar", "lie-tokens");
    assertEquals(200, gw.post("/api/nodes/" + liar + "/stake",
        new JsonObject().put("amount_micro_usd", NodePortSettings.DEFAULT_MIN_STAKE_MICRO_USD).encode()).statusCode());
    JsonObject r3 = new JsonObject().put("policy", "redundant").put("k", 3);
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject().put("name", "gpt-r3")
        .put("verification", r3)).getString("state"));
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-embed", new JsonObject().put("name", "embed-r3")
        .put("verification", r3.copy().put("threshold", 0.9999))).getString("state"));
    Eventually.value("a local worker and two staked nodes", Duration.ofSeconds(60),
        () -> gw.gateway.supervisor().workers().size() + (nodeView(liar).getBoolean("eligible", false) ? 1 : 0), n -> n == 2);

    for (int i = 0; i < 2; i++) {
      HttpResponse<Buffer> raw = gw.post("/v1/chat/completions", chat("gpt-r3").encode());
      assertEquals(200, raw.statusCode(), raw.bodyAsString());
      assertFalse(raw.bodyAsString().contains("[lie]"), "a lied token reached the client: " + raw.bodyAsString());
      assertEquals(localChat[0], streamedChat("gpt-r3")[0], "the majority's text, the local worker's");
    }
    HttpResponse<Buffer> whole = gw.post("/v1/chat/completions", chat("gpt-r3").put("stream", false).encode());
    assertEquals(200, whole.statusCode(), whole.bodyAsString());
    assertEquals("verified", whole.getHeader("X-Inferium-Verdict"));
    assertFalse(whole.bodyAsString().contains("[lie]"), whole.bodyAsString());
    // The client had the majority's answer at once; the liar's own runs are judged (and it is slashed) when they end.
    Eventually.value("the liar slashed when outvoted", Duration.ofSeconds(60), () -> nodeView(liar),
        v -> v.getInteger("slashes", 0) >= 1);
    assertEquals(0, nodeView(nodeId).getInteger("slashes"), nodeView(nodeId).encode());
    // Its first slash takes its stake below the minimum: it gets no more work (later runs are 2 honest ones).
    Eventually.value("the liar out of work", Duration.ofSeconds(30), () -> nodeView(liar),
        v -> !v.getBoolean("eligible", true));

    // An unseeded sampled generation cannot be compared token by token: refused before any run.
    HttpResponse<Buffer> unseeded = gw.post("/v1/chat/completions", chat("gpt-r3").put("stream", false)
        .put("seed", (Object) null).encode());
    assertEquals(400, unseeded.statusCode(), unseeded.bodyAsString());
    assertTrue(unseeded.bodyAsString().contains("seed"), unseeded.bodyAsString());

    // Embeddings under redundant(3): cosine in a strict majority (the liar gets no more work: two honest runs agree).
    HttpResponse<Buffer> vectors = embed("embed-r3");
    assertEquals("verified", vectors.getHeader("X-Inferium-Verdict"));
    assertEquals(local.getJsonObject(0).getJsonArray("embedding"),
        vectors.bodyAsJsonObject().getJsonArray("data").getJsonObject(0).getJsonArray("embedding"));
  }

  /** The liar back in service: full reputation and stake enough for several slashes (each doubles). */
  private void rearm(String node) throws Exception {
    assertEquals(200, gw.post("/api/nodes/" + node + "/reinstate", new JsonObject().put("reason", "test: lie again")
        .put("reputation", 1.0).encode()).statusCode());
    assertEquals(200, gw.post("/api/nodes/" + node + "/stake",
        new JsonObject().put("amount_micro_usd", 20 * NodePortSettings.DEFAULT_MIN_STAKE_MICRO_USD).encode()).statusCode());
    Eventually.value(node + " eligible again", Duration.ofSeconds(30), () -> nodeView(node).getBoolean("eligible", false),
        ok -> ok);
  }

  /**
   * The least cosine of two agreeing runs' embeddings for gpt-sem. tiny-gpt sampled hot writes gibberish that
   * tiny-embed cannot tell from a lie (honest samples at temperature 0.9 measured -0.04..0.66 against each other,
   * the liar's text -0.20..0.31 against them; at 0.1 two honest runs still scored 0.32), so the test samples almost
   * greedily (at 0.01 three unseeded runs wrote the same text), still without a seed.
   */
  private static final double SIMILAR = 0.8;

  private JsonObject unseeded(String model) {
    JsonObject chat = chat(model).put("stream", false).put("temperature", 0.01);
    chat.remove("seed");
    return chat;
  }

  private static String content(HttpResponse<Buffer> chat) {
    return chat.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  private JsonArray slashEvents(String node) throws Exception {
    JsonArray all = gw.get("/api/nodes/" + node + "/events").bodyAsJsonObject().getJsonArray("events", new JsonArray());
    JsonArray slashes = new JsonArray();
    all.stream().map(JsonObject.class::cast).filter(e -> "slash".equals(e.getString("kind"))).forEach(slashes::add);
    return slashes;
  }

  @Test
  @org.junit.jupiter.api.Order(2)
  void unseededTextIsComparedByMeaningAndALiarNeverReachesTheClient() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(liar != null, "needs the nodes of the first test");
    // The similarity embedder must be a ready embedding function the tenant may call: 400 naming the field otherwise.
    for (String bad : List.of("tiny-gpt", "no-such-embedder")) {
      JsonObject spec = new JsonObject(Files.readString(OpenAiIT.MODELS.resolve("tiny-gpt").resolve("spec.json")))
          .put("name", "gpt-bad-sim").put("verification", new JsonObject().put("policy", "redundant").put("k", 3)
              .put("similarity", new JsonObject().put("function", bad).put("threshold", 0.8)));
      HttpResponse<Buffer> refused = deployRaw(spec);
      assertEquals(400, refused.statusCode(), refused.bodyAsString());
      assertTrue(refused.bodyAsString().contains("verification.similarity.function"), refused.bodyAsString());
    }
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject().put("name", "gpt-sem")
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3)
            .put("similarity", new JsonObject().put("function", "tiny-embed").put("threshold", SIMILAR)))).getString("state"));
    rearm(liar);
    int before = nodeView(liar).getInteger("slashes");
    Eventually.value("a local worker and two eligible nodes", Duration.ofSeconds(60), () -> gw.gateway.supervisor().workers()
        .size() + (nodeView(liar).getBoolean("eligible", false) ? 1 : 0) + (nodeView(honest).getBoolean("eligible", false) ? 1 : 0),
        n -> n == 3);

    HttpResponse<Buffer> whole = gw.post("/v1/chat/completions", unseeded("gpt-sem").encode());
    assertEquals(200, whole.statusCode(), whole.bodyAsString());
    assertEquals("verified", whole.getHeader("X-Inferium-Verdict"));
    assertFalse(whole.bodyAsString().contains("[lie]"), "a lied token reached the client: " + whole.bodyAsString());
    assertFalse(content(whole).isEmpty());
    HttpResponse<Buffer> stream = gw.post("/v1/chat/completions", unseeded("gpt-sem").put("stream", true).encode());
    assertEquals(200, stream.statusCode(), stream.bodyAsString());
    assertFalse(stream.bodyAsString().contains("[lie]"), "a lied token reached the client: " + stream.bodyAsString());

    // The liar's runs, embedded and compared by cosine, are outvoted once they end: slashed, with the evidence.
    JsonObject slash = Eventually.value("the liar slashed by meaning", Duration.ofSeconds(60), () -> slashEvents(liar).stream()
        .map(JsonObject.class::cast).filter(e -> e.getString("task_id", "").startsWith("generate:gpt-sem@")).findFirst()
        .orElse(null), java.util.Objects::nonNull);
    assertTrue(nodeView(liar).getInteger("slashes") > before);
    JsonObject evidence = slash.getJsonObject("evidence");
    System.out.println("unseeded redundant(3) by meaning: the liar's slash evidence " + evidence.encode());
    for (Object sim : evidence.getJsonArray("similarity_to_agreeing")) {
      assertTrue(((Number) sim).doubleValue() < SIMILAR, evidence.encode());
    }
    assertFalse(evidence.getJsonArray("agreeing_nodes").contains(liar));
    assertEquals(0, nodeView(honest).getInteger("slashes"), nodeView(honest).encode());
  }

  @Test
  @org.junit.jupiter.api.Order(3)
  void anAuditedTextFunctionCatchesTheLiarAfterItServed() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(liar != null, "needs the nodes of the first test");
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject().put("name", "gpt-audit")
        .put("verification", new JsonObject().put("policy", "audit").put("p", 1.0))).getString("state"));
    JsonObject seeded = chat("gpt-audit").put("stream", false).put("max_completion_tokens", 48);
    String servedLie = null;
    // The liar serves only when it is the least busy worker: three calls at once spread over the three workers.
    for (int round = 0; round < 8 && servedLie == null; round++) {
      rearm(liar);
      List<io.vertx.core.Future<HttpResponse<Buffer>>> calls = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        calls.add(gw.client.post(gw.port(), "127.0.0.1", "/v1/chat/completions").bearerTokenAuthentication(TestGateway.ADMIN_KEY)
            .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(seeded.encode())));
      }
      io.vertx.core.Future.all(calls).await(120, TimeUnit.SECONDS);
      for (io.vertx.core.Future<HttpResponse<Buffer>> c : calls) {
        assertEquals(200, c.result().statusCode(), c.result().bodyAsString());
        if (liar.equals(c.result().getHeader("X-Inferium-Worker"))) {
          servedLie = c.result().bodyAsString();
        }
      }
    }
    assertTrue(servedLie != null, "the liar served one of the audited calls");
    // Optimistic: that answer was sent as the liar made it; the audit after it is what catches the liar.
    assertTrue(servedLie.contains("[lie]"), servedLie);
    Eventually.value("the audit catches the liar", Duration.ofSeconds(90),
        () -> counter("inferium_audits_total{function=\"gpt-audit\",outcome=\"caught\"}"), n -> n >= 1);
    JsonObject slash = Eventually.value("the liar's audit slash in node_events", Duration.ofSeconds(30), () -> slashEvents(liar)
        .stream().map(JsonObject.class::cast).filter(e -> e.getString("task_id", "").startsWith("generate:gpt-audit@")
            && e.getString("task_id").endsWith("/audit")).findFirst().orElse(null), java.util.Objects::nonNull);
    JsonObject evidence = slash.getJsonObject("evidence");
    assertTrue(evidence.getString("output_sha256") != null && !evidence.getString("output_sha256")
        .equals(evidence.getString("agreeing_output_sha256")), evidence.encode());
    assertFalse(evidence.getJsonArray("agreeing_nodes").contains(liar), evidence.encode());
    assertEquals(0, nodeView(honest).getInteger("slashes"), "an honest node is never slashed by an audit");
  }

  private double counter(String series) {
    return gw.metrics.scrape().lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).orElse(0.0);
  }

  /** Deploys the tiny-gpt bundle under {@code spec}, returning the answer whatever it is. */
  private HttpResponse<Buffer> deployRaw(JsonObject spec) throws Exception {
    Path d = OpenAiIT.MODELS.resolve("tiny-gpt");
    io.vertx.ext.web.multipart.MultipartForm form = io.vertx.ext.web.multipart.MultipartForm.create()
        .attribute("spec", spec.encode())
        .binaryFileUpload("model", "model.onnx", d.resolve("model.onnx").toString(), "application/octet-stream")
        .binaryFileUpload("tokenizer", "tokenizer.json", d.resolve("tokenizer.json").toString(), "application/json");
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions").bearerTokenAuthentication(TestGateway.ADMIN_KEY)
        .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
  }
}
