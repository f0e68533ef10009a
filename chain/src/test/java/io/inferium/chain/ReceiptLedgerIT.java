package io.inferium.chain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.Database;
import io.inferium.infra.TestDatabase;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Receipts and epochs in a real PostgreSQL: idempotent recording, disjoint epochs under concurrency, proofs. */
class ReceiptLedgerIT {

  @Test
  void receiptsJoinOneEpochEachAndProveAgainstItsRoot() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      try {
        ReceiptLedger ledger = new ReceiptLedger(vertx, database.pool());
        for (int i = 0; i < 45; i++) {
          assertTrue(Eventually.await(ledger.record(receipt("req-" + i, i))));
        }
        assertFalse(Eventually.await(ledger.record(receipt("req-3", 999))), "a redelivered event records nothing");
        assertEquals(3, Eventually.await(ledger.find("req-3")).orElseThrow().receipt().chargeMicroUsd());
        assertTrue(Eventually.await(ledger.find("req-3")).orElseThrow().proven().isEmpty(), "no epoch yet");

        // Two closers at once (as two gateways would): the advisory lock keeps their epochs disjoint.
        List<Future<Optional<ReceiptEpoch>>> closing = List.of(ledger.closeEpoch(20), ledger.closeEpoch(20));
        List<ReceiptEpoch> epochs = new ArrayList<>();
        for (Future<Optional<ReceiptEpoch>> f : closing) {
          epochs.add(Eventually.await(f).orElseThrow());
        }
        epochs.add(Eventually.await(ledger.closeEpoch(20)).orElseThrow());
        assertTrue(Eventually.await(ledger.closeEpoch(20)).isEmpty(), "nothing left to close");
        assertEquals(Set.of(1L, 2L, 3L), new HashSet<>(epochs.stream().map(ReceiptEpoch::epoch).toList()));
        assertEquals(45, epochs.stream().mapToInt(ReceiptEpoch::count).sum());

        List<ReceiptLedger.PendingEpoch> pending = Eventually.await(ledger.pendingEpochs());
        assertEquals(List.of(1L, 2L, 3L), pending.stream().map(ReceiptLedger.PendingEpoch::epoch).toList());
        for (int i = 0; i < 45; i++) {
          ReceiptLedger.Stored stored = Eventually.await(ledger.find("req-" + i)).orElseThrow();
          ReceiptEpoch.Proven proven = stored.proven().orElseThrow();
          assertTrue(proven.verifiesLocally(), "req-" + i);
          ReceiptLedger.PendingEpoch its = pending.stream().filter(p -> p.epoch() == proven.epoch()).findFirst().orElseThrow();
          assertArrayEquals(its.root(), proven.root(), "the proof is against the stored root");
        }

        ReceiptLedger.PendingEpoch first = pending.get(0);
        Eventually.await(ledger.markAnchored(new Anchorer.Anchored(1, first.root(), "0xabc", 17, false)));
        Eventually.await(ledger.markAnchored(new Anchorer.Anchored(1, first.root(), "0xdef", 99, true)));
        assertEquals(List.of(2L, 3L), Eventually.await(ledger.pendingEpochs()).stream().map(ReceiptLedger.PendingEpoch::epoch).toList());
        String inFirst = Eventually.await(ledger.find("req-0")).orElseThrow().proven().orElseThrow().epoch() == 1 ? "req-0" : null;
        if (inFirst != null) {
          ReceiptLedger.Stored anchored = Eventually.await(ledger.find(inFirst)).orElseThrow();
          assertEquals(Optional.of("0xabc"), anchored.transactionHash(), "the first anchoring stays");
          assertEquals(Optional.of(17L), anchored.blockNumber());
        }
        assertTrue(Eventually.await(ledger.find("nope")).isEmpty());
      } finally {
        database.close().await(30, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aConsumerBatchIsRecordedOnceWithItsTenantAndTheOutboxKeepsFailures() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      try {
        ReceiptLedger ledger = new ReceiptLedger(vertx, database.pool());
        assertEquals(0, Eventually.await(ledger.recordAll(List.of())));
        List<ReceiptLedger.Entry> batch = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          batch.add(new ReceiptLedger.Entry(receipt("b-" + i, i), i % 2 == 0 ? "acme" : null));
        }
        batch.add(new ReceiptLedger.Entry(receipt("b-1", 999), "intruder")); // the same id twice in one batch
        assertEquals(6, Eventually.await(ledger.recordAll(batch)));
        assertEquals(0, Eventually.await(ledger.recordAll(batch)), "a redelivered batch records nothing");
        ReceiptLedger.Stored one = Eventually.await(ledger.find("b-1")).orElseThrow();
        assertEquals(1, one.receipt().chargeMicroUsd(), "the first receipt of an id stays");
        assertTrue(one.tenantId().isEmpty(), "platform keys have no tenant");
        assertEquals(Optional.of("acme"), Eventually.await(ledger.find("b-2")).orElseThrow().tenantId());
        ReceiptLedger.Backlog backlog = Eventually.await(ledger.backlog());
        assertEquals(6, backlog.unassigned());
        assertEquals(0, backlog.unanchored());

        ReceiptEpoch epoch = Eventually.await(ledger.closeEpoch(4)).orElseThrow();
        assertEquals(List.of("b-0", "b-1", "b-2", "b-3"), List.of("b-0", "b-1", "b-2", "b-3").stream()
            .filter(epoch::contains).toList(), "the oldest receipts, in the batch's order");
        Eventually.await(ledger.anchorFailed(epoch.epoch(), "ConnectException: Failed to connect"));
        Eventually.await(ledger.anchorFailed(epoch.epoch(), "x".repeat(2_000)));
        ReceiptLedger.Stored queued = Eventually.await(ledger.find("b-0")).orElseThrow();
        assertEquals(2, queued.anchoring().attempts());
        assertEquals(500, queued.anchoring().lastError().length(), "errors are kept bounded");
        backlog = Eventually.await(ledger.backlog());
        assertEquals(2, backlog.unassigned());
        assertEquals(1, backlog.unanchored());
      } finally {
        database.close().await(30, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  /**
   * The race a range epoch must survive: batches committing while epochs close (sequence values are handed out
   * before commit). Every receipt ends in exactly one epoch and proves against its root; nothing is left over.
   */
  @Test
  void epochsClosedWhileBatchesCommitMissNoReceipt() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      try {
        ReceiptLedger one = new ReceiptLedger(vertx, database.pool());
        ReceiptLedger two = new ReceiptLedger(vertx, database.pool()); // a second gateway on the same database
        List<Future<?>> work = new ArrayList<>();
        int batches = 40;
        int perBatch = 15;
        for (int b = 0; b < batches; b++) {
          List<ReceiptLedger.Entry> batch = new ArrayList<>();
          for (int i = 0; i < perBatch; i++) {
            batch.add(new ReceiptLedger.Entry(receipt("c-" + b + "-" + i, i), "acme"));
          }
          work.add((b % 2 == 0 ? one : two).recordAll(batch));
          work.add((b % 2 == 0 ? two : one).closeEpoch(23));
        }
        Eventually.await(Future.all(work));
        while (Eventually.await(one.closeEpoch(23)).isPresent()) {
          // close what is left
        }
        assertEquals(0, Eventually.await(one.backlog()).unassigned());
        Set<Long> epochs = new HashSet<>();
        for (int b = 0; b < batches; b++) {
          for (int i = 0; i < perBatch; i++) {
            ReceiptEpoch.Proven proven = Eventually.await(two.find("c-" + b + "-" + i)).orElseThrow().proven()
                .orElseThrow(() -> new AssertionError("a receipt in no epoch"));
            assertTrue(proven.verifiesLocally());
            epochs.add(proven.epoch());
          }
        }
        long inEpochs = Eventually.await(database.pool().query("SELECT COALESCE(SUM(receipts), 0) AS n FROM receipt_epochs")
            .execute()).iterator().next().getLong("n");
        assertEquals(batches * perBatch, inEpochs, "each receipt in exactly one epoch");
        assertTrue(epochs.size() >= batches * perBatch / 23, "epochs: " + epochs.size());
      } finally {
        database.close().await(30, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  /**
   * The race itself, held open: a batch has its seq but has not committed when a later one commits and an epoch
   * closes. The closer must wait for it (the insert lock); an epoch ending past it would leave it in no epoch.
   */
  @Test
  void anEpochWaitsForABatchThatHasItsSeqButHasNotCommitted() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      try {
        ReceiptLedger ledger = new ReceiptLedger(vertx, database.pool());
        io.vertx.sqlclient.SqlConnection conn = Eventually.await(database.pool().getConnection());
        io.vertx.sqlclient.Transaction open = Eventually.await(conn.begin());
        assertEquals(1, Eventually.await(ReceiptLedger.insertIn(conn,
            ReceiptLedger.columnsOf(List.of(new ReceiptLedger.Entry(receipt("early", 1), null))))));
        assertTrue(Eventually.await(ledger.record(receipt("late", 2))), "a later batch commits first, with a higher seq");
        Future<Optional<ReceiptEpoch>> closing = ledger.closeEpoch(10);
        Thread.sleep(500);
        assertFalse(closing.isComplete(), "the closer waits for the batch in flight");
        Eventually.await(open.commit());
        conn.close();
        ReceiptEpoch epoch = Eventually.await(closing).orElseThrow();
        assertEquals(List.of("early", "late"), List.of(epoch.requestIds()), "both, in seq order");
        assertTrue(Eventually.await(ledger.find("early")).orElseThrow().proven().orElseThrow().verifiesLocally());
      } finally {
        database.close().await(30, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** An epoch closed before V29 (membership on the receipt rows, body stored as jsonb text) still proves. */
  @Test
  void anEpochClosedBeforeRangesStillProvesAndNewEpochsSkipItsReceipts() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      try {
        ReceiptLedger ledger = new ReceiptLedger(vertx, database.pool());
        List<Receipt> old = List.of(receipt("old-0", 1), receipt("old-1", 2), receipt("old-2", 3));
        ReceiptEpoch legacy = ReceiptEpoch.of(1, List.of(old.get(0), old.get(2)));
        Eventually.await(database.pool().preparedQuery("INSERT INTO receipt_epochs (epoch, root, receipts) VALUES (1, $1, 2)")
            .execute(io.vertx.sqlclient.Tuple.of(io.vertx.core.buffer.Buffer.buffer(legacy.root()))));
        for (Receipt r : old) { // as V25/V26 wrote them, the jsonb body turned into text by V29
          Eventually.await(database.pool().preparedQuery("INSERT INTO receipts (request_id, leaf, body, epoch) "
                  + "VALUES ($1, $2, $3::text::jsonb::text, $4)")
              .execute(io.vertx.sqlclient.Tuple.of(r.requestId(), io.vertx.core.buffer.Buffer.buffer(r.leaf()),
                  r.toJson().encode(), r.requestId().equals("old-1") ? null : 1L)));
        }
        Eventually.await(ledger.record(receipt("new-0", 4)));
        ReceiptEpoch.Proven inLegacy = Eventually.await(ledger.find("old-2")).orElseThrow().proven().orElseThrow();
        assertEquals(1, inLegacy.epoch());
        assertArrayEquals(legacy.root(), inLegacy.root());
        assertTrue(inLegacy.verifiesLocally());

        ReceiptEpoch next = Eventually.await(ledger.closeEpoch(10)).orElseThrow();
        assertEquals(2, next.epoch());
        assertEquals(List.of("old-1", "new-0"), List.of(next.requestIds()), "the unassigned old receipt and the new one");
        for (String id : List.of("old-0", "old-1", "old-2", "new-0")) {
          ReceiptEpoch.Proven p = Eventually.await(ledger.find(id)).orElseThrow().proven().orElseThrow();
          assertEquals(id.equals("old-0") || id.equals("old-2") ? 1 : 2, p.epoch(), id);
          assertTrue(p.verifiesLocally(), id);
        }
        assertTrue(Eventually.await(ledger.closeEpoch(10)).isEmpty());
      } finally {
        database.close().await(30, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  private static Receipt receipt(String id, long charge) {
    return new Receipt(id, "fn", 1, "ab".repeat(32), null, "cd".repeat(32), List.of("w-1"), "{\"sig\":\"x\"}", "agree",
        1, charge, Instant.parse("2026-12-05T01:00:00Z"));
  }
}
