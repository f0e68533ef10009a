package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Arena battles of text-generation and embedding functions through real workers: a streamed battle's labelled
 * events, a JSON battle, an embedding battle's similarity matrices, votes and the reveal, usage per run; and the
 * attacks: nothing before the vote names a model (body, headers, errors), another tenant cannot vote on a battle or
 * see it, another tenant's private function is never drawn, streams and generations are bounded per tenant.
 */
class ArenaIT {

  private static final Path DEMO = Path.of("src/main/resources/demo");
  private static final Path MODELS = OpenAiIT.MODELS;
  private static final List<String> NAMES = List.of("tiny-gpt", "tiny-gpt-terse", "rival-gpt", "tiny-embed", "tiny-embed-cls");

  @Test
  void textAndEmbeddingFunctionsBattleAndTheirIdentitiesStayHiddenUntilTheVote() throws Exception {
    // The shipped tiers and "duo": two concurrent generations (a battle's two sides) and one event stream.
    JsonObject tiers = new JsonObject(Files.readString(Path.of("src/main/resources/tiers.json")));
    tiers.getJsonObject("tiers").put("duo", new JsonObject().put("requests_per_minute", 600)
        .put("monthly_included_micro_usd", 10_000_000).put("storage_bytes", 10_000_000).put("max_concurrent_generations", 2)
        .put("max_streams", 1));
    // "tight": a hard quota of one micro-dollar; "hasty": three requests a minute.
    tiers.getJsonObject("tiers").put("tight", new JsonObject().put("requests_per_minute", 600).put("hard_quota", true)
        .put("monthly_included_micro_usd", 1).put("storage_bytes", 0).put("max_concurrent_generations", 4));
    tiers.getJsonObject("tiers").put("hasty", new JsonObject().put("requests_per_minute", 3)
        .put("monthly_included_micro_usd", 10_000_000).put("storage_bytes", 0).put("max_concurrent_generations", 4));
    tiers.getJsonArray("upgrade_order").add(1, "duo").add(1, "tight").add(1, "hasty");
    Path tiersFile = Files.createTempFile("tiers-", ".json");
    Files.writeString(tiersFile, tiers.encode());
    try (TestGateway gw = TestGateway.start(1, b -> b.tiersFile(tiersFile))) {
      for (String t : List.of("acme", "rival")) {
        assertEquals(201, gw.post("/api/tenants", new JsonObject().put("id", t).put("tier", "pro").encode()).statusCode());
      }
      assertEquals(201, gw.post("/api/tenants", "{\"id\":\"tiny\",\"tier\":\"free\"}").statusCode());
      assertEquals(201, gw.post("/api/tenants", "{\"id\":\"duo\",\"tier\":\"duo\"}").statusCode());
      String duo = gw.newKey("duo", "user");
      assertEquals(201, gw.post("/api/tenants", "{\"id\":\"tight\",\"tier\":\"tight\"}").statusCode());
      assertEquals(201, gw.post("/api/tenants", "{\"id\":\"hasty\",\"tier\":\"hasty\"}").statusCode());
      String tight = gw.newKey("tight", "user");
      String hasty = gw.newKey("hasty", "user");
      String acme = gw.newKey("acme", "user");
      String rival = gw.newKey("rival", "developer");
      String tinyUser = gw.newKey("tiny", "user");
      var pool = java.util.concurrent.Executors.newFixedThreadPool(5);
      try {
        List<java.util.concurrent.Future<JsonObject>> ups = List.of(
            pool.submit(() -> deploy(gw, TestGateway.ADMIN_KEY, MODELS.resolve("tiny-gpt"), price(1000))),
            pool.submit(() -> deploy(gw, TestGateway.ADMIN_KEY, DEMO.resolve("tiny-gpt-terse"), price(3000))),
            pool.submit(() -> deploy(gw, rival, MODELS.resolve("tiny-gpt"), price(1000).put("name", "rival-gpt")
                .put("visibility", "private"))),
            pool.submit(() -> deploy(gw, TestGateway.ADMIN_KEY, MODELS.resolve("tiny-embed"), price(100))),
            pool.submit(() -> deploy(gw, TestGateway.ADMIN_KEY, DEMO.resolve("tiny-embed-cls"), price(200))));
        for (var up : ups) {
          assertEquals("ready", up.get(150, TimeUnit.SECONDS).getString("state"));
        }
      } finally {
        pool.shutdownNow();
      }

      // A JSON battle: two anonymous answers, nothing that names or measures a model.
      JsonObject chat = new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
          .put("content", "Permission is granted"))).put("max_tokens", 16).put("temperature", 0);
      HttpResponse<Buffer> plain = gw.postAs(acme, "/api/arena/battles", new JsonObject().put("category", "text").put("input", chat));
      assertEquals(201, plain.statusCode(), plain.bodyAsString());
      JsonObject battle = plain.bodyAsJsonObject();
      assertEquals("text-generation", battle.getString("kind"));
      assertEquals(2, battle.getJsonArray("models").size(), "rival's private function is not acme's to battle: " + battle);
      for (Object m : battle.getJsonArray("models")) {
        assertFalse(((JsonObject) m).getString("text").isEmpty(), battle.encode());
      }
      assertHidesIdentities(plain);

