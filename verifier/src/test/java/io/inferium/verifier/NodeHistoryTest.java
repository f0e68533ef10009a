package io.inferium.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.testing.MigratedDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A node's ledger events read back in pages on PostgreSQL: newest first, keyed by id, bounded, per node. */
class NodeHistoryTest {

  @Test
  void pagesANodesEventsNewestFirstAndOnlyItsOwn() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      db.database().pool().query("TRUNCATE nodes, node_events, node_reinstatements").execute().await(60, TimeUnit.SECONDS);
      NodeLedger ledger = new NodeLedger(db.database().pool(), LedgerSettings.defaults(), new SimpleMeterRegistry());
      for (String n : List.of("a", "b")) {
        ledger.register(n, null).await(60, TimeUnit.SECONDS);
      }
      ledger.load().await(60, TimeUnit.SECONDS);
      for (long amount : List.of(1L, 2L, 3L)) {
        ledger.deposit("a", amount).await(60, TimeUnit.SECONDS);
      }
      ledger.deposit("b", 9).await(60, TimeUnit.SECONDS);
      ledger.penalize("a", "deadline_miss", "kept running after a cancel").await(60, TimeUnit.SECONDS);

      NodeHistory.Page first = ledger.history().page("a", null, 2).await(60, TimeUnit.SECONDS).orElseThrow();
      assertEquals(List.of("deadline_miss", "deposit"), first.events().stream().map(e -> e.getString("kind")).toList());
      JsonObject miss = first.events().get(0);
      assertEquals("kept running after a cancel", ((JsonObject) miss.getValue("evidence")).getString("detail"));
      assertTrue(miss.getDouble("reputation_after") < 1.0, miss.encode());
      assertEquals(3L, first.events().get(1).getLong("stake_delta_micro_usd"));
      NodeHistory.Page second = ledger.history().page("a", first.nextBefore(), 2).await(60, TimeUnit.SECONDS).orElseThrow();
      assertEquals(List.of(2L, 1L), second.events().stream().map(e -> e.getLong("stake_delta_micro_usd")).toList());
      assertNull(second.nextBefore(), "the last page says so");
      assertTrue(ledger.history().page("nobody", null, 10).await(60, TimeUnit.SECONDS).isEmpty());
      assertThrows(Exception.class, () -> ledger.history().page("a", null, NodeHistory.MAX_PAGE + 1).await(60, TimeUnit.SECONDS));
      assertThrows(Exception.class, () -> ledger.history().page("a", null, 0).await(60, TimeUnit.SECONDS));
    }
  }
}
