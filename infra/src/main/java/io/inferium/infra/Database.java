package io.inferium.infra;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.inferium.infra.impl.EmbeddedCluster;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inferium's PostgreSQL: a reactive pool for request-time work, with the versioned schema migrations
 * (Flyway, {@code classpath:db/migration}, contributed by each module) applied before the pool opens.
 *
 * <p>Migration file versions are global across modules; see {@code docs/ARCHITECTURE.md}.
 */
public final class Database {

  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final Vertx vertx;
  private final Pool pool;
  private final EmbeddedCluster embedded;
  private final String description;

  private Database(Vertx vertx, Pool pool, EmbeddedCluster embedded, String description) {
    this.vertx = vertx;
    this.pool = pool;
    this.embedded = embedded;
    this.description = description;
  }

  /**
   * Starts the embedded server when no URL is given, migrates the schema, then opens the pool. The
   * blocking parts (process start, JDBC migrations) run on a worker thread, never the event loop.
   */
  /**
   * For a server that drains on SIGTERM: an embedded cluster's shutdown hook waits up to {@code ms} for the server to
   * close this database (last, after the drain) before stopping the postmaster itself.
   */
  public static void embeddedShutdownWaitMs(long ms) {
    EmbeddedCluster.shutdownWaitMs(ms);
  }

  public static Future<Database> open(Vertx vertx, DatabaseSettings settings) {
    return vertx.executeBlocking(() -> {
      EmbeddedCluster embedded = null;
      PgConnectOptions connect;
      if (settings.isEmbedded()) {
        embedded = EmbeddedCluster.start(settings.embeddedDir());
        connect = new PgConnectOptions()
            .setHost("127.0.0.1").setPort(embedded.port())
            .setUser(embedded.user()).setPassword(embedded.password()).setDatabase(embedded.database());
      } else {
        connect = parseUrl(settings.url());
      }
      try {
        migrate(connect);
      } catch (RuntimeException e) {
        if (embedded != null) {
          embedded.close();
        }
        throw e;
      }
      Pool pool = PgBuilder.pool()
          .with(new PoolOptions().setMaxSize(settings.poolSize()))
          .connectingTo(connect)
          .using(vertx)
          .build();
      String where = embedded != null
          ? "embedded PostgreSQL in " + settings.embeddedDir() + " (127.0.0.1:" + embedded.port() + ", SCRAM, fsync "
              + (embedded.durable() ? "on" : "OFF") + ")"
          : "postgresql://" + connect.getUser() + "@" + connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
      return new Database(vertx, pool, embedded, where);
    }, false);
  }

  /** Parses {@code postgresql://} / {@code postgres://} URLs, failing with a message that names the URL. */
  public static PgConnectOptions parseUrl(String url) {
    try {
      PgConnectOptions options = PgConnectOptions.fromUri(url);
      if (options.getUser() == null || options.getUser().isEmpty()) {
        options.setUser(System.getProperty("user.name"));
      }
      return options;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "invalid database URL '" + url + "': expected postgresql://user[:password]@host[:port]/database ("
              + e.getMessage() + ")", e);
    }
  }

  /** The JDBC form of the connect options, for Flyway. */
  static String jdbcUrl(PgConnectOptions o) {
    return "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
  }

  private static void migrate(PgConnectOptions connect) {
    Flyway flyway = Flyway.configure()
        .dataSource(jdbcUrl(connect), connect.getUser(), connect.getPassword())
        .locations("classpath:db/migration")
        .load();
    MigrateResult result = flyway.migrate();
    // Flyway reports no target version when there was nothing to apply: ask for the schema's current one.
    String version = result.targetSchemaVersion;
    if (version == null) {
      org.flywaydb.core.api.MigrationInfo current = flyway.info().current();
      version = current == null ? "none" : current.getVersion().getVersion();
    }
    log.info("Schema at version {} ({} migration(s) applied now)", version, result.migrationsExecuted);
  }

  public Pool pool() {
    return pool;
  }

  /** A human-readable location, without any password. */
  public String description() {
    return description;
  }

  public Future<Void> close() {
    return pool.close().eventually(() -> embedded == null
        ? Future.succeededFuture()
        : vertx.executeBlocking(() -> {
          embedded.close();
          return null;
        }, false));
  }
}