      // Another tenant can neither vote on it nor learn it exists; acme votes once.
      HttpResponse<Buffer> stolen = gw.postAs(rival, "/api/arena/battles/" + battle.getString("id") + "/vote",
          new JsonObject().put("ranking", new JsonObject().put("A", 1).put("B", 2)));
      assertEquals(404, stolen.statusCode(), stolen.bodyAsString());
      HttpResponse<Buffer> voted = gw.postAs(acme, "/api/arena/battles/" + battle.getString("id") + "/vote",
          new JsonObject().put("ranking", new JsonObject().put("A", 1).put("B", 1)));
      assertEquals(200, voted.statusCode(), voted.bodyAsString());
      JsonObject reveal = voted.bodyAsJsonObject().getJsonObject("models");
      Set<String> revealed = new HashSet<>();
      for (String label : reveal.fieldNames()) {
        JsonObject who = reveal.getJsonObject(label);
        revealed.add(who.getString("function"));
        assertEquals(1, who.getInteger("rank"));
        assertTrue(who.getLong("charge_micro_usd") > 0 && who.getInteger("completion_tokens") > 0, reveal.encode());
      }
      assertEquals(Set.of("tiny-gpt", "tiny-gpt-terse"), revealed);
      assertEquals(409, gw.postAs(acme, "/api/arena/battles/" + battle.getString("id") + "/vote",
          new JsonObject().put("all_bad", true)).statusCode());

      // The owner of the private function battles it: three models (so the two above were a real exclusion).
      HttpResponse<Buffer> own = gw.postAs(rival, "/api/arena/battles", new JsonObject().put("category", "text").put("input", chat));
      assertEquals(201, own.statusCode(), own.bodyAsString());
      assertEquals(3, own.bodyAsJsonObject().getJsonArray("models").size());

      // A streamed battle: one SSE stream, events labelled by model, the battle's id at the end.
      List<String[]> events = sse(gw, acme, new JsonObject().put("category", "text").put("stream", true)
          .put("input", chat.copy().put("temperature", 0.8).put("seed", 7)));
      assertEquals("battle", events.get(0)[0]);
      Map<String, StringBuilder> texts = new HashMap<>();
      for (String[] e : events.subList(1, events.size() - 1)) {
        assertEquals("delta", e[0], e[1]);
        JsonObject d = new JsonObject(e[1]);
        assertEquals(Set.of("model", "text"), d.fieldNames(), "a delta says which side and what text, nothing else");
        texts.computeIfAbsent(d.getString("model"), k -> new StringBuilder()).append(d.getString("text"));
      }
      assertEquals(Set.of("A", "B"), texts.keySet(), "both sides streamed");
      String[] done = events.get(events.size() - 1);
      assertEquals("done", done[0], done[1]);
      for (String[] e : List.of(events.get(0), done)) {
        for (String name : NAMES) {
          assertFalse(e[1].contains(name), "no function named in " + e[0] + ": " + e[1]);
        }
        assertFalse(e[1].contains("tokens") || e[1].contains("charge") || e[1].contains("worker"), e[1]);
      }
      String streamed = new JsonObject(done[1]).getString("id");
      HttpResponse<Buffer> streamedVote = gw.postAs(acme, "/api/arena/battles/" + streamed + "/vote",
          new JsonObject().put("ranking", new JsonObject().put("A", 1).put("B", 2)));
      assertEquals(200, streamedVote.statusCode(), streamedVote.bodyAsString());

