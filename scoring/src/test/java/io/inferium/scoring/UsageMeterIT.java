package io.inferium.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.inferium.infra.Database;
import io.inferium.infra.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class UsageMeterIT {

  private static UsageEvent event(String id, String tenant, long charge) {
    return new UsageEvent(id, tenant, "f", 1, "dev", "request", 1, 1500, charge, Instant.now());
  }

  @Test
  void aRedeliveredEventIsCountedOnceAndTenantsSeeOnlyTheirOwn() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      UsageMeter meter = new UsageMeter(vertx, database.pool(), new SimpleMeterRegistry(), 10, 1000);
      meter.record(event("r1", "acme", 100));
      meter.record(event("r1", "acme", 100));
      meter.record(event("r2", "acme", 100));
      meter.record(event("r3", "globex", 7));
      meter.flush().await(10, TimeUnit.SECONDS);
      meter.record(event("r2", "acme", 100));
      meter.flush().await(10, TimeUnit.SECONDS);
      Instant from = Instant.now().minusSeconds(60);
      Instant to = Instant.now().plusSeconds(60);
      JsonObject acme = meter.summary("acme", false, from, to, "function").await(10, TimeUnit.SECONDS);
      assertEquals(2, acme.getLong("requests"), "r1 and r2 once each, however often they were delivered");
      assertEquals(200, acme.getLong("charge_micro_usd"));
      JsonObject all = meter.summary(null, true, from, to, "day").await(10, TimeUnit.SECONDS);
      assertEquals(3, all.getLong("requests"));
      assertEquals(207, all.getLong("charge_micro_usd"));

      for (int i = 0; i < 12; i++) {
        meter.record(event("x" + i, "acme", 1));
      }
      assertEquals(10, meter.pendingCount(), "the buffer is bounded");
      meter.stop().await(10, TimeUnit.SECONDS);
      database.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
