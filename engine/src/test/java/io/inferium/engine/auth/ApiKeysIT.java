package io.inferium.engine.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.testing.Eventually;
import io.inferium.infra.testing.MigratedDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysIT {

  @TempDir
  Path dir;

  @Test
  void aBusyClientsRequestsShareOneLookupWhenItsKeyIsNotCachedAndNoneIsThrottled() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      ApiKeys keys = new ApiKeys(db.pool(), registry, MissBudget.defaults());
      String secret = "sk-busy-client-" + ApiKeys.newSecret();
      Eventually.await(keys.bootstrapAdmin(db.vertx(), secret, dir.resolve("admin.key")));
      // 64 connections of one client arrive while its key is not cached (first use, or its entry expired):
      // more than the address's burst of misses (20), which is meant for unknown keys, not this.
      List<Future<Optional<Principal>>> all = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        all.add(keys.authenticate(secret, "10.0.0.7"));
      }
      for (Future<Optional<Principal>> f : all) {
        assertTrue(Eventually.await(f).isPresent(), "a valid key is never refused");
      }
      assertEquals(1.0, registry.counter("inferium.api.key.lookups", "result", "db_hit").count(),
          "one database lookup for all of them");
      assertTrue(keys.cached(secret));
      // Unknown keys from the same address are still throttled after the burst.
      int throttled = 0;
      for (int i = 0; i < 40; i++) {
        Future<Optional<Principal>> f = keys.authenticate("sk-unknown-" + i, "10.0.0.7");
        try {
          Eventually.await(f);
        } catch (ApiKeys.TooManyUnknownKeys e) {
          throttled++;
        }
      }
      assertTrue(throttled >= 15, "random keys past the burst are refused without a query: " + throttled);
    }
  }
}