      // Embeddings: each side's cosine similarities and nearest texts, not its vectors or their dimension.
      JsonArray sentences = new JsonArray().add("a cat sat on the mat").add("a kitten on a rug").add("the market fell");
      HttpResponse<Buffer> emb = gw.postAs(acme, "/api/arena/battles", new JsonObject().put("category", "embedding")
          .put("input", new JsonObject().put("texts", sentences)));
      assertEquals(201, emb.statusCode(), emb.bodyAsString());
      assertHidesIdentities(emb);
      JsonObject eb = emb.bodyAsJsonObject();
      assertEquals(sentences, eb.getJsonArray("texts"));
      for (Object m : eb.getJsonArray("models")) {
        JsonObject side = (JsonObject) m;
        JsonArray sim = side.getJsonArray("similarity");
        assertEquals(3, sim.size());
        for (int i = 0; i < 3; i++) {
          assertEquals(1.0, sim.getJsonArray(i).getDouble(i), 0.002, side.encode());
          assertEquals(sim.getJsonArray(i).getDouble((i + 1) % 3), sim.getJsonArray((i + 1) % 3).getDouble(i), 1e-9);
        }
        assertEquals(3, side.getJsonArray("nearest").size());
        assertFalse(side.containsKey("embedding") || side.containsKey("dimensions"), side.encode());
      }
      HttpResponse<Buffer> allBad = gw.postAs(acme, "/api/arena/battles/" + eb.getString("id") + "/vote",
          new JsonObject().put("all_bad", true));
      assertEquals(200, allBad.statusCode(), allBad.bodyAsString());
      JsonObject embReveal = allBad.bodyAsJsonObject().getJsonObject("models");
      assertTrue(embReveal.getJsonObject("A").getInteger("dimensions") > 0, embReveal.encode());
      assertNull(embReveal.getJsonObject("A").getValue("rank"), "all bad ranks nobody");

      // The votes move the arena ratings; every run was a usage event of acme's.
      JsonArray board = gw.get("/api/leaderboard?category=text").bodyAsJsonObject().getJsonArray("rows");
      JsonObject terseRow = board.stream().map(JsonObject.class::cast).filter(r -> r.getString("name").equals("tiny-gpt-terse"))
          .findFirst().orElseThrow();
      assertEquals(2, terseRow.getJsonObject("arena").getInteger("comparisons"), board.encode());
      JsonObject usage = TestGateway.poll("acme's usage", () -> gw.client.get(gw.port(), "127.0.0.1", "/api/usage")
          .bearerTokenAuthentication(acme).send().await(10, TimeUnit.SECONDS).bodyAsJsonObject(),
          u -> u.getLong("requests") >= 6);
      assertEquals(6, usage.getLong("requests"), "2 runs in each of 3 battles: " + usage.encode());
      // Usage (and the invoice) show arena runs as one 'arena' line: function names there would tell a voter who
      // battled before the vote.
      for (String name : NAMES) {
        assertFalse(usage.encode().contains("\"" + name + "\""), name + " named in acme's usage: " + usage.encode());
      }
      String month = java.time.YearMonth.now(java.time.ZoneOffset.UTC).toString();
      HttpResponse<Buffer> inv = gw.client.get(gw.port(), "127.0.0.1", "/api/invoices/acme-" + month)
          .bearerTokenAuthentication(acme).send().await(10, TimeUnit.SECONDS);
      assertEquals(200, inv.statusCode(), inv.bodyAsString());
      String invoice = inv.bodyAsString();
      assertTrue(invoice.contains("\"arena\""), invoice);
      for (String name : NAMES) {
        assertFalse(invoice.contains("\"" + name + "\""), name + " named in acme's invoice: " + invoice);
      }

