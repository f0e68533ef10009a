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
 * worker's answers to the same requests, computed first while the node was not yet staked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RemoteTextNodeIT {

  private TestGateway gw;
  private Process node;
  private Path dir;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(1, b -> b.nodePort(NodePortSettings.on(0).withHost("127.0.0.1")));
  }

  @AfterAll
  void stop() throws Exception {
    if (node != null) {
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
    return new JsonObject().put("model", "tiny-gpt").put("max_completion_tokens", 12).put("temperature", 0.9)
        .put("seed", 42).put("stream", true)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Tell me about licenses")));
  }

  private static JsonObject embedding() {
    return new JsonObject().put("model", "tiny-embed").put("input", new JsonArray().add("a short sentence").add("another one"));
  }

  /** The streamed chat's text (a stream's head is out before a worker is picked, so it names none). */
  private String[] streamedChat() throws Exception {
    HttpResponse<Buffer> resp = gw.post("/v1/chat/completions", chat().encode());
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
    HttpResponse<Buffer> resp = gw.post("/v1/embeddings", embedding().encode());
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    return resp;
  }

  @Test
  void aRemoteNodeFetchesTextBundlesByHashAndAnswersAsTheLocalWorkerDoes() throws Exception {
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject()).getString("state"));
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-embed", new JsonObject()).getString("state"));
    String localWorker = gw.gateway.supervisor().workers().get(0).workerId();
    String[] localChat = streamedChat();
    assertEquals(localWorker, whole().getHeader("X-Inferium-Worker"));
    assertFalse(localChat[0].isEmpty(), "the local worker generated text");
    HttpResponse<Buffer> localEmbed = embed();
    assertEquals(localWorker, localEmbed.getHeader("X-Inferium-Worker"));

    JsonObject key = gw.post("/api/operator-keys", new JsonObject().put("name", "op-text").encode()).bodyAsJsonObject();
    dir = Files.createTempDirectory("inferium-text-node-it-");
    Path keyFile = dir.resolve("operator.key");
    Files.writeString(keyFile, key.getString("secret") + "\n", StandardCharsets.UTF_8);
    node = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss8m", "-Xmx384m",
        "-cp", NodeCode.resolve().classPath(), "io.inferium.node.NodeMain", "node",
        "--gateway", "127.0.0.1:" + gw.gateway.remoteNodes().port(), "--operator-key", keyFile.toString(),
        "--data-dir", dir.toString(), "--gateway-fingerprint", gw.gateway.remoteNodes().fingerprint(),
        "--heartbeat-ms", "500", "--label", "text-node")
        .redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile()).start();
    String nodeId = Eventually.value("the node's key file", Duration.ofSeconds(60), () -> {
      Path f = dir.resolve("node.key");
      return Files.exists(f) ? NodeKeys.loadOrCreate(f).nodeId() : null;
    }, id -> id != null && gw.gateway.remoteNodes().node(id).isPresent());

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
  }
}
