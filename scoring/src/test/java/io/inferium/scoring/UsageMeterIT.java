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
}