      // Errors name the side, not the function: too many tokens for the 256-token context fails on the workers.
      HttpResponse<Buffer> tooLong = gw.postAs(acme, "/api/arena/battles", new JsonObject().put("category", "text")
          .put("input", chat.copy().put("max_tokens", 1000)));
      assertEquals(400, tooLong.statusCode(), tooLong.bodyAsString());
      assertTrue(tooLong.bodyAsString().contains("model A failed") || tooLong.bodyAsString().contains("model B failed"),
          tooLong.bodyAsString());
      assertHidesIdentities(tooLong);
      assertError(gw.postAs(acme, "/api/arena/battles", new JsonObject().put("category", "text")
          .put("input", chat.copy().put("max_tokens", 5000))), 400, "at most 1024 tokens");
      assertError(gw.postAs(acme, "/api/arena/battles", new JsonObject().put("category", "embedding")
          .put("input", new JsonObject().put("texts", new JsonArray().add("alone")))), 400, "'input.texts'");
      assertError(gw.postAs(acme, "/api/arena/battles", new JsonObject().put("category", "text")
          .put("input", new JsonObject().put("prompt", "x").put("messages", new JsonArray()))), 400, "exactly one");
      assertError(gw.postAs(acme, "/api/arena/battles", new JsonObject().put("category", "embedding")
          .put("input", chat)), 409, "ready text-generation functions");
      // A tier with one concurrent generation cannot run the two sides of a battle.
      assertError(gw.postAs(tinyUser, "/api/arena/battles", new JsonObject().put("category", "text").put("input", chat)),
          429, "concurrent generation");

      // Limited like any call: the quota is spent by the first battle (402 after); each run is a request (the second
      // battle's first run is the third request of the minute, its second run the fourth: 429).
      assertEquals(201, gw.postAs(tight, "/api/arena/battles", new JsonObject().put("category", "text").put("input", chat))
          .statusCode());
      assertError(gw.postAs(tight, "/api/arena/battles", new JsonObject().put("category", "text").put("input", chat)),
          402, "monthly included usage");
      assertEquals(201, gw.postAs(hasty, "/api/arena/battles", new JsonObject().put("category", "embedding")
          .put("input", new JsonObject().put("texts", sentences))).statusCode());
      assertError(gw.postAs(hasty, "/api/arena/battles", new JsonObject().put("category", "embedding")
          .put("input", new JsonObject().put("texts", sentences))), 429, "rate limit");

