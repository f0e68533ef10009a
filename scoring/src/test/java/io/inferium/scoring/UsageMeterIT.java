package io.inferium.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.Database;
import io.inferium.infra.TestDatabase;
import io.inferium.infra.events.EventLog;
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

  @Test
  void aRedeliveredEventIsCountedOnceAndTenantsSeeOnlyTheirOwn() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, new SimpleMeterRegistry());
      meter.start().await(10, TimeUnit.SECONDS);
      meter.record(event("r1", "acme", 100));
      meter.record(event("r1", "acme", 100));
      meter.record(event("r2", "acme", 100));
      meter.record(event("r3", "globex", 7));
      meter.flush().await(10, TimeUnit.SECONDS);
      meter.record(event("r2", "acme", 100));
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
      database.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void recordCompletesWhenTheEventIsDurableAndSaysUnbilledWhenItCannotBeWritten() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, registry);
      meter.start().await(10, TimeUnit.SECONDS);
      assertTrue(meter.record(event("durable", "acme", 5)).await(10, TimeUnit.SECONDS), "durable in the log");
      meter.flush().await(10, TimeUnit.SECONDS);
      meter.stop().await(10, TimeUnit.SECONDS);
      // A log that cannot take the event (closed here; full or failing disk alike): unbilled, counted, nothing kept.
      events.close().await(10, TimeUnit.SECONDS);
      assertEquals(false, meter.record(event("lost", "acme", 7)).await(10, TimeUnit.SECONDS));
      assertEquals(1.0, registry.counter("inferium.usage.unbilled").count());
      assertEquals(0, meter.pendingCount(), "no event waits in memory for a retry");
      Instant from = Instant.now().minusSeconds(60);
      JsonObject acme = meter.summary("acme", false, from, Instant.now().plusSeconds(60), "function")
          .await(10, TimeUnit.SECONDS);
      assertEquals(1, acme.getLong("requests"));
      assertEquals(5, acme.getLong("charge_micro_usd"));
      database.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void usageAppendedBeforeAStopIsStoredByTheNextProcessOnce() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      // The first "process" records but never consumes (it dies before its consumer ran).
      EventLog first = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter before = new UsageMeter(vertx, database.pool(), first, new SimpleMeterRegistry());
      for (int i = 0; i < 50; i++) {
        before.record(event("e" + i, "acme", 3));
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
      database.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void everyStoredChargeIsSplitIntoPayoutRowsThatAddUpOnceWithTheBurnMarked() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, new SimpleMeterRegistry())
          .payouts(new PayoutLedger(RevenueSplit.DEFAULT, true));
      meter.start().await(10, TimeUnit.SECONDS);
      Instant at = Instant.now();
      UsageEvent twoWorkers = new UsageEvent("p1", "acme", "f", 1, "dev", "request", 1, 10, 1001, at,
          java.util.List.of("w-1", "w-2"));
      UsageEvent noWorker = new UsageEvent("p2", "acme", "f", 1, "dev", "request", 1, 10, 7, at);
      meter.record(twoWorkers);
      meter.record(noWorker);
      meter.record(twoWorkers);
      meter.flush().await(10, TimeUnit.SECONDS);
      // A batch delivered again (as after a crash before the commit) adds no row.
      meter.insert(java.util.List.of(twoWorkers, noWorker)).await(10, TimeUnit.SECONDS);

      java.util.Map<String, Long> amounts = new java.util.HashMap<>();
      java.util.Map<String, Boolean> burned = new java.util.HashMap<>();
      database.pool().query("SELECT usage_id, role, party, amount_micro_usd, burned FROM payouts").execute()
          .await(10, TimeUnit.SECONDS).forEach(r -> {
            String k = r.getString("usage_id") + "/" + r.getString("role") + "/" + r.getString("party");
            amounts.put(k, r.getLong("amount_micro_usd"));
            burned.put(k, r.getBoolean("burned"));
          });
      assertEquals(java.util.Map.of("p1/developer/dev", 700L, "p1/operator/w-1", 100L, "p1/operator/w-2", 100L,
          "p1/platform/platform", 101L, "p2/developer/dev", 4L, "p2/platform/platform", 3L), amounts);
      assertTrue(burned.get("p1/platform/platform") && !burned.get("p1/developer/dev"), "only the platform's share burns");
      Invoices invoices = new Invoices(database.pool(), RevenueSplit.DEFAULT);
      JsonObject totals = invoices.payoutTotals(at.minusSeconds(60), at.plusSeconds(60)).await(10, TimeUnit.SECONDS);
      assertEquals(1008, totals.getLong("total_micro_usd"), "payouts sum to the charges: " + totals.encode());
      assertEquals(104, totals.getLong("burned_micro_usd"));
      assertEquals(704, invoices.earnings("dev", at.minusSeconds(60), at.plusSeconds(60)).await(10, TimeUnit.SECONDS)
          .getLong("earned_micro_usd"));
      meter.stop().await(10, TimeUnit.SECONDS);
      events.close().await(10, TimeUnit.SECONDS);
      database.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
