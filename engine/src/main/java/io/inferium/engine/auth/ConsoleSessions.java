package io.inferium.engine.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Browser sessions of the web console. Signing in exchanges an API key for a random session id that the
 * browser keeps in an HttpOnly cookie, so the page never holds the key. PostgreSQL stores only the id's SHA-256,
 * with an expiry; a session is valid while it is neither signed out nor expired and its key is neither revoked
 * nor expired (the lookup joins {@code api_keys}, so revoking a key ends its sessions). Lookups of ids that do
 * not exist are charged to the same {@link MissBudget} as unknown API keys, so guessing session ids is throttled
 * like guessing keys. The CSRF token of a session is derived from its id and never stored.
 */
public final class ConsoleSessions {

  /** How long a session lives at most. */
  public static final long TTL_SECONDS = TimeUnit.HOURS.toSeconds(12);
  /** Sessions one key may hold at once; signing in again drops the oldest beyond this. */
  static final int MAX_PER_KEY = 16;
  /** A valid session is remembered this long, so a page's burst of requests costs one query. */
  private static final long CACHE_TTL_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final int CACHE_SIZE = 10_000;
  /** 32 random bytes in URL-safe base64 without padding. */
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{43}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Pool pool;
  private final MissBudget misses;
  private final Map<String, Cached> cache = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
      return size() > CACHE_SIZE;
    }
  };
  /** Lookups under way, shared by concurrent requests of one secret; bounded by the miss budget. */
  private final SharedLookups<Optional<Principal>> inFlight = new SharedLookups<>(cache);

  private record Cached(Principal principal, long at) {}

  /** A new session: its id (the cookie's value, shown only here), CSRF token and expiry. */
  public record Session(String id, String csrfToken, OffsetDateTime expiresAt) {}

  public ConsoleSessions(Pool pool, ApiKeys keys) {
    this.pool = pool;
    this.misses = keys.misses();
    keys.onRevoke(this::forgetKey);
  }

  /** Opens a session for a principal that has just presented its key. */
  public Future<Session> create(Principal principal) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return pool.preparedQuery("INSERT INTO console_sessions (id_hash, key_id, expires_at) VALUES ($1, $2, now() + $3 * "
            + "interval '1 second') RETURNING expires_at")
        .execute(Tuple.of(ApiKeys.hash(id), principal.keyId(), TTL_SECONDS))
        .compose(rows -> {
          OffsetDateTime expires = rows.iterator().next().getOffsetDateTime(0);
          // Bounded per key, and expired rows go: the table cannot grow with sign-ins.
          return pool.preparedQuery("DELETE FROM console_sessions WHERE expires_at < now() OR (key_id = $1 AND id_hash NOT IN "
                  + "(SELECT id_hash FROM console_sessions WHERE key_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC "
                  + "LIMIT $2))")
              .execute(Tuple.of(principal.keyId(), MAX_PER_KEY))
              .map(deleted -> new Session(id, csrfToken(id), expires));
        });
  }

  /**
   * The principal of a session id; empty when it is unknown, signed out or expired, or its key is revoked or
   * expired. Fails with {@link ApiKeys.TooManyUnknownKeys} when {@code remote} has presented too many unknown
   * ids (or keys) lately.
   */
  /** Forgets the cached principals of a tenant's sessions (its tier changed). */
  public void forgetTenant(String tenantId) {
    synchronized (cache) {
      cache.values().removeIf(c -> tenantId.equals(c.principal().tenantId()));
    }
  }

  public Future<Optional<Principal>> authenticate(String id, String remote) {
    if (id == null || !ID.matcher(id).matches()) {
      return Future.succeededFuture(Optional.empty());
    }
    String hash = ApiKeys.hash(id);
    synchronized (cache) {
      Cached c = cache.get(hash);
      if (c != null && System.nanoTime() - c.at < CACHE_TTL_NANOS) {
        return Future.succeededFuture(Optional.of(c.principal));
      }
      Future<Optional<Principal>> pending = inFlight.pending(hash);
      if (pending != null) {
        return pending;
      }
    }
    long wait = misses.admit(remote);
    if (wait > 0) {
      return Future.failedFuture(new ApiKeys.TooManyUnknownKeys((int) Math.min(wait, 3600)));
    }
    Future<Optional<Principal>> lookup = pool.preparedQuery("SELECT k.id, k.role, k.tenant_id, t.tier FROM console_sessions s "
            + "JOIN api_keys k ON k.id = s.key_id LEFT JOIN tenants t ON t.id = k.tenant_id WHERE s.id_hash = $1 "
            + "AND s.revoked_at IS NULL AND s.expires_at > now() AND k.revoked_at IS NULL "
            + "AND (k.expires_at IS NULL OR k.expires_at > now())")
        .execute(Tuple.of(hash))
        .map(rows -> {
          if (rows.size() == 0) {
            return Optional.<Principal>empty();
          }
          Row r = rows.iterator().next();
          Principal p = new Principal(r.getString("id"), Principal.Role.valueOf(r.getString("role").toUpperCase(Locale.ROOT)),
              r.getString("tenant_id"), r.getString("tier"));
          misses.found(remote);
          synchronized (cache) {
            cache.put(hash, new Cached(p, System.nanoTime()));
          }
          return Optional.of(p);
        });
    return inFlight.share(hash, lookup);
  }

  /** Signs a session out for good; false when it was not open. */
  public Future<Boolean> revoke(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      return Future.succeededFuture(false);
    }
    String hash = ApiKeys.hash(id);
    synchronized (cache) {
      cache.remove(hash);
    }
    return pool.preparedQuery("UPDATE console_sessions SET revoked_at = now() WHERE id_hash = $1 AND revoked_at IS NULL")
        .execute(Tuple.of(hash)).map(rows -> rows.rowCount() > 0);
  }

  /**
   * The session's CSRF token: a digest of its id, so it needs no storage, and only a page that was told it at
   * sign-in (the cookie itself is HttpOnly) can send it.
   */
  public static String csrfToken(String id) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        sha256(("inferium-console-csrf:" + id).getBytes(StandardCharsets.UTF_8)));
  }

  /** Whether {@code presented} is the CSRF token of session {@code id}, compared in constant time. */
  public static boolean csrfMatches(String id, String presented) {
    return presented != null && MessageDigest.isEqual(csrfToken(id).getBytes(StandardCharsets.UTF_8),
        presented.getBytes(StandardCharsets.UTF_8));
  }

  /** A revoked key's cached sessions go at once (the database join refuses them from then on). */
  private void forgetKey(String keyId) {
    synchronized (cache) {
      cache.values().removeIf(c -> c.principal.keyId().equals(keyId));
    }
  }

  private static byte[] sha256(byte[] in) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(in);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
