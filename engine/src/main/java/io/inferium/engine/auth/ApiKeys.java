package io.inferium.engine.auth;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * API keys checked against their SHA-256 in PostgreSQL, with a small bounded cache so a busy client
 * does not cost a query per request. The bootstrap admin key comes from configuration or is generated
 * at first start into {@code <data-dir>/admin.key} (mode 0600).
 */
public final class ApiKeys {

  public static final String BOOTSTRAP_ID = "bootstrap-admin";
  private static final int CACHE_SIZE = 10_000;
  private static final long DEFAULT_TTL_NANOS = TimeUnit.SECONDS.toNanos(30);
  private final long ttlNanos;
  /** Unknown keys remembered (apart from real ones, so they can never push a real key out). */
  static final int NEGATIVE_CACHE_SIZE = 4096;
  private static final long NEGATIVE_TTL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final Pool pool;
  private final MeterRegistry registry;
  private final MissBudget misses;
  private final java.util.concurrent.ConcurrentMap<String, io.micrometer.core.instrument.Counter> lookups =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Cached> cache = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
      return size() > CACHE_SIZE;
    }
  };
  private final Map<String, Long> unknown = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > NEGATIVE_CACHE_SIZE;
    }
  };

  /**
   * A known key: {@code at} starts its 30 s of use without asking the database, {@code confirmedAt} is when the
   * database last vouched for it.
   */
  private record Cached(Principal principal, long at, java.time.OffsetDateTime expiresAt, long confirmedAt) {}

  /**
   * While the database cannot be read, a key it vouched for within this long keeps working (asked again each
   * second), so a database outage does not turn away every client whose cache entry happens to expire. A key
   * revoked through this gateway is forgotten at once; one revoked elsewhere just before the outage works
   * until the database answers again, at most this long.
   */
  static final long STALE_IF_ERROR_NANOS = TimeUnit.MINUTES.toNanos(10);
  private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Lookups under way, shared by concurrent requests of one secret; bounded by the miss budget. */
  private final SharedLookups<Optional<Principal>> inFlight = new SharedLookups<>(cache);

  /** Too many unknown keys were presented from one address (or from everywhere): answer 429, query nothing. */
  public static final class TooManyUnknownKeys extends RuntimeException {
    private final int retryAfterSeconds;

    TooManyUnknownKeys(int retryAfterSeconds) {
      super("too many invalid API keys from this address; retry in " + retryAfterSeconds + " s", null, false, false);
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public int retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }

  public ApiKeys(Pool pool) {
    this(pool, new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), MissBudget.defaults());
  }

  public ApiKeys(Pool pool, MeterRegistry registry) {
    this(pool, registry, MissBudget.defaults());
  }

  /** Told the id of each key revoked here, so caches built on keys (console sessions) forget it at once. */
  private final java.util.List<java.util.function.Consumer<String>> revoked = new java.util.concurrent.CopyOnWriteArrayList<>();

  ApiKeys(Pool pool, MeterRegistry registry, MissBudget misses) {
    this(pool, registry, misses, DEFAULT_TTL_NANOS);
  }

  /** With a cache lifetime of its own (tests). */
  ApiKeys(Pool pool, MeterRegistry registry, MissBudget misses, long ttlNanos) {
    this.ttlNanos = ttlNanos;
    this.pool = pool;
    this.registry = registry;
    this.misses = misses;
  }

  /** The principal a presented secret belongs to; empty if unknown, revoked or expired. */
  public Future<Optional<Principal>> authenticate(String secret) {
    return authenticate(secret, "local");
  }

  /**
   * The principal a presented secret belongs to; empty if unknown, revoked or expired. Only keys that
   * exist are cached (30 s); unknown ones go to a separate small cache (10 s), and each database
   * lookup is charged to the presenting address and to a global budget (and given back when the key
   * exists), so a flood
   * of random keys neither evicts real keys nor costs a query each: once a budget is spent the answer
   * is a {@link TooManyUnknownKeys} failure until it refills.
   */
  public Future<Optional<Principal>> authenticate(String secret, String remote) {
    String hash = hash(secret);
    long now = System.nanoTime();
    synchronized (cache) {
      Cached c = cache.get(hash);
      if (c != null && now - c.at < ttlNanos
          && (c.expiresAt == null || c.expiresAt.isAfter(java.time.OffsetDateTime.now()))) {
        count("cached");
        return Future.succeededFuture(Optional.of(c.principal));
      }
      Long at = unknown.get(hash);
      if (at != null && now - at < NEGATIVE_TTL_NANOS) {
        count("known_unknown");
        return Future.succeededFuture(Optional.empty());
      }
      // A busy client's requests all miss together when its entry expires: they share one lookup, charged
      // once. Charged each, 64 connections of one valid key overdrew the address's miss budget (burst 20)
      // and got "too many invalid API keys" every 30 s.
      Future<Optional<Principal>> pending = inFlight.pending(hash);
      if (pending != null) {
        count("joined");
        return pending;
      }
    }
    long wait = misses.admit(remote);
    if (wait > 0) {
      count("throttled");
      return Future.failedFuture(new TooManyUnknownKeys((int) Math.min(wait, 3600)));
    }
    Future<Optional<Principal>> lookup = lookup(hash, remote);
    return inFlight.share(hash, lookup);
  }

  private Future<Optional<Principal>> lookup(String hash, String remote) {
    return pool.preparedQuery("SELECT k.id, k.role, k.tenant_id, k.expires_at, t.tier FROM api_keys k "
            + "LEFT JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL "
            + "AND (k.expires_at IS NULL OR k.expires_at > now())")
        .execute(Tuple.of(hash))
        .map(rows -> {
          io.vertx.sqlclient.Row r = rows.size() == 0 ? null : rows.iterator().next();
          if (r == null) {
            count("db_miss");
            synchronized (cache) {
              unknown.put(hash, System.nanoTime());
            }
            return Optional.<Principal>empty();
          }
          Principal p = new Principal(r.getString("id"),
              Principal.Role.valueOf(r.getString("role").toUpperCase(java.util.Locale.ROOT)), r.getString("tenant_id"),
              r.getString("tier"));
          misses.found(remote);
          count("db_hit");
          synchronized (cache) {
            long now = System.nanoTime();
            cache.put(hash, new Cached(p, now, r.getOffsetDateTime("expires_at"), now));
          }
          return Optional.of(p);
        })
        .recover(err -> {
          long now = System.nanoTime();
          synchronized (cache) {
            Cached c = cache.get(hash);
            if (c != null && now - c.confirmedAt < STALE_IF_ERROR_NANOS
                && (c.expiresAt == null || c.expiresAt.isAfter(java.time.OffsetDateTime.now()))) {
              cache.put(hash, new Cached(c.principal, now - ttlNanos + RETRY_NANOS, c.expiresAt, c.confirmedAt));
              misses.found(remote);
              count("stale");
              return Future.succeededFuture(Optional.of(c.principal));
            }
          }
          return Future.failedFuture(err);
        });
  }

  private void count(String result) {
    // One of seven results: cached so the per-request path does not build a meter id each time.
    lookups.computeIfAbsent(result, r -> registry.counter("inferium.api.key.lookups", "result", r)).increment();
  }

  /** The budget unknown keys are charged to; console sessions charge unknown session ids to it too. */
  MissBudget misses() {
    return misses;
  }

  /** Calls {@code listener} with the id of each key revoked through this instance. */
  void onRevoke(java.util.function.Consumer<String> listener) {
    revoked.add(listener);
  }

  /** Whether a key is cached right now (tests: a real key stays cached through a flood of unknown ones). */
  boolean cached(String secret) {
    synchronized (cache) {
      return cache.containsKey(hash(secret));
    }
  }

  /** A key as listed: never the secret. */
  public record KeyInfo(String id, String tenantId, Principal.Role role, String name, String createdAt, String expiresAt,
      String revokedAt) {
    public io.vertx.core.json.JsonObject toJson() {
      return new io.vertx.core.json.JsonObject().put("id", id).put("tenant_id", tenantId)
          .put("role", role.name().toLowerCase(java.util.Locale.ROOT)).put("name", name).put("created_at", createdAt)
          .put("expires_at", expiresAt).put("revoked_at", revokedAt);
    }
  }

  /** Creates a key for a tenant; the secret is returned here and never again. */
  public Future<io.vertx.core.json.JsonObject> create(String tenantId, Principal.Role role, String name,
      java.time.OffsetDateTime expiresAt) {
    String secret = newSecret();
    String id = "key_" + java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    return pool.preparedQuery("INSERT INTO api_keys (id, key_hash, tenant_id, role, name, expires_at) "
            + "VALUES ($1, $2, $3, $4, $5, $6) RETURNING " + KEY_COLUMNS)
        .execute(Tuple.of(id, hash(secret), tenantId, role.name().toLowerCase(java.util.Locale.ROOT), name, expiresAt))
        .map(rows -> map(rows.iterator().next()).toJson().put("secret", secret));
  }

  public Future<java.util.List<KeyInfo>> list(String tenantId) {
    return pool.preparedQuery("SELECT " + KEY_COLUMNS + " FROM api_keys WHERE tenant_id = $1 ORDER BY created_at")
        .execute(Tuple.of(tenantId)).map(rows -> {
          java.util.List<KeyInfo> out = new java.util.ArrayList<>();
          rows.forEach(r -> out.add(map(r)));
          return out;
        });
  }

  /**
   * Forgets the cached principals of a tenant's keys (their tier changed): the next request with one reads it again.
   * Other gateways on the same database see the change when their cache entry ages out (30 s).
   */
  public void forgetTenant(String tenantId) {
    synchronized (cache) {
      cache.values().removeIf(c -> tenantId.equals(c.principal().tenantId()));
    }
  }

  /** Revokes a tenant's key at once (the cache forgets it too). False if the tenant has no such key. */
  public Future<Boolean> revoke(String tenantId, String keyId) {
    return revokeWhere("id = $1 AND tenant_id = $2", Tuple.of(keyId, tenantId));
  }

  /** Revokes a platform operator key at once. False if there is no such key. */
  public Future<Boolean> revokeOperator(String keyId) {
    return revokeWhere("id = $1 AND tenant_id IS NULL AND role = 'operator'", Tuple.of(keyId));
  }

  private Future<Boolean> revokeWhere(String condition, Tuple args) {
    return pool.preparedQuery("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE " + condition
            + " RETURNING key_hash, id")
        .execute(args)
        .map(rows -> {
          if (rows.size() == 0) {
            return false;
          }
          synchronized (cache) {
            cache.remove(rows.iterator().next().getString(0));
          }
          String id = rows.iterator().next().getString(1);
          revoked.forEach(listener -> listener.accept(id));
          return true;
        });
  }

  private static final String KEY_COLUMNS = "id, tenant_id, role, name, created_at, expires_at, revoked_at";

  private static KeyInfo map(io.vertx.sqlclient.Row r) {
    return new KeyInfo(r.getString("id"), r.getString("tenant_id"),
        Principal.Role.valueOf(r.getString("role").toUpperCase(java.util.Locale.ROOT)), r.getString("name"),
        time(r.getOffsetDateTime("created_at")), time(r.getOffsetDateTime("expires_at")),
        time(r.getOffsetDateTime("revoked_at")));
  }

  private static String time(java.time.OffsetDateTime t) {
    return t == null ? null : t.withOffsetSameInstant(java.time.ZoneOffset.UTC)
        .format(java.time.format.DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }

  /**
   * Makes sure the bootstrap admin key exists: the configured one, else the one in
   * {@code keyFile}, else a new one written there. Returns where the key can be read.
   */
  public Future<String> bootstrapAdmin(Vertx vertx, String configured, Path keyFile) {
    return vertx.executeBlocking(() -> {
      if (configured != null && !configured.isBlank()) {
        return configured;
      }
      if (Files.exists(keyFile)) {
        return Files.readString(keyFile, StandardCharsets.UTF_8).strip();
      }
      String key = newSecret();
      writeSecret(keyFile, key);
      return key;
    }, false).compose(key -> pool.preparedQuery("INSERT INTO api_keys (id, key_hash, role, name) VALUES ($1, $2, 'admin', "
            + "'bootstrap admin') ON CONFLICT (id) DO UPDATE SET key_hash = EXCLUDED.key_hash, revoked_at = NULL")
        .execute(Tuple.of(BOOTSTRAP_ID, hash(key)))
        .map(configured != null && !configured.isBlank() ? "the --admin-key option" : keyFile.toString()));
  }

  private static void writeSecret(Path file, String key) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, key + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** A new secret: {@code inf_} and 32 random bytes, URL-safe base64. */
  public static String newSecret() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return "inf_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** One digest per thread: every authenticated request hashes its key, a provider lookup each time costs more. */
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  static String hash(String secret) {
    // digest() resets it for the next use.
    return HexFormat.of().formatHex(SHA256.get().digest(secret.getBytes(StandardCharsets.UTF_8)));
  }
}
