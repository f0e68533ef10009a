package io.inferium.engine;

import static io.inferium.engine.TestGateway.poll;
import static io.inferium.engine.GatewayIT.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensors;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * End to end: two classifiers in one category, the Iris dataset benchmarked through the mempool and
 * real workers, arena battles and votes, and the leaderboard's order and its SSE stream following
 * all of it.
 */
class LeaderboardIT {

  private static final String CATEGORY = "flowers";
  private static final JsonArray LABELS = new JsonArray().add("setosa").add("versicolor").add("virginica");
  private static final Path DEMO = Path.of("src/main/resources/demo");

  private static JsonObject spec(String name) {
    return new JsonObject().put("name", name).put("kind", "classifier").put("category", CATEGORY)
        .put("labels", LABELS).put("use_cases", new JsonArray().add("classification"));
  }

  @Test
  void benchmarksVotesAndUsageOrderTheBoardAndTheStreamFollows() throws Exception {
    try (TestGateway gw = TestGateway.start(1)) {
      assertEquals("ready", gw.deployAndWait(spec("logreg"), DEMO.resolve("iris.onnx")).getString("state"));
      assertEquals("ready", gw.deployAndWait(spec("centroid"), DEMO.resolve("iris-centroid.onnx")).getString("state"));
      assertEquals(201, gw.post("/api/tenants", "{\"id\":\"acme\",\"tier\":\"pro\"}").statusCode());
      assertEquals(201, gw.post("/api/tenants", "{\"id\":\"globex\",\"tier\":\"pro\"}").statusCode());
      String acme = gw.post("/api/tenants/acme/keys", "{\"role\":\"user\"}").bodyAsJsonObject().getString("secret");
      String globex = gw.post("/api/tenants/globex/keys", "{\"role\":\"user\"}").bodyAsJsonObject().getString("secret");

      // The stream, opened before anything is scored.
      List<JsonObject> events = new CopyOnWriteArrayList<>();
      HttpClient http = gw.vertx.createHttpClient();
      HttpClientResponse stream = http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
              .setPort(gw.port()).setURI("/api/leaderboard/stream?category=" + CATEGORY)
              .putHeader("Authorization", "Bearer " + TestGateway.ADMIN_KEY))
          .compose(req -> req.send()).await(30, TimeUnit.SECONDS);
      assertEquals(200, stream.statusCode());
      assertEquals("text/event-stream", stream.getHeader("Content-Type"));
      StringBuilder pending = new StringBuilder();
      stream.handler(chunk -> {
        pending.append(chunk.toString());
        int end;
        while ((end = pending.indexOf("\n\n")) >= 0) {
          String event = pending.substring(0, end);
          pending.delete(0, end + 2);
          for (String line : event.split("\n")) {
            if (line.startsWith("data: ")) {
              events.add(new JsonObject(line.substring(6)));
            }
          }
        }
      });
      poll("the first streamed board", () -> events.size(), n -> n >= 1);
      assertEquals(2, events.get(0).getJsonArray("rows").size());
      assertNull(events.get(0).getJsonArray("rows").getJsonObject(0).getJsonObject("parts").getValue("metric"));

      // A dataset for the category: the scheduler benchmarks both through the mempool.
      String csv = Files.readString(DEMO.resolve("iris.csv"));
      HttpResponse<Buffer> up = gw.post("/api/datasets", new JsonObject().put("name", "iris").put("category", CATEGORY)
          .put("format", "csv").put("content", csv).encode());
      assertEquals(201, up.statusCode(), up.bodyAsString());
      assertEquals(150, up.bodyAsJsonObject().getInteger("rows"));
      assertError(gw.post("/api/datasets", new JsonObject().put("name", "bad").put("category", CATEGORY)
          .put("format", "csv").put("content", "a,expected\nx,setosa\n").encode()), 400, "field 'content': line 2");
      JsonObject logreg = doneRun(gw, "logreg");
      JsonObject centroid = doneRun(gw, "centroid");
      assertEquals("deploy", logreg.getString("trigger"));
      assertEquals(150, logreg.getInteger("rows"));
      JsonObject lm = logreg.getJsonObject("metrics");
      JsonObject cm = centroid.getJsonObject("metrics");
      // make_iris_demo.py prints 0.927 for the centroid model on these 150 rows; logistic regression is better
      assertEquals(139.0 / 150, cm.getDouble("accuracy"), 1.0 / 150 + 1e-9, cm.encode());
      assertTrue(lm.getDouble("accuracy") >= 0.95, lm.encode());
      assertEquals(150, sum(cm.getJsonArray("confusion_matrix")));
      assertTrue(logreg.getDouble("latency_p50_ms") > 0);
      assertTrue(logreg.getLong("cost_micro_usd") > 0, "each request is priced at the function's price");

      JsonArray byScore = board(gw, "score");
      assertEquals(List.of("logreg", "centroid"), names(byScore), "before votes the metric decides");
      assertEquals(100.0, byScore.getJsonObject(0).getJsonObject("parts").getDouble("metric_score"));
      poll("a streamed board with both metrics", () -> events.get(events.size() - 1),
          b -> b.getJsonArray("rows").stream().allMatch(r -> ((JsonObject) r).getJsonObject("parts").getValue("metric") != null));

      // Arena: acme prefers the centroid model three times. Labels and output names (by position) hide the
      // functions; acme tells them apart by what they answer, knowing the centroid model's scores (ONNX Runtime
      // in this JVM).
      float[] features = {6.0f, 2.7f, 5.1f, 1.6f};
      JsonObject input = new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "features")
          .put("shape", new JsonArray().add(1).add(4)).put("datatype", "FP32")
          .put("data", new JsonArray().add(6.0).add(2.7).add(5.1).add(1.6))));
      float[] centroidScores = Tensors.toFloatArray(OrtReference.run(DEMO.resolve("iris-centroid.onnx"),
          List.of(Tensors.fp32("features", new long[] {1, 4}, features))).get(0));
      String firstBattle = null;
      for (int i = 0; i < 3; i++) {
        HttpResponse<Buffer> b = post(gw, acme, "/api/arena/battles", new JsonObject().put("category", CATEGORY).put("input", input));
        assertEquals(201, b.statusCode(), b.bodyAsString());
        JsonObject battle = b.bodyAsJsonObject();
        assertEquals(2, battle.getJsonArray("models").size(), "two ready functions: both battle");
        assertTrue(!battle.encode().contains("logreg") && !battle.encode().contains("centroid"), "identities are hidden");
        assertNull(b.getHeader("X-Inferium-Charge-Micro-Usd"), "prices differ: a battle's total tells which were drawn");
        assertTrue(!battle.encode().contains("scores") && !battle.encode().contains("probabilities"),
            "the developer's output names stay hidden: " + battle.encode());
        String id = battle.getString("id");
        firstBattle = firstBattle == null ? id : firstBattle;
        JsonObject ranking = new JsonObject();
        for (Object m : battle.getJsonArray("models")) {
          JsonObject model = (JsonObject) m;
          JsonObject scores = model.getJsonArray("outputs").getJsonObject(0);
          assertEquals("output_0", scores.getString("name"));
          boolean isCentroid = true;
          for (int k = 0; k < centroidScores.length; k++) {
            isCentroid &= Math.abs(scores.getJsonArray("data").getDouble(k) - centroidScores[k]) < 1e-5;
          }
          ranking.put(model.getString("id"), isCentroid ? 1 : 2);
        }
        HttpResponse<Buffer> v = post(gw, acme, "/api/arena/battles/" + id + "/vote", new JsonObject().put("ranking", ranking));
        assertEquals(200, v.statusCode(), v.bodyAsString());
        JsonObject revealed = v.bodyAsJsonObject().getJsonObject("models");
        for (String label : revealed.fieldNames()) {
          JsonObject who = revealed.getJsonObject(label);
          assertEquals(who.getString("function").equals("centroid") ? 1 : 2, who.getInteger("rank"), revealed.encode());
        }
      }
      assertError(post(gw, acme, "/api/arena/battles/" + firstBattle + "/vote",
          new JsonObject().put("ranking", new JsonObject().put("A", 2).put("B", 1))), 409, "already voted");
      assertError(post(gw, globex, "/api/arena/battles/" + firstBattle + "/vote",
          new JsonObject().put("ranking", new JsonObject().put("A", 2).put("B", 1))), 404, "no battle");
      assertError(post(gw, acme, "/api/arena/battles", new JsonObject().put("category", "nothing-here").put("input", input)),
          409, "a battle needs 2");

      // Ratings: globex rates the centroid 5 with feedback, the admin (its developer) marks it helpful.
      HttpResponse<Buffer> rated = put(gw, globex, "/api/functions/centroid/rating",
          new JsonObject().put("stars", 5).put("feedback", "simple and honest"));
      assertEquals(201, rated.statusCode(), rated.bodyAsString());
      assertError(put(gw, globex, "/api/functions/centroid/rating", new JsonObject().put("stars", 9)), 400, "'stars'");
      assertEquals(200, put(gw, TestGateway.ADMIN_KEY, "/api/functions/centroid/ratings/globex/helpful",
          new JsonObject().put("helpful", true)).statusCode());

      // Usage: acme invokes logreg once → one user.
      HttpResponse<Buffer> inferred = post(gw, acme, "/v2/models/logreg/infer", input);
      assertEquals(200, inferred.statusCode(), inferred.bodyAsString());

      // Points: centroid 3 firsts × 3 + rating 5 (> 3 → 3) + 1 helpful = 13; logreg 3 seconds × 2 = 6.
      // US: centroid 100, logreg 600/13 = 46.15. MS: logreg 100, centroid 100·F1c/F1l.
      // Total: logreg 0.4·100 + 0.6·46.15 = 67.69; centroid 0.4·MSc + 60 (about 97.7): the votes overturn the metric.
      JsonArray after = poll("the users column", () -> board(gw, "score"),
          rows -> row(rows, "logreg").getLong("users") == 1);
      assertEquals(13, row(after, "centroid").getJsonObject("parts").getLong("points"));
      assertEquals(6, row(after, "logreg").getJsonObject("parts").getLong("points"));
      assertEquals(46.15, row(after, "logreg").getJsonObject("parts").getDouble("user_score"), 0.001);
      assertEquals(67.69, row(after, "logreg").getDouble("score"), 0.011);
      double f1Ratio = cm.getDouble("f1_macro") / lm.getDouble("f1_macro");
      assertEquals(Math.round((40 * f1Ratio + 60) * 100) / 100.0, row(after, "centroid").getDouble("score"), 0.011);
      assertEquals(List.of("centroid", "logreg"), names(after));
      assertEquals(List.of(1, 2), after.stream().map(r -> ((JsonObject) r).getInteger("rank")).toList());
      assertEquals(0, row(after, "centroid").getLong("users"));
      assertEquals(List.of("logreg", "centroid"), names(board(gw, "users")));
      assertEquals(List.of("logreg", "centroid"), names(board(gw, "metric")));
      JsonObject arena = row(after, "centroid").getJsonObject("arena");
      assertEquals(3, arena.getInteger("comparisons"));
      assertTrue(arena.getDouble("rating") > row(after, "logreg").getJsonObject("arena").getDouble("rating"));
      assertTrue(arena.getDouble("lower") <= arena.getDouble("rating") && arena.getDouble("rating") <= arena.getDouble("upper"));

      // The stream caught up with every change: its latest board equals the one the GET answers.
      JsonObject latest = poll("the stream to show the votes and the user", () -> events.get(events.size() - 1),
          b -> row(b.getJsonArray("rows"), "logreg").getLong("users") == 1
              && row(b.getJsonArray("rows"), "centroid").getJsonObject("arena") != null);
      assertEquals(names(after), names(latest.getJsonArray("rows")));
      assertTrue(events.size() >= 3, "initial, benchmarks, votes/ratings/usage: " + events.size());
      for (int i = 1; i < events.size(); i++) {
        assertNotEquals(events.get(i - 1).encode(), events.get(i).encode(), "only changes are pushed");
      }

      // A private contest of acme: standings from the runs, hidden from globex; at its end the winner's
      // 100 points reach the board.
      String acmeDev = gw.post("/api/tenants/acme/keys", "{\"role\":\"developer\"}").bodyAsJsonObject().getString("secret");
      java.time.OffsetDateTime now = java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC);
      JsonObject contestSpec = new JsonObject().put("name", "iris cup").put("category", CATEGORY)
          .put("dataset", up.bodyAsJsonObject().getString("id")).put("metric", "accuracy")
          .put("starts_at", now.minusHours(1).toString()).put("ends_at", now.plusSeconds(3).toString())
          .put("reward_pool_micro_usd", 1_000_000).put("private", true);
      HttpResponse<Buffer> created = post(gw, acmeDev, "/api/contests", contestSpec);
      assertEquals(201, created.statusCode(), created.bodyAsString());
      String contest = created.bodyAsJsonObject().getString("id");
      assertError(post(gw, acmeDev, "/api/contests", contestSpec.copy().put("metric", "bleu")), 400, "'metric'");
      assertError(post(gw, acmeDev, "/api/contests/" + contest + "/entries", new JsonObject().put("function", "logreg")),
          403, "developer of 'logreg'");
      assertEquals(201, post(gw, TestGateway.ADMIN_KEY, "/api/contests/" + contest + "/entries",
          new JsonObject().put("function", "logreg")).statusCode());
      assertEquals(201, post(gw, TestGateway.ADMIN_KEY, "/api/contests/" + contest + "/entries",
          new JsonObject().put("function", "centroid")).statusCode());
      assertError(get(gw, globex, "/api/contests/" + contest), 404, "no contest");
      JsonObject standing = get(gw, acme, "/api/contests/" + contest).bodyAsJsonObject();
      assertEquals("logreg", standing.getJsonArray("standings").getJsonObject(0).getString("function"), standing.encode());
      JsonObject ended = poll("the contest to end", () -> {
        try {
          return get(gw, acme, "/api/contests/" + contest).bodyAsJsonObject();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, c -> c.getBoolean("finished"));
      JsonObject winner = ended.getJsonArray("standings").getJsonObject(0);
      assertEquals("logreg", winner.getString("function"));
      assertEquals(100, winner.getInteger("points"));
      assertEquals(500_000, winner.getLong("reward_micro_usd"));
      assertEquals(500_000, ended.getJsonArray("standings").getJsonObject(1).getLong("reward_micro_usd"));
      // The rewards are ledger credits of the functions' developer (here the platform, which deployed both).
      JsonObject earnings = gw.get("/api/earnings?developer=platform").bodyAsJsonObject();
      assertEquals(1_000_000, earnings.getLong("credited_micro_usd"), earnings.encode());
      assertEquals(List.of("centroid", "logreg"), earnings.getJsonArray("credits").stream()
          .map(o -> ((JsonObject) o).getString("function")).sorted().toList());
      assertTrue(earnings.getJsonArray("credits").stream().allMatch(o -> contest.equals(((JsonObject) o).getString("source"))
          && "contest_reward".equals(((JsonObject) o).getString("kind"))));
      assertEquals(earnings.getLong("earned_micro_usd") + 1_000_000, earnings.getLong("total_micro_usd"));
      assertEquals(106, row(board(gw, "score"), "logreg").getJsonObject("parts").getLong("points"));
      poll("the stream to show the contest points", () -> events.get(events.size() - 1),
          b -> row(b.getJsonArray("rows"), "logreg").getJsonObject("parts").getLong("points") == 106);

      assertError(gw.get("/api/leaderboard"), 400, "'category'");
      assertError(gw.get("/api/leaderboard?category=" + CATEGORY + "&sort=size"), 400, "'sort'");
      http.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static long sum(JsonArray matrix) {
    long s = 0;
    for (Object row : matrix) {
      for (Object x : (JsonArray) row) {
        s += ((Number) x).longValue();
      }
    }
    return s;
  }

  private static JsonObject doneRun(TestGateway gw, String fn) throws Exception {
    JsonArray runs = poll("a finished benchmark of " + fn, () -> {
      try {
        return gw.get("/api/benchmarks?function=" + fn).bodyAsJsonObject().getJsonArray("runs");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, r -> r.stream().anyMatch(x -> !"running".equals(((JsonObject) x).getString("state"))));
    JsonObject run = runs.getJsonObject(0);
    assertEquals("done", run.getString("state"), run.encode());
    return run;
  }

  private static JsonArray board(TestGateway gw, String sort) {
    try {
      HttpResponse<Buffer> r = gw.get("/api/leaderboard?category=" + CATEGORY + "&sort=" + sort);
      assertEquals(200, r.statusCode(), r.bodyAsString());
      return r.bodyAsJsonObject().getJsonArray("rows");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> names(JsonArray rows) {
    return rows.stream().map(r -> ((JsonObject) r).getString("name")).toList();
  }

  private static JsonObject row(JsonArray rows, String name) {
    return rows.stream().map(r -> (JsonObject) r).filter(r -> r.getString("name").equals(name)).findFirst().orElseThrow();
  }

  private static HttpResponse<Buffer> post(TestGateway gw, String key, String path, JsonObject body) throws Exception {
    return gw.client.post(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).sendJsonObject(body)
        .await(60, TimeUnit.SECONDS);
  }

  private static HttpResponse<Buffer> get(TestGateway gw, String key, String path) throws Exception {
    return gw.client.get(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).send().await(60, TimeUnit.SECONDS);
  }

  private static HttpResponse<Buffer> put(TestGateway gw, String key, String path, JsonObject body) throws Exception {
    return gw.client.put(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).sendJsonObject(body)
        .await(60, TimeUnit.SECONDS);
  }
}
