package io.inferium.infra.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded PostgreSQL is private (SCRAM only, no trust, no superuser login) and durable (fsync on). */
class EmbeddedClusterIT {

  private static Connection connect(EmbeddedCluster pg, String user, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    if (password != null) {
      p.setProperty("password", password);
    }
    p.setProperty("connectTimeout", "10");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + pg.database(), p);
  }

  private static String show(Statement s, String setting) throws SQLException {
    try (ResultSet r = s.executeQuery("SHOW " + setting)) {
      r.next();
      return r.getString(1);
    }
  }

  private static boolean running(long pid) {
    return EmbeddedCluster.running(pid);
  }

  @Test
  void privateAndDurable(@TempDir Path dir) throws Exception {
    try (EmbeddedCluster pg = EmbeddedCluster.start(dir.resolve("pg"))) {
      try (Connection c = connect(pg, pg.user(), pg.password()); Statement s = c.createStatement()) {
        assertEquals("on", show(s, "fsync"));
        assertEquals("on", show(s, "synchronous_commit"));
        assertEquals("on", show(s, "full_page_writes"));
        assertEquals("127.0.0.1", show(s, "listen_addresses"));
        assertTrue(show(s, "server_version").startsWith("17."), "a supported PostgreSQL major");
        try (ResultSet r = s.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
          r.next();
          assertFalse(r.getBoolean(1), "the application role is not a superuser");
        }
        // What a superuser could do and the application role cannot.
        SQLException denied = assertThrows(SQLException.class,
            () -> s.execute("COPY (SELECT 1) TO PROGRAM 'touch " + dir.resolve("pwned") + "'"));
        assertTrue(denied.getMessage().contains("permission denied")
            || denied.getMessage().contains("pg_execute_server_program"), denied.getMessage());
        assertFalse(Files.exists(dir.resolve("pwned")));
      }
      // No password, a wrong password, the superuser (even with its password), another database: refused.
      SQLException noPassword = assertThrows(SQLException.class, () -> connect(pg, pg.user(), null).close());
      assertTrue(noPassword.getMessage().contains("password"), noPassword.getMessage());
      assertThrows(SQLException.class, () -> connect(pg, pg.user(), "wrong").close());
      String superPassword = Files.readString(pg.dataDir().resolve(EmbeddedCluster.SUPERUSER_PASSWORD_FILE)).trim();
      SQLException superuser = assertThrows(SQLException.class, () -> connect(pg, "postgres", superPassword).close());
      assertTrue(superuser.getMessage().contains("pg_hba.conf"), superuser.getMessage());
      assertThrows(SQLException.class, () -> DriverManager.getConnection(
          "jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres?user=" + pg.user() + "&password=" + pg.password()).close());
      // Secrets and configuration on disk.
      assertEquals("rw-------", PosixFilePermissions.toString(
          Files.getPosixFilePermissions(pg.dataDir().resolve(EmbeddedCluster.PASSWORD_FILE))));
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pg.dataDir())));
      assertFalse(Files.readString(pg.dataDir().resolve("pg_hba.conf")).contains("trust"));
      assertTrue(Files.readString(pg.dataDir().resolve("inferium.conf")).contains("unix_socket_directories = ''"));
    }
  }

  @Test
  void stalePostmasterOfAKilledOwnerIsStoppedAtStart(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("pg");
    EmbeddedCluster first = EmbeddedCluster.start(data);
    try (Connection c = connect(first, first.user(), first.password()); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE kept (v text)");
      s.execute("INSERT INTO kept VALUES ('committed before the kill')");
    }
    long stale = first.postmasterPid();
    first.abandon();
    assertTrue(running(stale), "the orphaned postmaster still runs");

    try (EmbeddedCluster second = EmbeddedCluster.start(data)) {
      assertNotEquals(stale, second.postmasterPid());
      assertFalse(running(stale), "the stale postmaster was stopped");
      try (Connection c = connect(second, second.user(), second.password()); Statement s = c.createStatement();
           ResultSet r = s.executeQuery("SELECT v FROM kept")) {
        assertTrue(r.next());
        assertEquals("committed before the kill", r.getString(1));
      }
      // While one owner runs, a second start on the same directory is refused, and leaves the first alone.
      IOException busy = assertThrows(IOException.class, () -> EmbeddedCluster.start(data));
      assertTrue(busy.getMessage().contains("in use"), busy.getMessage());
      assertTrue(running(second.postmasterPid()));
    }
  }

  @Test
  void dataFromAnOlderMajorVersionGetsAClearError(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("pg");
    Files.createDirectories(data);
    Files.writeString(data.resolve("PG_VERSION"), "14\n");
    IOException e = assertThrows(IOException.class, () -> EmbeddedCluster.start(data));
    assertTrue(e.getMessage().contains("PostgreSQL 14") && e.getMessage().contains("pg_dump"), e.getMessage());
  }

  @Test
  void normalCloseStopsThePostmaster(@TempDir Path dir) throws Exception {
    EmbeddedCluster pg = EmbeddedCluster.start(dir.resolve("pg"));
    long pid = pg.postmasterPid();
    pg.close();
    assertFalse(running(pid));
    assertFalse(Files.exists(dir.resolve("pg/postmaster.pid")));
  }
}
