package io.inferium.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.CompletionEvent;
import io.inferium.infra.Database;
import io.inferium.infra.events.EventLog;
import io.inferium.infra.testing.MigratedDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageMeterIT {

  @TempDir
  Path dir;

  private static UsageEvent event(String id, String tenant, long charge) {
    return new UsageEvent(id, tenant, "f", 1, "dev", "request", 1, 1500, charge, Instant.now());
  }

  /** The completion event that bills {@code e}, as the engine's emitter builds it. */
  static CompletionEvent completion(UsageEvent e) {
    CompletionEvent.Builder b = CompletionEvent.builder(e.id(), e.function(), e.version(), e.owner(), "ab12")
        .at(e.at()).tenant(e.tenantId()).endpoint("v2.infer", e.modality()).charge(e.units(), e.computeUs(),
            e.chargeMicroUsd());
    e.workers().forEach(b::worker);
    return b.build();
  }

  /** What the engine's emitter does for one answered request: tell the meter, append the completion event. */
  static io.vertx.core.Future<Void> record(UsageMeter meter, EventLog events, UsageEvent e) {
    meter.expect(e.id());
    return events.append(EventLog.COMPLETIONS, e.id(), completion(e).toJson())
        .onFailure(err -> meter.abandon(e.id()));
  }

  @Test
  void aRedeliveredEventIsCountedOnceAndTenantsSeeOnlyTheirOwn() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, new SimpleMeterRegistry());
      meter.start().await(10, TimeUnit.SECONDS);
      record(meter, events, event("r1", "acme", 100));
      record(meter, events, event("r1", "acme", 100));
      record(meter, events, event("r2", "acme", 100));
      record(meter, events, event("r3", "globex", 7));
      meter.flush().await(10, TimeUnit.SECONDS);
      record(meter, events, event("r2", "acme", 100));
      meter.flush().await(10, TimeUnit.SECONDS);
      assertEquals(0, meter.pendingCount());
      Instant from = Instant.now().minusSeconds(60);
      Instant to = Instant.now().plusSeconds(60);
      JsonObject acme = meter.summary("acme", false, from, to, "function").await(10, TimeUnit.SECONDS);
      assertEquals(2, acme.getLong("requests"), "r1 and r2 once each, however often they were delivered");
      assertEquals(200, acme.getLong("charge_micro_usd"));
      JsonObject all = meter.summary(null, true, from, to, "day").await(10, TimeUnit.SECONDS);
      assertEquals(3, all.getLong("requests"));
      assertEquals(207, all.getLong("charge_micro_usd"));
      meter.stop().await(10, TimeUnit.SECONDS);
      events.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aReplayedCompletionIsStoredOnceAndAnAbandonedOneIsNotWaitedFor() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, new SimpleMeterRegistry());
      meter.start().await(10, TimeUnit.SECONDS);
      UsageEvent once = event("durable", "acme", 5);
      record(meter, events, once).await(10, TimeUnit.SECONDS);
      meter.flush().await(10, TimeUnit.SECONDS);
      // The same event again, as a relay resending after a crash or a consumer redelivering a batch: one row.
      record(meter, events, once).await(10, TimeUnit.SECONDS);
      meter.insert(java.util.List.of(UsageEvent.of(completion(once)))).await(10, TimeUnit.SECONDS);
      meter.flush().await(10, TimeUnit.SECONDS);
      meter.stop().await(10, TimeUnit.SECONDS);
      // A log that cannot take the event (closed here; full or failing disk alike): nothing waits for it.
      events.close().await(10, TimeUnit.SECONDS);
      assertTrue(record(meter, events, event("lost", "acme", 7))
          .transform(ar -> io.vertx.core.Future.succeededFuture(ar.failed())).await(10, TimeUnit.SECONDS));
      assertEquals(0, meter.pendingCount(), "no event waits in memory for a retry");
      meter.flush(100).await(10, TimeUnit.SECONDS);
      Instant from = Instant.now().minusSeconds(60);
      JsonObject acme = meter.summary("acme", false, from, Instant.now().plusSeconds(60), "function")
          .await(10, TimeUnit.SECONDS);
      assertEquals(1, acme.getLong("requests"));
      assertEquals(5, acme.getLong("charge_micro_usd"));
    }
  }

  @Test
  void anUpgradedDataDirectoryDrainsItsUsageTopicAndSkipsUnversionedCompletions() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      // What an older gateway left: usage events not yet stored, and its fire-and-forget completion copies.
      EventLog old = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageEvent pending = event("old-1", "acme", 11);
      old.append(EventLog.USAGE, pending.id(), pending.toJson()).await(10, TimeUnit.SECONDS);
      old.append(EventLog.COMPLETIONS, "old-1", new JsonObject().put("specversion", "1.0").put("id", "old-1")
          .put("source", "inferium/gateway").put("type", CompletionEvent.TYPE).put("time", Instant.now().toString())
          .put("data", new JsonObject().put("function", "f").put("version", 1).put("tenant_id", "acme")
              .put("units", 1).put("charge_micro_usd", 11))).await(10, TimeUnit.SECONDS);
      // An answer the old gateway sent unbilled has only the copy: it must stay unbilled.
      old.append(EventLog.COMPLETIONS, "old-2", new JsonObject().put("specversion", "1.0").put("id", "old-2")
          .put("source", "inferium/gateway").put("type", CompletionEvent.TYPE).put("time", Instant.now().toString())
          .put("data", new JsonObject().put("function", "f").put("version", 1).put("tenant_id", "acme")
              .put("units", 1).put("charge_micro_usd", 13))).await(10, TimeUnit.SECONDS);
      old.close().await(10, TimeUnit.SECONDS);

      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, registry);
      meter.start().await(10, TimeUnit.SECONDS);
      record(meter, events, event("new-1", "acme", 100)).await(10, TimeUnit.SECONDS);
      meter.flush().await(10, TimeUnit.SECONDS);
      Instant from = Instant.now().minusSeconds(60);
      Instant to = Instant.now().plusSeconds(60);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      JsonObject sum;
      do {
        assertTrue(System.nanoTime() < deadline, "the legacy usage event was not drained");
        sum = meter.summary("acme", false, from, to, "function").await(10, TimeUnit.SECONDS);
      } while (sum.getLong("requests") < 2);
      assertEquals(2, sum.getLong("requests"), "old-1 from the usage topic and new-1, not old-2");
      assertEquals(111, sum.getLong("charge_micro_usd"));
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (registry.counter("inferium.usage.legacy.skipped").count() < 2) {
        assertTrue(System.nanoTime() < deadline, "the unversioned completions were not seen");
        Thread.sleep(20);
      }
      assertEquals(0.0, registry.counter("inferium.usage.malformed").count());
      meter.stop().await(10, TimeUnit.SECONDS);
      events.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void usageAppendedBeforeAStopIsStoredByTheNextProcessOnce() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      // The first "process" records but never consumes (it dies before its consumer ran).
      EventLog first = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter before = new UsageMeter(vertx, database.pool(), first, new SimpleMeterRegistry());
      for (int i = 0; i < 50; i++) {
        record(before, first, event("e" + i, "acme", 3));
      }
      first.close().await(10, TimeUnit.SECONDS);

      EventLog second = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter after = new UsageMeter(vertx, database.pool(), second, new SimpleMeterRegistry());
      after.start().await(10, TimeUnit.SECONDS);
      Instant from = Instant.now().minusSeconds(60);
      Instant to = Instant.now().plusSeconds(60);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      JsonObject sum;
      do {
        assertTrue(System.nanoTime() < deadline, "the 50 events were not stored after the restart");
        sum = after.summary("acme", false, from, to, "function").await(10, TimeUnit.SECONDS);
      } while (sum.getLong("requests") < 50);
      assertEquals(50, sum.getLong("requests"));
      assertEquals(150, sum.getLong("charge_micro_usd"));
      after.stop().await(10, TimeUnit.SECONDS);
      second.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void everyStoredChargeIsSplitIntoPayoutRowsThatAddUpOnceWithTheBurnMarked() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, new SimpleMeterRegistry())
          .payouts(new PayoutLedger(RevenueSplit.DEFAULT, true));
      meter.start().await(10, TimeUnit.SECONDS);
      Instant at = Instant.now();
      UsageEvent twoWorkers = new UsageEvent("p1", "acme", "f", 1, "dev", "request", 1, 10, 1001, at,
          java.util.List.of("w-1", "w-2"));
      UsageEvent noWorker = new UsageEvent("p2", "acme", "f", 1, "dev", "request", 1, 10, 7, at);
      record(meter, events, twoWorkers);
      record(meter, events, noWorker);
      record(meter, events, twoWorkers);
      meter.flush().await(10, TimeUnit.SECONDS);
      // A batch delivered again (as after a crash before the commit) adds no row.
      meter.insert(java.util.List.of(twoWorkers, noWorker)).await(10, TimeUnit.SECONDS);

      // Summed per party: p1's shares (recorded twice, stored once) and p2's, whatever batches they came in.
      java.util.Map<String, Long> amounts = new java.util.HashMap<>();
      java.util.Map<String, Long> requests = new java.util.HashMap<>();
      java.util.Map<String, Boolean> burned = new java.util.HashMap<>();
      database.pool().query("SELECT role, party, sum(amount_micro_usd)::bigint AS amount, sum(requests)::bigint AS n, "
              + "bool_and(burned) AS burned FROM payouts GROUP BY role, party").execute()
          .await(10, TimeUnit.SECONDS).forEach(r -> {
            String k = r.getString("role") + "/" + r.getString("party");
            amounts.put(k, r.getLong("amount"));
            requests.put(k, r.getLong("n"));
            burned.put(k, r.getBoolean("burned"));
          });
      assertEquals(java.util.Map.of("developer/dev", 704L, "operator/w-1", 100L, "operator/w-2", 100L,
          "platform/platform", 104L), amounts);
      assertEquals(java.util.Map.of("developer/dev", 2L, "operator/w-1", 1L, "operator/w-2", 1L,
          "platform/platform", 2L), requests);
      assertTrue(burned.get("platform/platform") && !burned.get("developer/dev"), "only the platform's share burns");
      Invoices invoices = new Invoices(database.pool(), RevenueSplit.DEFAULT);
      JsonObject totals = invoices.payoutTotals(at.minusSeconds(60), at.plusSeconds(60)).await(10, TimeUnit.SECONDS);
      assertEquals(1008, totals.getLong("total_micro_usd"), "payouts sum to the charges: " + totals.encode());
      assertEquals(104, totals.getLong("burned_micro_usd"));
      assertEquals(704, invoices.earnings("dev", at.minusSeconds(60), at.plusSeconds(60)).await(10, TimeUnit.SECONDS)
          .getLong("earned_micro_usd"));
      meter.stop().await(10, TimeUnit.SECONDS);
      events.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBatchesPayoutRowsSumItsNewRequestsPerPartyAndSecondAndAReplayAddsNothing() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Database database = db.database();
      EventLog events = EventLog.local(db.vertx(), dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter meter = new UsageMeter(db.vertx(), database.pool(), events, new SimpleMeterRegistry());
      PayoutLedger ledger = PayoutLedger.DEFAULT;
      // 600 requests over two UTC seconds, two developers' three functions, one or two workers each, odd charges.
      Instant second = Instant.parse("2026-12-05T10:00:00Z");
      java.util.List<UsageEvent> all = new java.util.ArrayList<>();
      java.util.Random random = new java.util.Random(7);
      for (int i = 0; i < 600; i++) {
        Instant at = second.plusMillis(500 + i * 2L); // 10:00:00.500 .. 10:00:01.698
        java.util.List<String> workers = i % 3 == 0 ? java.util.List.of("w-a", "w-b") : java.util.List.of("w-" + (i % 2));
        all.add(new UsageEvent("r" + i, "t", "f" + (i % 3), 1, i % 3 == 2 ? "dev2" : "dev1", "request", 1, 10,
            1 + random.nextInt(5000), at, workers));
      }
      java.util.List<UsageEvent> firstHalf = all.subList(0, 300);
      meter.insert(firstHalf).await(10, TimeUnit.SECONDS);
      // Redelivered with the rest: only the 300 new ones add shares.
      meter.insert(all).await(10, TimeUnit.SECONDS);
      meter.insert(all).await(10, TimeUnit.SECONDS);

      java.util.Map<String, Long> expected = new java.util.TreeMap<>();
      java.util.Map<String, Long> expectedRequests = new java.util.TreeMap<>();
      for (UsageEvent e : all) {
        for (PayoutLedger.Share s : ledger.shares(e)) {
          expected.merge(s.role() + "/" + s.party() + "/" + e.function(), s.amount(), Long::sum);
          expectedRequests.merge(s.role() + "/" + s.party() + "/" + e.function(), 1L, Long::sum);
        }
      }
      java.util.Map<String, Long> amounts = new java.util.TreeMap<>();
      java.util.Map<String, Long> requests = new java.util.TreeMap<>();
      io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> rows = database.pool().query("SELECT role, party, "
          + "function_name, requests, amount_micro_usd, at FROM payouts").execute().await(10, TimeUnit.SECONDS);
      rows.forEach(r -> {
        String k = r.getString("role") + "/" + r.getString("party") + "/" + r.getString("function_name");
        amounts.merge(k, r.getLong("amount_micro_usd"), Long::sum);
        requests.merge(k, (long) r.getInteger("requests"), Long::sum);
      });
      assertEquals(expected, amounts, "each request's shares, once");
      assertEquals(expectedRequests, requests);
      // Two batches with new rows, each split at the second: at most 2 × 2 rows per (role, party, function).
      assertTrue(rows.size() <= 4 * expected.size(), rows.size() + " rows for " + expected.size() + " keys");
      long charges = all.stream().mapToLong(UsageEvent::chargeMicroUsd).sum();
      Invoices invoices = new Invoices(database.pool(), RevenueSplit.DEFAULT);
      assertEquals(charges, invoices.payoutTotals(second, second.plusSeconds(2)).await(10, TimeUnit.SECONDS)
          .getLong("total_micro_usd"));
      // No row spans a second: a period ending at 10:00:01 holds exactly the requests before it.
      JsonObject early = invoices.earnings("dev1", second, second.plusSeconds(1)).await(10, TimeUnit.SECONDS);
      java.util.List<UsageEvent> before = all.stream()
          .filter(e -> e.at().isBefore(second.plusSeconds(1)) && e.owner().equals("dev1")).toList();
      long requestsBefore = early.getJsonArray("functions").stream()
          .mapToLong(f -> ((JsonObject) f).getLong("requests")).sum();
      long chargeBefore = early.getJsonArray("functions").stream()
          .mapToLong(f -> ((JsonObject) f).getLong("charge_micro_usd")).sum();
      assertEquals(before.size(), requestsBefore);
      assertEquals(before.stream().mapToLong(UsageEvent::chargeMicroUsd).sum(), chargeBefore);
      assertEquals(before.stream().mapToLong(e -> ledger.shares(e).get(0).amount()).sum(),
          early.getLong("earned_micro_usd"));
      events.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aFlushEndsOnItsCallersContextWhileTheMeterStoresOnItsOwn() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, new SimpleMeterRegistry());
      // As the gateway runs it: consuming on a worker context of its own.
      String consumer = vertx.deployVerticle(new io.vertx.core.VerticleBase() {
        @Override
        public io.vertx.core.Future<?> start() {
          return meter.start();
        }

        @Override
        public io.vertx.core.Future<?> stop() {
          return meter.stop();
        }
      }, new io.vertx.core.DeploymentOptions().setThreadingModel(io.vertx.core.ThreadingModel.WORKER))
          .await(10, TimeUnit.SECONDS);
      io.vertx.core.Context caller = vertx.getOrCreateContext();
      java.util.concurrent.CompletableFuture<Object> endedOn = new java.util.concurrent.CompletableFuture<>();
      caller.runOnContext(v -> {
        record(meter, events, event("ctx-1", "acme", 3));
        meter.flush().onComplete(ar -> endedOn.complete(ar.succeeded() ? Vertx.currentContext() : ar.cause()));
      });
      assertSame(caller, endedOn.get(10, TimeUnit.SECONDS), "the wait for stored usage ends where it began");
      vertx.undeploy(consumer).await(10, TimeUnit.SECONDS);
      events.close().await(10, TimeUnit.SECONDS);
    }
  }
}
