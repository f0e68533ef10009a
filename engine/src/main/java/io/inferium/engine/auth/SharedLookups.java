package io.inferium.engine.auth;

import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;

/**
 * Database lookups under way, by hash, so that concurrent requests presenting the same secret (a busy client whose
 * cache entry just expired, a page's parallel calls) share one query and are charged to the miss budget once.
 * Guarded by the owner's cache lock, so "not cached" and "not in flight" are seen together: a lookup fills the
 * cache before it completes and leaves this map only after.
 */
final class SharedLookups<V> {

  private final Object lock;
  private final Map<String, Future<V>> inFlight = new HashMap<>();

  SharedLookups(Object lock) {
    this.lock = lock;
  }

  /** The lookup of {@code hash} under way, or null; call it holding the lock, with the cache check. */
  Future<V> pending(String hash) {
    synchronized (lock) {
      return inFlight.get(hash);
    }
  }

  /** Makes {@code lookup} the one later requests of {@code hash} join until it completes; returns it. */
  Future<V> share(String hash, Future<V> lookup) {
    synchronized (lock) {
      if (!lookup.isComplete()) {
        inFlight.put(hash, lookup);
      }
    }
    lookup.onComplete(ar -> {
      synchronized (lock) {
        inFlight.remove(hash, lookup);
      }
    });
    return lookup;
  }
}
