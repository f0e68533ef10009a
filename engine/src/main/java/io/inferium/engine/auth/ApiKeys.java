package io.inferium.engine.auth;

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
  private static final long CACHE_TTL_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final Pool pool;
  private final Map<String, Cached> cache = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
      return size() > CACHE_SIZE;
    }
  };

  private record Cached(Optional<Principal> principal, long at) {}

  public ApiKeys(Pool pool) {
    this.pool = pool;
  }

  /** The principal a presented secret belongs to; empty if unknown, revoked or expired. */
  public Future<Optional<Principal>> authenticate(String secret) {
    String hash = hash(secret);
    synchronized (cache) {
      Cached c = cache.get(hash);
      if (c != null && System.nanoTime() - c.at < CACHE_TTL_NANOS) {
        return Future.succeededFuture(c.principal);
      }
    }
    return pool.preparedQuery("SELECT id, role, tenant_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL "
            + "AND (expires_at IS NULL OR expires_at > now())")
        .execute(Tuple.of(hash))
        .map(rows -> {
          Optional<Principal> p = rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next()).map(r ->
              new Principal(r.getString("id"), Principal.Role.valueOf(r.getString("role").toUpperCase(java.util.Locale.ROOT)),
                  r.getString("tenant_id")));
          synchronized (cache) {
            cache.put(hash, new Cached(p, System.nanoTime()));
          }
          return p;
        });
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

  static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
