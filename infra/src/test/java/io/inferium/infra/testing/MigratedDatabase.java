package io.inferium.infra.testing;

import io.inferium.infra.Database;
import io.inferium.infra.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;

/**
 * A fresh database with every migration applied, on a Vert.x instance of its own, for a test (or a test class)
 * that talks to PostgreSQL directly: {@code try (MigratedDatabase db = MigratedDatabase.open()) { ... db.pool() ... }}.
 * Closing closes the pool, drops the database and closes the Vert.x instance, each even when the one before failed.
 */
public final class MigratedDatabase implements AutoCloseable {

  private final Vertx vertx;
  private final TestDatabase db;
  private final Database database;

  private MigratedDatabase(Vertx vertx, TestDatabase db, Database database) {
    this.vertx = vertx;
    this.db = db;
    this.database = database;
  }

  /** Creates, migrates and opens one (the machine's PostgreSQL when it answers, else the embedded one). */
  public static MigratedDatabase open() {
    Vertx vertx = Vertx.vertx();
    TestDatabase db = null;
    try {
      db = TestDatabase.create();
      return new MigratedDatabase(vertx, db, Eventually.await(Database.open(vertx, db.settings()),
          java.time.Duration.ofSeconds(60)));
    } catch (RuntimeException | Error e) {
      if (db != null) {
        db.close();
      }
      Eventually.await(vertx.close());
      throw e;
    }
  }

  public Vertx vertx() {
    return vertx;
  }

  public Database database() {
    return database;
  }

  public Pool pool() {
    return database.pool();
  }

  @Override
  public void close() throws Exception {
    try {
      database.close().await(30, TimeUnit.SECONDS);
    } finally {
      try {
        db.close();
      } finally {
        vertx.close().await(30, TimeUnit.SECONDS);
      }
    }
  }
}
