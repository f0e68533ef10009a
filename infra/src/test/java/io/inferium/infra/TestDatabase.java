package io.inferium.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A fresh, empty database for one test class: on the machine's PostgreSQL when one answers on
 * 127.0.0.1:5432, otherwise on an embedded PostgreSQL shared by the test JVM. Dropped on close.
 */
public final class TestDatabase implements AutoCloseable {

  private static final String SERVICE_HOST = "127.0.0.1";
  private static final int SERVICE_PORT = 5432;
  private static EmbeddedPostgres sharedEmbedded;

  private final String adminJdbc;
  private final String user;
  private final String name;
  private final String url;

  private TestDatabase(String host, int port, String user, String adminDb) throws SQLException {
    this.user = user;
    this.adminJdbc = "jdbc:postgresql://" + host + ":" + port + "/" + adminDb;
    this.name = "inferium_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    exec("CREATE DATABASE " + name);
    this.url = "postgresql://" + user + "@" + host + ":" + port + "/" + name;
  }

  public static TestDatabase create() {
    try {
      if (serviceAnswers()) {
        return new TestDatabase(SERVICE_HOST, SERVICE_PORT, "postgres", "postgres");
      }
      EmbeddedPostgres pg = embedded();
      return new TestDatabase("127.0.0.1", pg.getPort(), "postgres", "postgres");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create a test database: " + e.getMessage(), e);
    }
  }

  private static boolean serviceAnswers() {
    try (Connection c = DriverManager.getConnection(
        "jdbc:postgresql://" + SERVICE_HOST + ":" + SERVICE_PORT + "/postgres?connectTimeout=2", "postgres", "")) {
      return c.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  private static synchronized EmbeddedPostgres embedded() {
    if (sharedEmbedded == null) {
      try {
        sharedEmbedded = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          sharedEmbedded.close();
        } catch (IOException ignored) {
          // the JVM is exiting
        }
      }));
    }
    return sharedEmbedded;
  }

  private void exec(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(adminJdbc, user, "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The {@code postgresql://} URL of this test's database. */
  public String url() {
    return url;
  }

  public DatabaseSettings settings() {
    return DatabaseSettings.url(url);
  }

  @Override
  public void close() {
    try {
      exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot drop test database " + name + ": " + e.getMessage(), e);
    }
  }
}
