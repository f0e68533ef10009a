package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.CompletionEvent;
import io.inferium.infra.events.EventLog;
import io.inferium.infra.events.EventSubscription;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every answering route emits exactly one completion event per answered call, counted by a real subscription of
 * its own group on the gateway's log; rejected requests emit none; the request id is the server's, whatever a
 * client sends; and billing derives exactly one usage row from each event.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompletionEventsIT {

  private static final Path DEMO = Path.of("src/main/resources/demo");
  private static final String CATEGORY = "flowers";
  private static final long PRICE = 250;

  private TestGateway gw;
  private EventSubscription subscription;
  private final List<JsonObject> seen = new CopyOnWriteArrayList<>();
  private String acme;
  private String globex;
  private String slow;

  @BeforeAll
  void start() throws Exception {
    Path tiers = Files.createTempFile("tiers-", ".json");
    Files.writeString(tiers, """
        {"default_tier": "pro",
         "tiers": {
           "pro":  {"requests_per_minute": 6000, "monthly_included_micro_usd": null, "storage_bytes": 100000000,
                    "max_concurrent_generations": 8},
           "slow": {"requests_per_minute": 1, "monthly_included_micro_usd": null, "storage_bytes": 100000000}},
         "upgrade_order": ["slow", "pro"]}""");
    gw = TestGateway.start(1, b -> b.tiersFile(tiers));
    subscription = gw.gateway.events().subscribe(EventLog.COMPLETIONS, "test-count", records -> {
      records.forEach(r -> seen.add(r.value()));
      return Future.succeededFuture();
    }).await(10, TimeUnit.SECONDS);
    assertEquals("ready", gw.deployAndWait(new JsonObject().put("name", "adder")
        .put("price", new JsonObject().put("per_request_micro_usd", PRICE)), TestGateway.model("add.onnx")).getString("state"));
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject()).getString("state"));
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-embed", new JsonObject()).getString("state"));
    JsonArray labels = new JsonArray().add("setosa").add("versicolor").add("virginica");
    for (String[] m : new String[][] {{"logreg", "iris.onnx"}, {"centroid", "iris-centroid.onnx"}}) {
      assertEquals("ready", gw.deployAndWait(new JsonObject().put("name", m[0]).put("kind", "classifier")
          .put("category", CATEGORY).put("labels", labels), DEMO.resolve(m[1])).getString("state"));
    }
    for (String t : List.of("acme", "globex")) {
      assertEquals(201, gw.post("/api/tenants", new JsonObject().put("id", t).put("tier", "pro").encode()).statusCode());
    }
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"hooli\",\"tier\":\"slow\"}").statusCode());
    acme = gw.newKey("acme", "user");
    globex = gw.newKey("globex", "user");
    slow = gw.newKey("hooli", "user");
  }

  @AfterAll
  void stop() throws Exception {
    subscription.close().await(10, TimeUnit.SECONDS);
    gw.close();
  }

  private static JsonObject addRequest() {
    JsonObject tensor = new JsonObject().put("shape", new JsonArray().add(1).add(4)).put("datatype", "FP32")
        .put("data", new JsonArray().add(1.0).add(2.0).add(3.0).add(4.0));
    return new JsonObject().put("inputs", new JsonArray().add(tensor.copy().put("name", "a")).add(tensor.copy().put("name", "b")));
  }

  /** The events seen with this id, once the one with {@code barrier} arrived (the local log delivers in append order). */
  private List<JsonObject> eventsOf(Predicate<String> id, String barrier) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (seen.stream().noneMatch(e -> barrier.equals(e.getString("id")))) {
      assertTrue(System.nanoTime() < deadline, "no completion event " + barrier);
      TimeUnit.MILLISECONDS.sleep(20);
    }
    return seen.stream().filter(e -> id.test(e.getString("id"))).toList();
  }

  private JsonObject only(String id) throws Exception {
    List<JsonObject> found = eventsOf(id::equals, id);
    assertEquals(1, found.size(), "one completion event for " + id + ": " + found);
    return CompletionEvent.fromJson(found.get(0)).toJson();
  }

  private HttpResponse<Buffer> infer(String key, JsonObject body) throws Exception {
    return gw.postAs(key, "/v2/models/adder/infer", body);
  }

  @Test
  void aTensorCallEmitsOneEventCarryingItsRecordAndBillingStoresOneRow() throws Exception {
    HttpResponse<Buffer> resp = infer(acme, addRequest());
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    String id = resp.getHeader("X-Inferium-Request-Id");
    assertEquals("true", resp.getHeader("X-Inferium-Billed"));
    JsonObject data = only(id).getJsonObject("data");
    assertEquals("acme", data.getString("tenant_id"));
    assertEquals("adder", data.getString("function"));
    assertEquals("v2.infer", data.getString("endpoint"));
    assertEquals("request", data.getString("modality"));
    assertEquals(gw.get("/api/functions/adder/versions/1").bodyAsJsonObject().getJsonObject("model").getString("sha256"),
        data.getString("model_sha256"));
    assertEquals(64, data.getString("input_sha256").length());
    assertEquals(64, data.getString("output_sha256").length());
    assertEquals(resp.getHeader("X-Inferium-Worker"), data.getJsonArray("workers").getString(0));
    assertEquals(Long.parseLong(resp.getHeader("X-Inferium-Charge-Micro-Usd")), data.getLong("charge_micro_usd"));
    assertTrue(data.getJsonObject("timings").getLong("total_us") > 0);
    // The same inputs give the same digest on a second call: a verifier can compare without the content.
    HttpResponse<Buffer> again = infer(acme, addRequest());
    JsonObject second = only(again.getHeader("X-Inferium-Request-Id")).getJsonObject("data");
    assertEquals(data.getString("input_sha256"), second.getString("input_sha256"));
    assertEquals(data.getString("output_sha256"), second.getString("output_sha256"));
    assertEquals(1, usageRows(id), "billing derived one usage row from the event");
  }

  @Test
  void rejectedRequestsEmitNothing() throws Exception {
    int before = seen.size();
    HttpResponse<Buffer> bad = infer(acme, new JsonObject().put("inputs", new JsonArray()));
    assertEquals(400, bad.statusCode(), bad.bodyAsString());
    HttpResponse<Buffer> badText = gw.postAs(acme, "/v1/completions", new JsonObject().put("model", "tiny-gpt")
        .put("prompt", 7));
    assertEquals(400, badText.statusCode(), badText.bodyAsString());
    HttpResponse<Buffer> limited = null;
    String slowAnswered = null;
    for (int i = 0; i < 5 && limited == null; i++) {
      HttpResponse<Buffer> r = infer(slow, addRequest());
      if (r.statusCode() == 429) {
        limited = r;
      } else {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        slowAnswered = r.getHeader("X-Inferium-Request-Id");
      }
    }
    assertNotNull(limited, "the 1/minute tier was never throttled");
    // A later answered call is the barrier: its event comes after anything the rejected ones could have appended.
    String barrier = infer(globex, addRequest()).getHeader("X-Inferium-Request-Id");
    List<JsonObject> hooli = eventsOf(x -> true, barrier).stream()
        .filter(e -> "hooli".equals(e.getJsonObject("data").getString("tenant_id"))).toList();
    assertEquals(slowAnswered == null ? 0 : 1, hooli.size(), "only hooli's answered call: " + hooli);
    long acmes = seen.subList(before, seen.size()).stream()
        .filter(e -> "acme".equals(e.getJsonObject("data").getString("tenant_id"))).count();
    assertEquals(0, acmes, "acme's two rejected requests emitted nothing");
  }

  @Test
  void eachTextEndpointEmitsOneEventPerAnswer() throws Exception {
    JsonObject prompt = new JsonObject().put("model", "tiny-gpt").put("prompt", "The license").put("max_tokens", 6)
        .put("temperature", 0);
    HttpResponse<Buffer> whole = gw.postAs(acme, "/v1/completions", prompt);
    assertEquals(200, whole.statusCode(), whole.bodyAsString());
    JsonObject w = only(whole.bodyAsJsonObject().getString("id")).getJsonObject("data");
    assertEquals("completions", w.getString("endpoint"));
    assertEquals("text", w.getString("modality"));
    JsonObject usage = whole.bodyAsJsonObject().getJsonObject("usage");
    assertEquals(usage.getLong("total_tokens"), w.getLong("units"));
    assertEquals(usage.getInteger("completion_tokens"), w.getJsonObject("detail").getInteger("completion_tokens"));

    HttpResponse<Buffer> streamed = gw.postAs(acme, "/v1/completions", prompt.copy().put("stream", true));
    assertEquals(200, streamed.statusCode());
    String streamId = new JsonObject(OpenAiIT.events(streamed.bodyAsString()).get(0)).getString("id");
    JsonObject s = only(streamId).getJsonObject("data");
    assertEquals(true, s.getJsonObject("detail").getBoolean("stream"));
    assertEquals(false, s.getJsonObject("detail").getBoolean("cut_short"));
    // Same prompt, temperature 0: the streamed text hashes like the whole answer's.
    assertEquals(w.getString("output_sha256"), s.getString("output_sha256"));

    HttpResponse<Buffer> chat = gw.postAs(acme, "/v1/chat/completions", new JsonObject().put("model", "tiny-gpt")
        .put("max_tokens", 4).put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi"))));
    assertEquals(200, chat.statusCode(), chat.bodyAsString());
    assertEquals("chat.completions", only(chat.bodyAsJsonObject().getString("id")).getJsonObject("data").getString("endpoint"));

    HttpResponse<Buffer> emb = gw.postAs(acme, "/v1/embeddings", new JsonObject().put("model", "tiny-embed")
        .put("input", new JsonArray().add("one").add("two")));
    assertEquals(200, emb.statusCode(), emb.bodyAsString());
    JsonObject e = only(emb.getHeader("X-Inferium-Request-Id")).getJsonObject("data");
    assertEquals("embeddings", e.getString("endpoint"));
    assertEquals(2, e.getJsonObject("detail").getInteger("inputs"));
    assertEquals(1, usageRows(emb.getHeader("X-Inferium-Request-Id")));
  }

  @Test
  void anArenaBattleEmitsOneEventPerModelRunAndABenchmarkRunOne() throws Exception {
    JsonObject input = new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "features")
        .put("shape", new JsonArray().add(1).add(4)).put("datatype", "FP32")
        .put("data", new JsonArray().add(6.0).add(2.7).add(5.1).add(1.6))));
    HttpResponse<Buffer> battle = gw.postAs(acme, "/api/arena/battles", new JsonObject().put("category", CATEGORY)
        .put("input", input));
    assertEquals(201, battle.statusCode(), battle.bodyAsString());
    String id = battle.getHeader("X-Inferium-Request-Id");
    List<JsonObject> runs = eventsOf(x -> x.startsWith(id + "/"), id + "/B");
    assertEquals(List.of(id + "/A", id + "/B"), runs.stream().map(r -> r.getString("id")).sorted().toList());
    assertEquals(List.of("centroid", "logreg"), runs.stream().map(r -> r.getJsonObject("data").getString("function"))
        .sorted().toList());
    assertTrue(runs.stream().allMatch(r -> "arena".equals(r.getJsonObject("data").getString("endpoint"))));

    String csv = Files.readString(DEMO.resolve("iris.csv"));
    HttpResponse<Buffer> up = gw.post("/api/datasets", new JsonObject().put("name", "iris-events").put("category", CATEGORY)
        .put("format", "csv").put("content", csv).encode());
    assertEquals(201, up.statusCode(), up.bodyAsString());
    HttpResponse<Buffer> run = gw.post("/api/benchmarks", new JsonObject().put("function", "logreg")
        .put("dataset", up.bodyAsJsonObject().getString("id")).encode());
    assertEquals(200, run.statusCode(), run.bodyAsString());
    JsonObject body = run.bodyAsJsonObject();
    assertEquals("done", body.getString("state"), body.encode());
    assertEquals("true", run.getHeader("X-Inferium-Billed"));
    JsonObject b = only("bench:" + body.getString("id")).getJsonObject("data");
    assertEquals("benchmark", b.getString("modality"));
    assertEquals(150, b.getLong("units"));
    assertEquals(body.getLong("cost_micro_usd"), b.getLong("charge_micro_usd"));
  }

  @Test
  void aClientCannotChooseReuseOrForgeARequestId() throws Exception {
    HttpResponse<Buffer> victim = infer(acme, addRequest());
    String victimId = victim.getHeader("X-Inferium-Request-Id");
    long victimCharge = Long.parseLong(victim.getHeader("X-Inferium-Charge-Micro-Usd"));
    // globex replays acme's id as the KServe request id and as the response header's name, twice.
    List<String> attackerIds = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      HttpResponse<Buffer> attack = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/adder/infer")
          .bearerTokenAuthentication(globex).putHeader("X-Inferium-Request-Id", victimId)
          .sendJsonObject(addRequest().put("id", victimId)).await(60, TimeUnit.SECONDS);
      assertEquals(200, attack.statusCode(), attack.bodyAsString());
      assertEquals(victimId, attack.bodyAsJsonObject().getString("id"), "the client's id is echoed in the body");
      String served = attack.getHeader("X-Inferium-Request-Id");
      assertNotEquals(victimId, served, "the request id is the server's");
      attackerIds.add(served);
    }
    assertNotEquals(attackerIds.get(0), attackerIds.get(1));
    only(attackerIds.get(1));
    assertEquals(1, eventsOf(victimId::equals, attackerIds.get(1)).size(), "nothing else was appended under acme's id");
    assertEquals(1, usageRows(victimId));
    // acme's row is acme's, at acme's charge; globex paid for both of its calls.
    try (var c = jdbc(); var s = c.prepareStatement("SELECT tenant_id, charge_micro_usd FROM usage_events WHERE id = ?")) {
      s.setString(1, victimId);
      var rs = s.executeQuery();
      assertTrue(rs.next());
      assertEquals("acme", rs.getString(1));
      assertEquals(victimCharge, rs.getLong(2));
    }
    for (String a : attackerIds) {
      assertEquals(1, usageRows(a));
    }
  }

  /** Usage rows stored under {@code id}, once billing caught up (reads wait for this process's answers). */
  private long usageRows(String id) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (var c = jdbc(); var s = c.prepareStatement("SELECT count(*) FROM usage_events WHERE id = ?")) {
        s.setString(1, id);
        var rs = s.executeQuery();
        rs.next();
        long n = rs.getLong(1);
        if (n > 0 || System.nanoTime() > deadline) {
          return n;
        }
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  private java.sql.Connection jdbc() throws Exception {
    String rest = gw.config.dbUrl().substring("postgresql://".length());
    String user = rest.substring(0, rest.indexOf('@'));
    return DriverManager.getConnection("jdbc:postgresql://" + rest.substring(rest.indexOf('@') + 1), user, "");
  }
}
