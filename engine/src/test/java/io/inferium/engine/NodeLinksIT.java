package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.gateway.NodeCode;
import io.inferium.engine.gateway.NodePortSettings;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.TestDatabase;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One node process serving two gateways ({@code --gateway A,B}, a pin each): one key, so the same node id on both;
 * its credits split between them; it serves each with no local worker anywhere. Gateway A goes away: B is still
 * served while the node's link to A keeps trying to reconnect, and a SIGTERM then drains every link and the node
 * exits 0.
 */
class NodeLinksIT {

  @Test
  void oneNodeServesTwoGatewaysAndOutlivesOne() throws Exception {
    Path dir = Files.createTempDirectory("inferium-links-");
    Process node = null;
    boolean aOpen = true;
    // A node's operator key must be known to every gateway it serves: they share one database (--shared-db).
    try (TestDatabase shared = TestDatabase.create()) {
      TestGateway a = TestGateway.start(0, c -> c.dbUrl(shared.url()).sharedDbSyncMs(300)
          .nodePort(NodePortSettings.on(0).withHost("127.0.0.1")));
      try (TestGateway b = TestGateway.start(0, c -> c.dbUrl(shared.url()).sharedDbSyncMs(300).standbySandboxes(0)
          .nodePort(NodePortSettings.on(0).withHost("127.0.0.1")))) {
        JsonObject deployed = a.deploy(new JsonObject().put("name", "links-add"), TestGateway.model("add.onnx"));
        Path key = dir.resolve("operator.key");
        Files.writeString(key, a.post("/api/operator-keys", new JsonObject().put("name", "op").encode()).bodyAsJsonObject()
            .getString("secret"), StandardCharsets.UTF_8);
        String gateways = "127.0.0.1:" + a.gateway.remoteNodes().port() + ",127.0.0.1:" + b.gateway.remoteNodes().port();

        // Pins that match neither one for all nor one per gateway are refused before anything connects.
        Process bad = new ProcessBuilder(nodeJava("--gateway", gateways, "--operator-key", key.toString(), "--data-dir",
            dir.resolve("bad").toString(), "--gateway-fingerprint", "aa,bb,cc")).redirectErrorStream(true).start();
        String badOut = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bad.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, bad.exitValue(), badOut);
        assertTrue(badOut.contains("3 fingerprints for 2 gateways"), badOut);

        Path data = dir.resolve("node");
        Files.createDirectories(data);
        node = new ProcessBuilder(nodeJava("--gateway", gateways, "--operator-key", key.toString(), "--data-dir",
            data.toString(), "--gateway-fingerprint", a.gateway.remoteNodes().fingerprint() + ","
                + b.gateway.remoteNodes().fingerprint(), "--heartbeat-ms", "300", "--slots", "2", "--credits", "3",
            "--label", "two-gateways")).redirectErrorStream(true).redirectOutput(data.resolve("node.log").toFile()).start();
        String id = Eventually.value("the node's key", Duration.ofSeconds(60), () -> {
          Path f = data.resolve("node.key");
          return Files.exists(f) && Files.size(f) > 0 ? NodeKeys.loadOrCreate(f).nodeId() : null;
        }, v -> v != null);
        // One key, one node id on both; its 3 credits split 2 + 1 (never more than 3 in total).
        JsonObject onA = Eventually.value("the node on A", Duration.ofSeconds(90), () -> view(a, id),
            v -> "connected".equals(v.getString("connection")));
        JsonObject onB = Eventually.value("the node on B", Duration.ofSeconds(90), () -> view(b, id),
            v -> "connected".equals(v.getString("connection")));
        assertEquals(2, onA.getJsonObject("credits").getInteger("advertised"), onA.encode());
        assertEquals(1, onB.getJsonObject("credits").getInteger("advertised"), onB.encode());
        assertEquals(200, a.post("/api/nodes/" + id + "/stake", new JsonObject().put("amount_micro_usd",
            NodePortSettings.DEFAULT_MIN_STAKE_MICRO_USD).encode()).statusCode());
        Eventually.value("the stake seen on B", Duration.ofSeconds(30), () -> view(b, id),
            v -> Boolean.TRUE.equals(v.getBoolean("eligible")));
        String path = "/api/functions/links-add/versions/" + deployed.getInteger("version");
        assertEquals("ready", Eventually.value("links-add verified", Duration.ofSeconds(120), () -> a.get(path).bodyAsJsonObject(),
            v -> !"verifying".equals(v.getString("state"))).getString("state"));

        // Neither gateway has a worker of its own: every answer is the node's.
        for (TestGateway g : List.of(a, b)) {
          Eventually.value("links-add answered", Duration.ofSeconds(60), () -> g.infer("links-add", addRequest(1)),
              r -> r.statusCode() == 200);
        }
        aOpen = false;
        a.close();
        for (int i = 0; i < 5; i++) {
          var r = b.infer("links-add", addRequest(i));
          assertEquals(200, r.statusCode(), r.bodyAsString());
          assertEquals(i + 4.0, r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getDouble(3),
              r.bodyAsString());
        }
        Eventually.until("the link to A retrying", Duration.ofSeconds(30),
            () -> read(data.resolve("node.log")).contains("could not reach the gateway"));
        assertTrue(node.isAlive());
        assertEquals("connected", view(b, id).getString("connection"));

        // SIGTERM drains every link: B lets it go, the link to A stops retrying, the node exits 0.
        node.destroy();
        assertTrue(node.waitFor(60, TimeUnit.SECONDS), read(data.resolve("node.log")));
        assertEquals(0, node.exitValue(), read(data.resolve("node.log")));
        assertEquals("drained", view(b, id).getString("last_disconnect"));
      } finally {
        if (node != null) {
          node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (aOpen) {
          a.close();
        }
      }
    }
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  private static JsonObject view(TestGateway g, String id) throws Exception {
    return g.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> id.equals(n.getString("node_id"))).findFirst().orElse(new JsonObject());
  }

  private static List<String> nodeJava(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss8m",
        "-Xmx256m", "-cp", NodeCode.resolve().classPath(), "io.inferium.node.NodeMain", "node"));
    cmd.addAll(List.of(args));
    return cmd;
  }

  static JsonObject addRequest(int i) {
    return new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, i, i, i, i)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4))));
  }
}
