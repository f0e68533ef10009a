package io.inferium.scoring.board;

import static io.inferium.infra.testing.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.Database;
import io.inferium.infra.testing.MigratedDatabase;
import io.inferium.scoring.ScoringException;
import io.inferium.scoring.eval.EvalDataset;
import io.inferium.scoring.eval.EvalStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ContestStoreIT {

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

  private static void run(EvalStore evals, String ds, String fn, double accuracy) {
    String id = await(evals.startRun(ds, fn, 1, "tabular", "contest"));
    await(evals.finishRun(id, new EvalStore.RunResult(new JsonObject().put("accuracy", accuracy), "f1_macro", accuracy,
        10, 1, 1, 1), 0.02));
  }

  @Test
  void standingsFollowRunsAndTheEndCreditsPointsAndRewardsOnce() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      EvalStore evals = new EvalStore(database.pool());
      ContestStore contests = new ContestStore(database.pool());
      PointsStore points = new PointsStore(database.pool());
      EvalStore.Dataset ds = await(evals.createDataset("d", "tabular", null, null, "csv",
          EvalDataset.parse("csv", "x,expected\n1,a\n")));
      EvalStore.Dataset own = await(evals.createDataset("own", null, "f1", null, "csv",
          EvalDataset.parse("csv", "x,expected\n1,a\n")));
      OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);

      assertEquals(400, status(contests.create("c", "tabular", ds.id(), "bleu", now, now.plusHours(1), 0, null, false)));
      assertEquals(400, status(contests.create("c", "tabular", own.id(), "accuracy", now, now.plusHours(1), 0, null, false)));
      assertEquals(400, status(contests.create("c", "tabular", ds.id(), "accuracy", now, now.minusHours(1), 0, null, false)));
      assertEquals(400, status(contests.create("c", "tabular", ds.id(), "accuracy", now, now.plusHours(1), 0, null, true)),
          "a private contest needs an owner tenant");

      ContestStore.Contest c = await(contests.create("iris cup", "tabular", ds.id(), "accuracy", now.minusMinutes(1),
          now.plusHours(1), 1000, "acme", true));
      assertTrue(c.visibleTo("acme", false));
      assertFalse(c.visibleTo("globex", false), "private: only the owner tenant sees it");
      assertTrue(c.visibleTo(null, true));
      await(contests.enter(c, "f1", "acme"));
      await(contests.enter(c, "f2", "acme"));
      await(contests.enter(c, "f3", "acme"));
      assertEquals(409, status(contests.enter(c, "f1", "acme")));

      run(evals, ds.id(), "f1", 0.80);
      run(evals, ds.id(), "f2", 0.90);
      List<ContestStandings.Place> live = await(contests.standings(c));
      assertEquals(List.of("f2", "f1", "f3"), live.stream().map(ContestStandings.Place::function).toList());
      assertEquals(0, live.get(0).points(), "nothing is credited before the end");
      run(evals, ds.id(), "f1", 0.95);
      assertEquals("f1", await(contests.standings(c)).get(0).function(), "standings follow the latest run");

      // 1000 µ$: half to the winner, the other half to the one other scored entry; f3 never ran.
      List<ContestStandings.Place> fin = await(contests.finish(c, f -> f.equals("f1") ? "acme" : null));
      assertEquals(List.of(500L, 500L, 0L), fin.stream().map(ContestStandings.Place::rewardMicroUsd).toList());
      assertEquals(List.of(100, 50, 0), fin.stream().map(ContestStandings.Place::points).toList());
      ContestStore.Contest done = await(contests.get(c.id())).orElseThrow();
      assertTrue(done.finished());
      await(contests.finish(done));
      assertEquals(fin, await(contests.standings(done)), "finished contests keep their recorded places");
      // Rewards are ledger credits, once: f1's developer acme and (f2 having no developer tenant) the platform.
      var credits = await(database.pool().query("SELECT party, function_name, amount_micro_usd FROM credits ORDER BY party")
          .execute());
      assertEquals(2, credits.rowCount());
      var rows = credits.iterator();
      var acme = rows.next();
      var platform = rows.next();
      assertEquals(List.of("acme", "f1", 500L), List.of(acme.getString(0), acme.getString(1), acme.getLong(2)));
      assertEquals(List.of("platform", "f2", 500L), List.of(platform.getString(0), platform.getString(1), platform.getLong(2)));
      var counts = await(points.counts(List.of("f1", "f2", "f3")));
      assertEquals(1L, counts.get("contest_win").get("f1"));
      assertEquals(1L, counts.get("contest_top5").get("f2"));
      assertEquals(409, status(contests.enter(done, "f4", "acme")), "a finished contest takes no entries");

      ContestStore.Contest past = await(contests.create("old", "tabular", ds.id(), "mse", now.minusHours(2),
          now.minusHours(1), 0, null, false));
      assertEquals(List.of(past.id()), await(contests.due()).stream().map(ContestStore.Contest::id).toList());

    }
  }
}
