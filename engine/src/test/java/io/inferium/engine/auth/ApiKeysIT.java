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

  @Test
  void aKnownKeyKeepsWorkingWhileTheDatabaseCannotBeReadAndAnUnknownOneDoesNot() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      // Entries expire at once, so each use below asks the database.
      ApiKeys keys = new ApiKeys(db.pool(), registry, MissBudget.defaults(), java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1));
      String secret = "sk-outage-" + ApiKeys.newSecret();
      Eventually.await(keys.bootstrapAdmin(db.vertx(), secret, dir.resolve("admin.key")));
      assertTrue(Eventually.await(keys.authenticate(secret, "10.0.0.8")).isPresent());

      // Every read of the keys fails from here on, as with a database that is down.
      Eventually.await(db.pool().query("ALTER TABLE api_keys RENAME TO api_keys_away").execute());
      try {
        Thread.sleep(5);
        assertTrue(Eventually.await(keys.authenticate(secret, "10.0.0.8")).isPresent(), "the known key is served stale");
        assertEquals(1.0, registry.counter("inferium.api.key.lookups", "result", "stale").count());
        // Asked again at most once a second, not on each request.
        assertTrue(Eventually.await(keys.authenticate(secret, "10.0.0.8")).isPresent());
        assertEquals(1.0, registry.counter("inferium.api.key.lookups", "result", "stale").count());
        Throwable unknown = Eventually.failure(keys.authenticate("sk-never-seen", "10.0.0.8"));
        assertTrue(unknown.getMessage().contains("api_keys"),
            "a key never seen has nothing to fall back on: the database's error, got " + unknown);
      } finally {
        Eventually.await(db.pool().query("ALTER TABLE api_keys_away RENAME TO api_keys").execute());
      }
    }
  }
}
