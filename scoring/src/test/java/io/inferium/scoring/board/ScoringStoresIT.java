package io.inferium.scoring.board;

import static io.inferium.infra.testing.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.Database;
import io.inferium.infra.testing.MigratedDatabase;
import io.inferium.scoring.ScoringException;
import io.inferium.scoring.arena.ArenaStore;
import io.inferium.scoring.eval.EvalDataset;
import io.inferium.scoring.eval.EvalStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ScoringStoresIT {

  private static int status(Future<?> f) {
    try {
      f.await(20, TimeUnit.SECONDS);
      return 200;
    } catch (ScoringException e) {
      return e.status();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void storesKeepOneVotePerUserCapVotesFlagDropsAndRankTheBoard() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      EvalStore evals = new EvalStore(database.pool());
      RatingStore ratings = new RatingStore(database.pool());
      ArenaStore arena = new ArenaStore(database.pool(), 3);
      PointsStore points = new PointsStore(database.pool());
      Leaderboard board = new Leaderboard(vertx, evals, ratings, arena, points, TotalScore.DEFAULT);

      // Benchmark history: 0.95 then 0.90 on the same dataset is a drop beyond 0.02.
      EvalStore.Dataset ds = await(evals.createDataset("tiny", "tabular", null, null, "csv",
          EvalDataset.parse("csv", "x,expected\n1,a\n2,b\n")));
      assertEquals(2, await(evals.rows(ds.id())).size());
      String r1 = await(evals.startRun(ds.id(), "alpha", 1, "tabular", "deploy"));
      JsonObject first = await(evals.finishRun(r1, new EvalStore.RunResult(new JsonObject(), "f1_macro", 0.95, 2, 1, 2, 20), 0.02));
      assertFalse(first.getBoolean("dropped"));
      String r2 = await(evals.startRun(ds.id(), "alpha", 1, "tabular", "schedule"));
      JsonObject second = await(evals.finishRun(r2, new EvalStore.RunResult(new JsonObject(), "f1_macro", 0.90, 2, 1, 2, 20), 0.02));
      assertTrue(second.getBoolean("dropped"));
      assertEquals(0.95, second.getDouble("previous_value"), 1e-12);
      String r3 = await(evals.startRun(ds.id(), "beta", 1, "tabular", "deploy"));
      await(evals.finishRun(r3, new EvalStore.RunResult(new JsonObject(), "f1_macro", 0.60, 2, 1, 2, 20), 0.02));
      assertEquals(2, await(evals.runs("alpha", 10)).size());

      // Ratings: one per user, editable; helpful feedback counts.
      assertTrue(await(ratings.rate("beta", "u1", 2, "meh")).getBoolean("created"));
      assertFalse(await(ratings.rate("beta", "u1", 5, "great")).getBoolean("created"), "the second rating edits the first");
      await(ratings.rate("beta", "u2", 4, null));
      await(ratings.markHelpful("beta", "u1", true));
      assertEquals(404, status(ratings.markHelpful("beta", "u2", true)), "no feedback text to mark");
      assertEquals(400, status(ratings.rate("beta", "u3", 6, null)));
      JsonObject betaRatings = await(ratings.list("beta"));
      assertEquals(4.5, betaRatings.getDouble("average"), 1e-12);
      assertEquals(1, betaRatings.getLong("helpful_feedback"));

      // Arena: beta wins both battles; a second vote on a battle is 409; the 4th vote of the day is 429.
      JsonObject models = new JsonObject().put("A", new JsonObject().put("function", "alpha").put("version", 1))
          .put("B", new JsonObject().put("function", "beta").put("version", 1));
      String b1 = await(arena.create("tabular", "u1", new JsonObject(), models));
      String b2 = await(arena.create("tabular", "u1", new JsonObject(), models));
      String b3 = await(arena.create("tabular", "u1", new JsonObject(), models));
      String b4 = await(arena.create("tabular", "u1", new JsonObject(), models));
      assertEquals(List.of("A", "B"), await(arena.battle(b1)).orElseThrow().functions().keySet().stream().sorted().toList());
      assertEquals(200, status(arena.vote(b1, "u1", Map.of("alpha", 2, "beta", 1), false)));
      assertEquals(409, status(arena.vote(b1, "u1", Map.of("alpha", 1, "beta", 2), false)));
      assertEquals(200, status(arena.vote(b2, "u1", Map.of("alpha", 2, "beta", 1), false)));
      assertEquals(200, status(arena.vote(b3, "u1", Map.of("alpha", 1, "beta", 1), true)));
      assertEquals(429, status(arena.vote(b4, "u1", Map.of("alpha", 1, "beta", 2), false)));
      assertEquals(3, await(arena.votes("tabular")).size());
      assertEquals(4L, await(arena.appearances("tabular")).get("alpha"));

      // Users: distinct tenants from completion events, through the leaderboard's own consumer group.
      io.inferium.infra.events.EventLog events = io.inferium.infra.events.EventLog.local(vertx,
          java.nio.file.Files.createTempDirectory("scoring-events-"), new SimpleMeterRegistry());
      LeaderboardUsers users = new LeaderboardUsers(database.pool(), events, new SimpleMeterRegistry());
      java.util.Set<String> gained = java.util.concurrent.ConcurrentHashMap.newKeySet();
      users.start(gained::addAll).await(10, TimeUnit.SECONDS);
      // e1 twice (a redelivery), a platform key (no tenant), an arena run and a benchmark: none adds a user.
      for (String[] e : new String[][] {{"e1", "acme", "alpha", "request"}, {"e1", "acme", "alpha", "request"},
          {"e2", "acme", "alpha", "text"}, {"e3", "globex", "alpha", "request"}, {"e4", "acme", "beta", "request"},
          {"e5", null, "beta", "request"}, {"e6", "initech", "beta", "arena"}, {"e7", "initech", "beta", "benchmark"}}) {
        await(events.append(io.inferium.infra.events.EventLog.COMPLETIONS, e[0], io.inferium.functions.CompletionEvent
            .builder(e[0], e[2], 1, null, "ab12").tenant(e[1]).endpoint("v2.infer", e[3]).charge(1, 10, 1).build().toJson()));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!gained.containsAll(List.of("alpha", "beta")) || await(points.users(List.of("alpha", "beta"))).get("alpha") < 2) {
        assertTrue(System.nanoTime() < deadline, "the completion events did not reach the users count");
        Thread.sleep(20);
      }
      await(users.stop());
      assertTrue(await(points.record("dl-1", "alpha", "download", 1)));
      assertFalse(await(points.record("dl-1", "alpha", "download", 1)), "an event counts once");

      JsonObject tab = await(board.board("tabular", List.of(
          new Leaderboard.Entry("alpha", "classifier", "tabular", List.of("x"), "dev-a"),
          new Leaderboard.Entry("beta", "classifier", "tabular", List.of("y"), "dev-b")), "score"));
      JsonArray rows = tab.getJsonArray("rows");
      JsonObject top = rows.getJsonObject(0);
      JsonObject second2 = rows.getJsonObject(1);
      // alpha points = 1 download + 2 arena seconds × 2 = 5; beta = 1 helpful + 3 rating + 2 × 3 = 10
      assertEquals(5, findRow(rows, "alpha").getJsonObject("parts").getLong("points"));
      assertEquals(10, findRow(rows, "beta").getJsonObject("parts").getLong("points"));
      // alpha: MS 100, US 50 → 70; beta: MS 66.67, US 100 → 26.67 + 60 = 86.67
      assertEquals(70.0, findRow(rows, "alpha").getDouble("score"), 0.01);
      assertEquals(86.67, findRow(rows, "beta").getDouble("score"), 0.01);
      assertEquals("beta", top.getString("name"));
      assertEquals(1, top.getInteger("rank"));
      assertEquals(2, second2.getInteger("rank"));
      assertEquals(2, findRow(rows, "alpha").getLong("users"));
      assertEquals(1, findRow(rows, "beta").getLong("users"));
      JsonObject betaArena = findRow(rows, "beta").getJsonObject("arena");
      assertTrue(betaArena.getDouble("rating") > findRow(rows, "alpha").getJsonObject("arena").getDouble("rating"));
      assertTrue(betaArena.getDouble("lower") <= betaArena.getDouble("rating"));
      JsonObject byMetric = await(board.board("tabular", List.of(
          new Leaderboard.Entry("alpha", "classifier", "tabular", List.of(), null),
          new Leaderboard.Entry("beta", "classifier", "tabular", List.of(), null)), "metric"));
      assertEquals("alpha", byMetric.getJsonArray("rows").getJsonObject(0).getString("name"));
      assertEquals(400, status(board.board("tabular", List.of(), "size")));

      // MS averages the latest run on each shared dataset: alpha 0.90 on the first, 0.70 on a second → 0.80.
      EvalStore.Dataset ds2 = await(evals.createDataset("tiny2", "tabular", null, null, "csv",
          EvalDataset.parse("csv", "x,expected\n3,a\n")));
      String r4 = await(evals.startRun(ds2.id(), "alpha", 1, "tabular", "manual"));
      await(evals.finishRun(r4, new EvalStore.RunResult(new JsonObject(), "f1_macro", 0.70, 1, 1, 2, 10), 0.02));
      var latest = await(evals.latestByFunction("tabular"));
      assertEquals(0.80, latest.get("alpha").getDouble("primary_value"), 1e-12);
      assertEquals(2, latest.get("alpha").getInteger("datasets"));
      assertEquals(0.60, latest.get("beta").getDouble("primary_value"), 1e-12);
      // A tenant's own category dataset counts for nobody's public score until an admin approves it,
      // is listed only to its owner, and applies only to the owner's functions (and contest entries).
      EvalStore.Dataset rigged = await(evals.createDataset("rigged", "tabular", null, "mallory", "csv",
          EvalDataset.parse("csv", "x,expected\n4,a\n")));
      assertFalse(rigged.approved());
      String r5 = await(evals.startRun(rigged.id(), "beta", 1, "tabular", "manual", "mallory"));
      await(evals.finishRun(r5, new EvalStore.RunResult(new JsonObject(), "f1_macro", 1.0, 1, 1, 2, 10), 0.02));
      assertEquals(0.60, await(evals.latestByFunction("tabular")).get("beta").getDouble("primary_value"), 1e-12,
          "the unapproved dataset is not averaged in");
      assertEquals(1L, await(evals.startedToday("mallory")));
      assertEquals(3, await(evals.datasets("tabular", null, "mallory", false)).size());
      assertEquals(2, await(evals.datasets("tabular", null, "victim", false)).size(), "mallory's dataset is hidden");
      assertEquals(2, await(evals.applicable("alpha", "tabular", "victim")).size(), "never run on another tenant's function");
      assertEquals(3, await(evals.applicable("beta", "tabular", "mallory")).size());
      assertTrue(await(evals.approve(rigged.id(), true)).orElseThrow().approved());
      assertEquals(0.80, await(evals.latestByFunction("tabular")).get("beta").getDouble("primary_value"), 1e-12,
          "approved: now it counts (0.60 and 1.0)");
      assertEquals(3, await(evals.datasets("tabular", null, "victim", false)).size());
      assertTrue(await(evals.approve("ds-none", true)).isEmpty());
      assertTrue(await(evals.lastRun("alpha", 1, ds2.id())).isPresent());
      assertTrue(await(evals.lastRun("alpha", 2, ds2.id())).isEmpty(), "a new version has not run yet");

      events.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static JsonObject findRow(JsonArray rows, String name) {
    for (int i = 0; i < rows.size(); i++) {
      if (rows.getJsonObject(i).getString("name").equals(name)) {
        return rows.getJsonObject(i);
      }
    }
    throw new AssertionError("no row " + name + " in " + rows.encode());
  }
}
