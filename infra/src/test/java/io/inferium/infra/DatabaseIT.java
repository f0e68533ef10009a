package io.inferium.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseIT {

  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void opensMigratesAndQueriesTheTestDatabase() throws Exception {
    try (TestDatabase db = TestDatabase.create()) {
      Database database = Database.open(vertx, db.settings()).await(60, TimeUnit.SECONDS);
      Row row = database.pool().query("SELECT count(*) FROM flyway_schema_history WHERE success")
          .execute().await(10, TimeUnit.SECONDS).iterator().next();
      assertTrue(row.getLong(0) >= 0);
      database.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void embeddedServerKeepsDataAcrossRestarts(@TempDir Path dir) throws Exception {
    Path pgDir = dir.resolve("pg");
    Database first = Database.open(vertx, DatabaseSettings.embedded(pgDir)).await(120, TimeUnit.SECONDS);
    first.pool().query("CREATE TABLE kept (v text)").execute()
        .compose(r -> first.pool().query("INSERT INTO kept VALUES ('still here')").execute())
        .await(10, TimeUnit.SECONDS);
    first.close().await(30, TimeUnit.SECONDS);
    assertTrue(Files.isDirectory(pgDir));

    Database second = Database.open(vertx, DatabaseSettings.embedded(pgDir)).await(120, TimeUnit.SECONDS);
    String v = second.pool().query("SELECT v FROM kept").execute().await(10, TimeUnit.SECONDS)
        .iterator().next().getString(0);
    assertEquals("still here", v);
    second.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void badUrlNamesTheUrl() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Database.parseUrl("mysql:/nope"));
    assertTrue(e.getMessage().contains("mysql:/nope"), e.getMessage());
  }
}
