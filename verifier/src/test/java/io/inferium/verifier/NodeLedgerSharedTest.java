package io.inferium.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.inferium.infra.testing.MigratedDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two gateways' ledgers on one database (as with {@code --shared-db}) judging the same nodes at the same time: every
 * step of each is stored (none overwrites the other's), and a stake deposited meanwhile is kept. Each ledger keeps
 * its own view in memory; before the rows were locked and read in the step's transaction, the later writer's view
 * overwrote the earlier one's reward, slash or deposit.
 */
class NodeLedgerSharedTest {

  private static Consensus.Verdict verdict(List<Integer> agreeing, List<Integer> outliers) {
    int n = agreeing.size() + outliers.size();
    double[][] matrix = new double[n][n];
    for (double[] row : matrix) {
      java.util.Arrays.fill(row, 1.0);
    }
    return new Consensus.Verdict(Consensus.Kind.VERIFIED, agreeing, outliers, 1.0, matrix);
  }

  @Test
  void twoLedgersJudgingTheSameNodesAtOnceLoseNoStepAndKeepADeposit() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      db.database().pool().query("TRUNCATE nodes, node_events, node_reinstatements").execute().await(60, TimeUnit.SECONDS);
      LedgerSettings settings = LedgerSettings.defaults();
      NodeLedger a = new NodeLedger(db.database().pool(), settings, new SimpleMeterRegistry());
      NodeLedger b = new NodeLedger(db.database().pool(), settings, new SimpleMeterRegistry());
      for (String n : List.of("x", "y", "z")) {
        a.register(n, null).await(60, TimeUnit.SECONDS);
      }
      a.load().await(60, TimeUnit.SECONDS);
      b.load().await(60, TimeUnit.SECONDS);

      // Gateway a: 30 tasks where x and y agree. Gateway b: 3 where y and z outvote x, 27 where x and z agree.
      // Both at once, and a deposit to x on a in the middle.
      List<Future<?>> all = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        all.add(a.record("a-" + i, verdict(List.of(0, 1), List.of()), List.of("x", "y"), List.of("h", "h")));
        boolean outvoted = i % 10 == 0;
        all.add(outvoted
            ? b.record("b-" + i, verdict(List.of(1, 2), List.of(0)), List.of("x", "y", "z"), List.of("bad", "h", "h"))
            : b.record("b-" + i, verdict(List.of(0, 1), List.of()), List.of("x", "z"), List.of("h", "h")));
        if (i == 15) {
          all.add(a.deposit("x", 7_000));
        }
      }
      Future.all(all).await(60, TimeUnit.SECONDS);

      long reward = settings.rewardMicroUsd();
      long slashed = settings.slashMicroUsd() * (1 + 2 + 4); // three slashes, each twice the one before
      Row x = row(db, "x");
      assertEquals(57, x.getInteger("verified_tasks"));
      assertEquals(3, x.getInteger("slashes"));
      assertEquals(settings.initialStakeMicroUsd() + 7_000 + 57 * reward - slashed, x.getLong("stake_micro_usd"));
      assertEquals(settings.initialStakeMicroUsd() + 33 * reward, row(db, "y").getLong("stake_micro_usd"));
      assertEquals(settings.initialStakeMicroUsd() + 30 * reward, row(db, "z").getLong("stake_micro_usd"));
      // Every step is an event whose stake deltas add up to the stored stake.
      for (String n : List.of("x", "y", "z")) {
        long deltas = db.database().pool().preparedQuery("SELECT COALESCE(sum(stake_delta_micro_usd), 0)::bigint FROM node_events "
                + "WHERE node_id = $1").execute(io.vertx.sqlclient.Tuple.of(n)).await(60, TimeUnit.SECONDS)
            .iterator().next().getLong(0);
        assertEquals(row(db, n).getLong("stake_micro_usd") - settings.initialStakeMicroUsd(), deltas, n);
      }
      // The slashes' amounts doubled with the stored count, whichever gateway decided them.
      List<Long> slashes = new ArrayList<>();
      db.database().pool().query("SELECT stake_delta_micro_usd FROM node_events WHERE node_id = 'x' AND kind = 'slash' "
          + "ORDER BY id").execute().await(60, TimeUnit.SECONDS).forEach(r -> slashes.add(-r.getLong(0)));
      assertEquals(List.of(settings.slashMicroUsd(), 2 * settings.slashMicroUsd(), 4 * settings.slashMicroUsd()), slashes);
      assertFalse(a.isEjected("x") || b.isEjected("x"), "three slashes leave x above the minimum reputation");
    }
  }

  private static Row row(MigratedDatabase db, String node) throws Exception {
    return db.database().pool().preparedQuery("SELECT * FROM nodes WHERE node_id = $1").execute(io.vertx.sqlclient.Tuple.of(node))
        .await(60, TimeUnit.SECONDS).iterator().next();
  }
}
