package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Results are answered before they are attested and attested in windows (seals). Real worker
 * processes that cheat are cut off within the seal bound: one that garbles results after sealing them
 * (what a tampered link would deliver), one whose seals are signed by no key, one that never seals. An
 * honest worker beside them keeps its connection and its identity.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SealIT {

  private static final Map<String, String> FAULTS = Map.of("w2", "garble-results", "w3", "forge-seals",
      "w4", "withhold-seals");
  private TestGateway gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(4, b -> b.testFault(2, "garble-results").testFault(3, "forge-seals")
        .testFault(4, "withhold-seals"));
    // Redundant(3) over four workers spreads work over all of them (plain dispatch keeps to the first that loaded the model).
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "seal-add")
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3)), TestGateway.model("add.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private String nodeOf(String slot) {
    try {
      return gw.nodeIdOfSlot(slot);
    } catch (Exception | AssertionError e) {
      return null; // between a kill and the replacement's hello
    }
  }

  @Test
  void cheatingWorkersAreCutOffAndTheHonestOneStays() throws Exception {
    String honest = gw.nodeIdOfSlot("w1");
    Map<String, String> before = new HashMap<>();
    FAULTS.keySet().forEach(slot -> before.put(slot, nodeOf(slot)));
    int ok = 0;
    int cutOff = 0;
    for (int i = 0; i < 40; i++) {
      JsonObject req = new JsonObject().put("inputs", new JsonArray()
          .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, i, i, i, i)))
          .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4))));
      HttpResponse<Buffer> resp = gw.infer("seal-add", req);
      if (resp.statusCode() == 200) {
        ok++;
      } else {
        // A request whose worker is cut off while it runs fails (502), or finds too few workers left (503).
        assertTrue(resp.statusCode() == 502 || resp.statusCode() == 503, resp.statusCode() + " " + resp.bodyAsString());
        cutOff++;
      }
    }
    System.out.printf("40 requests: %d answered, %d failed (a worker cut off under them)%n", ok, cutOff);
    for (String slot : FAULTS.keySet()) {
      String first = before.get(slot);
      String now = TestGateway.poll(slot + " (" + FAULTS.get(slot) + ") cut off and replaced", () -> nodeOf(slot),
          id -> id != null && !id.equals(first));
      assertNotEquals(first, now);
    }
    assertEquals(honest, gw.nodeIdOfSlot("w1"), "the honest worker was never cut off");
    assertTrue(ok >= 10, "most answers are optimistic: " + ok);
    // Each cheat is charged in the ledger with its evidence and ejected (at once, if consensus had not
    // already ejected it for disagreeing); the honest node is not.
    for (String slot : FAULTS.keySet()) {
      String cheat = before.get(slot);
      JsonObject node = Eventually.value(slot + "'s failed attestation in the ledger", Duration.ofSeconds(10),
          () -> nodeRecord(cheat), n -> n != null && "ejected".equals(n.getString("state")));
      JsonObject charge = node.getJsonArray("recent_events").stream().map(JsonObject.class::cast)
          .filter(e -> e.getString("kind").equals("attestation_failed")).findFirst().orElseThrow(
              () -> new AssertionError(slot + " ejected without an attestation_failed event: " + node.encode()));
      assertTrue(charge.getValue("evidence").toString().contains("attestation"), charge.encode());
    }
    JsonObject good = nodeRecord(honest);
    assertEquals("active", good.getString("state"), good.encode());
    assertTrue(good.getJsonArray("recent_events").stream().map(JsonObject.class::cast)
        .noneMatch(e -> e.getString("kind").equals("attestation_failed")), good.encode());
  }

  private JsonObject nodeRecord(String nodeId) throws Exception {
    return gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> n.getString("node_id").equals(nodeId)).findFirst().orElse(null);
  }
}
