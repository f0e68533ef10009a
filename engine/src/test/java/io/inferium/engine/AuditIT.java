package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * audit(p) with one lying worker among three: answers are optimistic (a lie can reach a client) and
 * a fraction p of them is re-run on two other workers; the liar is caught at about that rate. The
 * ledger here never ejects, so the rate can be observed over many trials (ejection is covered with
 * redundant(3) in {@link VerificationIT}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditIT {

  private static final double P = 0.5;
  private TestGateway gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(3, b -> b.testFault(2, "noise:1.0")
        .ledger(new io.inferium.verifier.LedgerSettings(1_000_000, 1, 0, 0.2, 0.0, Long.MIN_VALUE)));
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "au-add")
        .put("verification", new JsonObject().put("policy", "audit").put("p", P)), TestGateway.model("add.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private double counter(String series) {
    return gw.metrics.scrape().lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).orElse(0.0);
  }

  private double outcome(String outcome) {
    return counter("inferium_audits_total{function=\"au-add\",outcome=\"" + outcome + "\"}");
  }

  private double auditsCounted() {
    return outcome("caught") + outcome("clean") + outcome("inconclusive") + outcome("skipped");
  }

  @Test
  void theLiarIsCaughtAtAboutTheAuditRate() throws Exception {
    Map<String, Integer> wrongBy = new HashMap<>();
    // Until the liar has served enough lies to measure a rate: how many of the requests it gets depends on the
    // dispatcher's choices (its honest peers are busy re-running audits), not on what is tested here.
    for (int i = 0; i < 400 && wrongBy.values().stream().mapToInt(Integer::intValue).sum() < 24; i++) {
      JsonObject req = new JsonObject().put("id", "au-" + i).put("inputs", new JsonArray()
          .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, i, i, i, i)))
          .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4))));
      HttpResponse<Buffer> resp = gw.infer("au-add", req);
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      assertEquals(null, resp.getHeader("X-Inferium-Verdict"), "an optimistic answer carries no verdict");
      double first = resp.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getDouble(0);
      if (first != i + 1.0) {
        wrongBy.merge(resp.getHeader("X-Inferium-Worker"), 1, Integer::sum);
      }
    }
    // Audits finish after their answers: wait until the count has stood still for two seconds (a
    // loaded machine can leave an audit running for a while after the last answer).
    double[] last = {-1};
    long[] stillSince = {System.nanoTime()};
    double audits = Eventually.value("the audits to settle", java.time.Duration.ofSeconds(60), () -> {
      double now = auditsCounted();
      if (now != last[0]) {
        last[0] = now;
        stillSince[0] = System.nanoTime();
      }
      return now;
    }, now -> now > 0 && System.nanoTime() - stillSince[0] >= java.util.concurrent.TimeUnit.SECONDS.toNanos(2));
    int wrong = wrongBy.values().stream().mapToInt(Integer::intValue).sum();
    double caught = outcome("caught");
    double rate = wrong == 0 ? 0 : caught / wrong;
    System.out.printf("audit(%.2f): %d audits (%d clean, %d inconclusive, %d skipped); caught %d of the %d wrong answers "
        + "the liar served: observed rate %.2f (theory: each wrong answer is audited, and so caught, with probability p = %.2f)%n",
        P, (int) audits, (int) outcome("clean"), (int) outcome("inconclusive"), (int) outcome("skipped"), (int) caught, wrong,
        rate, P);
    String liarId = gw.nodeIdOfSlot("w2");
    assertEquals(Map.of(liarId, wrong), wrongBy, "only the faulty worker ever answers wrongly");
    assertTrue(wrong >= 15, "the liar served too few answers to measure a rate: " + wrong);
    // An audit whose auditors are busy waits for them (WaitingAudits): with three workers none is ever skipped, so
    // a liar cannot escape by answering while its peers are busy.
    assertEquals(0.0, outcome("skipped"), "audits skipped");
    // Audits are sampled from a secure random source (unpredictable to workers), so the catch count is
    // binomial(wrong, p): accept 3.5 standard deviations around p (a false alarm about once in 2,000 runs).
    double band = 3.5 * Math.sqrt(P * (1 - P) / wrong);
    assertTrue(Math.abs(rate - P) <= band, "observed catch rate " + rate + " further than " + band + " from p = " + P);
    JsonObject liar = gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> n.getString("node_id").equals(liarId)).findFirst().orElseThrow();
    assertTrue(liar.getInteger("slashes") >= caught, "every catch is a slash (audits it took part in add more)");
  }
}
