package io.inferium.infra;

import java.nio.file.Path;

/**
 * Where Inferium keeps its durable state.
 *
 * @param url         a {@code postgresql://user:password@host:port/db} URL, or null to run an embedded
 *                    PostgreSQL whose files live under {@code embeddedDir} and survive restarts
 * @param embeddedDir data directory for the embedded server (ignored when {@code url} is set)
 * @param poolSize    connections in the reactive pool
 */
public record DatabaseSettings(String url, Path embeddedDir, int poolSize) {

  public static final int DEFAULT_POOL_SIZE = 8;

  public static DatabaseSettings url(String url) {
    return new DatabaseSettings(url, null, DEFAULT_POOL_SIZE);
  }

  public static DatabaseSettings embedded(Path dir) {
    return new DatabaseSettings(null, dir, DEFAULT_POOL_SIZE);
  }

  public boolean isEmbedded() {
    return url == null || url.isBlank();
  }
}
