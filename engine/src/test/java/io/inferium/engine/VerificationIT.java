package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * redundant(3) with one lying worker among three: no perturbed result reaches a client, every
 * divergent run is recorded with its evidence, and the liar is slashed and then ejected.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VerificationIT {

  private TestGateway gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(3, b -> b.testFault(3, "noise:1.0"));
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "vf-add")
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3).put("threshold", 0.999)),
        TestGateway.model("add.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  /** The ledger records verdicts asynchronously; wait (with a deadline) until w3's slash count stops moving. */
  private int settledSlashes() throws Exception {
    int last = -1;
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      int now = nodes().get("w3").getInteger("slashes");
      if (now == last) {
        return now;
      }
      last = now;
      java.util.concurrent.TimeUnit.MILLISECONDS.sleep(500);
    }
    throw new AssertionError("the ledger never settled");
  }

  /** Attached nodes by the pool slot they run in (faults are set per slot; node ids come from keys). */
  private Map<String, JsonObject> nodes() throws Exception {
    return gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> n.getBoolean("attached"))
        .collect(Collectors.toMap(n -> n.getString("slot"), n -> n));
  }

  private void verifiedSums(int from, int to) throws Exception {
    for (int i = from; i < to; i++) {
      JsonObject req = new JsonObject().put("id", "vf-" + i).put("inputs", new JsonArray()
          .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, i, i, i, i)))
          .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4))));
      HttpResponse<Buffer> resp = gw.infer("vf-add", req);
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      assertEquals("verified", resp.getHeader("X-Inferium-Verdict"));
      JsonObject body = resp.bodyAsJsonObject();
      assertEquals("verified", body.getJsonObject("parameters").getString("verdict"));
      assertEquals(1.0, body.getJsonObject("parameters").getDouble("similarity"), 1e-9, "honest workers agree exactly");
      JsonArray sum = body.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
      assertEquals(new JsonArray().add(i + 1.0).add(i + 2.0).add(i + 3.0).add(i + 4.0), sum, "request " + i);
    }
  }

  @Test
  void aLyingWorkerNeverReachesAClientAndIsSlashedThenEjected() throws Exception {
    verifiedSums(0, 10);
    settledSlashes();
    Map<String, JsonObject> nodes = nodes();
    JsonObject liar = nodes.get("w3");
    assertEquals("ejected", liar.getString("state"), liar.encodePrettily());
    // Reputation 0.8^4 < 0.5: ejected at the fourth divergent run, and given no work after it.
    int slashes = liar.getInteger("slashes");
    assertEquals(4, slashes, "slashes");
    assertTrue(liar.getString("ejected_reason").startsWith("reputation"), liar.getString("ejected_reason"));
    assertTrue(liar.getLong("stake_micro_usd") < 1_000_000, "slashed stake");
    JsonObject slash = liar.getJsonArray("recent_events").stream().map(JsonObject.class::cast)
        .filter(e -> e.getString("kind").equals("slash")).findFirst().orElseThrow();
    JsonObject evidence = slash.getJsonObject("evidence");
    assertTrue(evidence.getString("task_id").startsWith("vf-"), evidence.encode());
    assertTrue(!evidence.getString("output_sha256").equals(evidence.getString("agreeing_output_sha256")));
    assertTrue(evidence.getJsonArray("similarity_to_agreeing").getDouble(0) < 0.999);
    for (JsonObject n : nodes.values()) {
      assertTrue(n.getString("public_key") != null && n.getString("public_key").length() > 40, "Ed25519 identity of "
          + n.getString("node_id"));
    }
    for (String honest : new String[] {"w1", "w2"}) {
      assertEquals("active", nodes.get(honest).getString("state"));
      assertEquals(0, nodes.get(honest).getInteger("slashes"));
      assertTrue(nodes.get(honest).getLong("rewards_micro_usd") > 0);
    }
    verifiedSums(10, 15);
    slashes = settledSlashes();
    verifiedSums(15, 20);
    assertEquals(slashes, settledSlashes(), "an ejected node gets no more work");
    String metrics = gw.metrics.scrape();
    assertTrue(metrics.contains("inferium_ejections_total 1.0"), "ejection counted");
    assertTrue(metrics.contains("inferium_slashes_total " + slashes + ".0"), "slashes counted");
    assertTrue(metrics.contains("inferium_node_reputation{node=\"" + liar.getString("node_id") + "\"}"));
    assertTrue(metrics.contains("inferium_verifications_runs_total{function=\"vf-add\",verdict=\"verified\"} 20.0"));
  }

  private java.util.List<String> ids(String path) throws Exception {
    HttpResponse<Buffer> resp = gw.get(path);
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    return resp.bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .map(n -> n.getString("node_id")).toList();
  }

  @Test
  void theNodeListHoldsWhatMattersNowAndPagesTheRest() throws Exception {
    // Three local nodes of workers gone two days ago: a local worker gets a fresh node id per spawn, so a gateway
    // that restarts workers accumulates them.
    io.inferium.infra.Database db = io.inferium.infra.Database.open(gw.vertx, gw.db.settings())
        .await(30, java.util.concurrent.TimeUnit.SECONDS);
    try {
      db.pool().query("INSERT INTO nodes (node_id, first_seen, updated_at) SELECT 'n-gone-' || i, "
          + "now() - interval '2 days', now() - interval '2 days' FROM generate_series(1, 3) i")
          .execute().await(10, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      db.close().await(10, java.util.concurrent.TimeUnit.SECONDS);
    }
    java.util.List<String> current = ids("/api/nodes");
    assertTrue(current.containsAll(nodes().values().stream().map(n -> n.getString("node_id")).toList()), current.toString());
    assertTrue(current.stream().noneMatch(id -> id.startsWith("n-gone-")), "gone for over a day: " + current);
    java.util.List<String> all = ids("/api/nodes?all=true");
    assertTrue(all.containsAll(java.util.List.of("n-gone-1", "n-gone-2", "n-gone-3")), all.toString());
    assertEquals(java.util.List.of("n-gone-2"), ids("/api/nodes?node=n-gone-2"), "one node, whatever its age");

    java.util.List<String> paged = new java.util.ArrayList<>();
    String after = null;
    do {
      HttpResponse<Buffer> page = gw.get("/api/nodes?all=true&limit=2" + (after == null ? "" : "&after=" + after));
      JsonArray nodes = page.bodyAsJsonObject().getJsonArray("nodes");
      assertTrue(nodes.size() <= 2, page.bodyAsString());
      nodes.stream().map(JsonObject.class::cast).forEach(n -> paged.add(n.getString("node_id")));
      after = page.bodyAsJsonObject().getString("next_after");
    } while (after != null);
    assertEquals(all, paged, "the pages hold every node once, in order");

    GatewayIT.assertError(gw.get("/api/nodes?limit=0"), 400, "query parameter 'limit'");
    GatewayIT.assertError(gw.get("/api/nodes?limit=5001"), 400, "at most 5000");
    GatewayIT.assertError(gw.get("/api/nodes?all=yes"), 400, "query parameter 'all'");
  }

  @Test
  void stakeCanBeDepositedByAnAdmin() throws Exception {
    String w1 = nodes().get("w1").getString("node_id");
    long before = nodes().get("w1").getLong("stake_micro_usd");
    HttpResponse<Buffer> resp = gw.post("/api/nodes/" + w1 + "/stake", "{\"amount_micro_usd\": 5000}");
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    assertTrue(nodes().get("w1").getLong("stake_micro_usd") >= before + 5000);
    GatewayIT.assertError(gw.post("/api/nodes/nope/stake", "{\"amount_micro_usd\": 5}"), 404, "no node 'nope'");
    GatewayIT.assertError(gw.post("/api/nodes/" + w1 + "/stake", "{\"amount_micro_usd\": -5}"), 400, "amount_micro_usd");
  }

  @Test
  void aRequestMayAskForItsOwnVerification() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "vf-plain"), TestGateway.model("add.onnx"));
    assertEquals("ready", rec.getString("state"));
    JsonObject req = new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, 1, 1, 1, 1)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4))));
    HttpResponse<Buffer> plain = gw.infer("vf-plain", req);
    assertEquals(null, plain.getHeader("X-Inferium-Verdict"), "no verification unless asked");
    JsonObject asked = req.copy().put("parameters", new JsonObject()
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3)));
    HttpResponse<Buffer> verified = gw.infer("vf-plain", asked);
    assertEquals(200, verified.statusCode(), verified.bodyAsString());
    assertEquals("verified", verified.getHeader("X-Inferium-Verdict"));
    JsonObject bad = req.copy().put("parameters", new JsonObject()
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 99)));
    GatewayIT.assertError(gw.infer("vf-plain", bad), 400, "parameter 'k': expected an integer in [2, 7], got 99");
  }
}