      // Streams are bounded per tenant: with the tier's one event stream open, a streamed battle is refused; the
      // same battle as JSON is not a stream and runs.
      HttpClient http = gw.vertx.createHttpClient();
      try {
        HttpClientResponse held = http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
                .setPort(gw.port()).setURI("/api/leaderboard/stream?category=text").putHeader("Authorization", "Bearer " + duo))
            .compose(req -> req.send()).await(10, TimeUnit.SECONDS);
        assertEquals(200, held.statusCode());
        assertError(gw.postAs(duo, "/api/arena/battles", new JsonObject().put("category", "text").put("stream", true)
            .put("input", chat)), 429, "open event streams");
        assertEquals(201, gw.postAs(duo, "/api/arena/battles", new JsonObject().put("category", "text").put("input", chat))
            .statusCode());
      } finally {
        http.close().await(10, TimeUnit.SECONDS);
      }
      // Closed: the slot comes back, and a streamed battle gives it back when it ends.
      for (int i = 0; i < 2; i++) {
        TestGateway.poll("the stream slot to come back", () -> gw.postAs(duo, "/api/arena/battles", new JsonObject()
            .put("category", "text").put("stream", true).put("input", chat)).statusCode(), s -> s == 200);
      }
    }
  }

  private static JsonObject price(long per1k) {
    return new JsonObject().put("price", new JsonObject().put("per_1k_tokens_micro_usd", per1k));
  }

  /**
   * Nothing in the answer names a function or worker or measures a model: no such header, and the body holds only
   * the battle's own fields (the generated texts aside, which are the models' to write).
   */
  private static void assertHidesIdentities(HttpResponse<Buffer> r) {
    JsonObject body = r.bodyAsJsonObject().copy();
    if (body.getValue("models") instanceof JsonArray models) {
      for (Object m : models) {
        JsonObject side = (JsonObject) m;
        assertTrue(Set.of("id", "label", "text", "finish_reason", "similarity", "nearest").containsAll(side.fieldNames()),
            side.fieldNames().toString());
        side.remove("text");
      }
    }
    assertTrue(Set.of("id", "category", "kind", "models", "billed", "texts", "error").containsAll(body.fieldNames()),
        body.fieldNames().toString());
    String all = body.encode() + "\n" + r.headers().entries();
    for (String name : NAMES) {
      assertFalse(all.contains(name), "'" + name + "' in " + all);
    }
    for (String leak : List.of("tokens", "worker", "X-Inferium-Compute", "X-Inferium-Queue", "Server-Timing", "dimensions")) {
      assertFalse(all.toLowerCase(java.util.Locale.ROOT).contains(leak.toLowerCase(java.util.Locale.ROOT)),
          "'" + leak + "' in " + all);
    }
    if (!body.containsKey("error")) {
      assertNull(r.getHeader("X-Inferium-Charge-Micro-Usd"), "prices differ: a charge tells the models apart");
    }
  }

  private static void assertError(HttpResponse<Buffer> r, int status, String text) {
    assertEquals(status, r.statusCode(), r.bodyAsString());
    assertTrue(r.bodyAsJsonObject().getString("error").contains(text), r.bodyAsString());
  }

  /** A streamed battle's events as (event, data) pairs. */
  private static List<String[]> sse(TestGateway gw, String key, JsonObject body) throws Exception {
    HttpResponse<Buffer> r = gw.postAs(key, "/api/arena/battles", body);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertTrue(r.getHeader("Content-Type").startsWith("text/event-stream"));
    List<String[]> out = new ArrayList<>();
    for (String block : r.bodyAsString().split("\n\n")) {
      String name = null;
      String data = null;
      for (String line : block.split("\n")) {
        if (line.startsWith("event: ")) {
          name = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
      assertNotNull(data, block);
      out.add(new String[] {name, data});
    }
    return out;
  }

  /** Deploys a text function as {@code key}: spec.json of {@code dir} with {@code overrides}, files from dir or tiny-gpt's. */
  static JsonObject deploy(TestGateway gw, String key, Path dir, JsonObject overrides) throws Exception {
    JsonObject spec = new JsonObject(Files.readString(dir.resolve("spec.json"))).mergeIn(overrides);
    Path base = spec.getString("kind").equals("embedding") ? MODELS.resolve("tiny-embed") : MODELS.resolve("tiny-gpt");
    MultipartForm form = MultipartForm.create().attribute("spec", spec.encode());
    for (String part : List.of("model", "tokenizer", "tokenizer_config", "generation_config")) {
      String file = part.equals("model") ? "model.onnx" : part + ".json";
      Path f = Files.exists(dir.resolve(file)) ? dir.resolve(file) : base.resolve(file);
      if (Files.exists(f)) {
        form.binaryFileUpload(part, file, f.toString(), "application/octet-stream");
      }
    }
    HttpResponse<Buffer> resp = gw.client.post(gw.port(), "127.0.0.1", "/api/functions").bearerTokenAuthentication(key)
        .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    assertEquals(202, resp.statusCode(), resp.bodyAsString());
    String path = "/api/functions/" + spec.getString("name") + "/versions/" + resp.bodyAsJsonObject().getInteger("version");
    return TestGateway.poll(path + " to leave verifying", () -> gw.get(path).bodyAsJsonObject(),
        now -> !"verifying".equals(now.getString("state")));
  }
}
