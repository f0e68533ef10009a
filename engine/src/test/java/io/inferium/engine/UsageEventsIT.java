package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.KafkaBroker;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Usage is billed exactly once through faults: the Kafka broker killed and restarted under load,
 * PostgreSQL stopped and restarted under load, and the gateway restarted while usage sits in the
 * local event log unconsumed. After each, every request answered 200 has exactly one usage row and
 * the stored charges add up to the charges the answers announced.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UsageEventsIT {

  /**
   * The broker starts (a JVM of its own, half a minute on a busy machine) while the tests that need none run; the
   * test that kills it runs last.
   */
  private static java.util.concurrent.CompletableFuture<KafkaBroker> broker;

  @BeforeAll
  static void startBroker() {
    broker = java.util.concurrent.CompletableFuture.supplyAsync(KafkaBroker::start);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    KafkaBroker started = broker.handle((b, err) -> b).get(3, TimeUnit.MINUTES);
    if (started != null) {
      started.close();
    }
  }

  private static final String ADD_REQUEST = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
      + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";
  private static final long PRICE = 100;
  private static final long OUTAGE_MS = 3_000;

  /** Closed-loop load from a few concurrent clients; remembers each 200's request id and charge. */
  private static final class Load {
    final Map<String, Long> answered = new ConcurrentHashMap<>();
    final AtomicInteger failed = new AtomicInteger();
    private final TestGateway gw;
    private final String path;
    private final List<Future<Void>> loops = new ArrayList<>();
    private volatile boolean stopping;

    Load(TestGateway gw, String function, int concurrency) {
      this.gw = gw;
      this.path = "/v2/models/" + function + "/infer";
      for (int i = 0; i < concurrency; i++) {
        Promise<Void> done = Promise.promise();
        gw.vertx.runOnContext(v -> next(done));
        loops.add(done.future());
      }
    }

    private void next(Promise<Void> done) {
      if (stopping) {
        done.complete();
        return;
      }
      gw.client.post(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(TestGateway.ADMIN_KEY)
          .putHeader("Content-Type", "application/json").timeout(20_000)
          .sendBuffer(Buffer.buffer(ADD_REQUEST))
          .onComplete(ar -> {
            if (ar.succeeded() && ar.result().statusCode() == 200) {
              answered.put(ar.result().getHeader("X-Inferium-Request-Id"),
                  Long.parseLong(ar.result().getHeader("X-Inferium-Charge-Micro-Usd")));
            } else {
              failed.incrementAndGet();
            }
            next(done);
          });
    }

    /** Waits (polling, with a deadline) for {@code n} more answered requests. */
    void awaitMore(int n, String during) throws InterruptedException {
      int target = answered.size() + n;
      poll(() -> answered.size() >= target, 60, n + " more answered requests " + during + " (failed so far: " + failed + ")");
    }

    void stop() throws Exception {
      stopping = true;
      Future.join(new ArrayList<>(loops)).await(60, TimeUnit.SECONDS);
    }
  }

  private static void poll(BooleanSupplier done, long seconds, String what) {
    Eventually.until(what, java.time.Duration.ofSeconds(seconds), done);
  }

  /** A {@code postgresql://user@host:port/db} URL as a JDBC connection. */
  private static Connection jdbc(String url) throws Exception {
    String rest = url.substring("postgresql://".length());
    String user = rest.substring(0, rest.indexOf('@'));
    return DriverManager.getConnection("jdbc:postgresql://" + rest.substring(rest.indexOf('@') + 1), user, "");
  }

  private static Map<String, Long> usageRows(String url) {
    Map<String, Long> rows = new HashMap<>();
    try (Connection c = jdbc(url); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, charge_micro_usd FROM usage_events")) {
      while (rs.next()) {
        rows.put(rs.getString(1), rs.getLong(2));
      }
    } catch (Exception e) {
      // The database may be coming back: the caller polls again.
      return Map.of();
    }
    return rows;
  }

  /** Every answered request billed, nothing else billed, and the sums agree. */
  private static void assertBilledExactlyOnce(String dbUrl, Map<String, Long> answered) throws InterruptedException {
    Map<String, Long>[] rows = new Map[1];
    poll(() -> (rows[0] = usageRows(dbUrl)).keySet().containsAll(answered.keySet()), 90,
        "usage rows for all " + answered.size() + " answered requests");
    assertEquals(answered.keySet(), rows[0].keySet(), "one usage row per answered request, and no other");
    assertEquals(answered.values().stream().mapToLong(Long::longValue).sum(),
        rows[0].values().stream().mapToLong(Long::longValue).sum(), "stored charges = announced charges");
    assertEquals(PRICE * answered.size(), rows[0].values().stream().mapToLong(Long::longValue).sum());
  }

  private static void deployAdd(TestGateway gw) throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "metered-add")
        .put("price", new JsonObject().put("per_request_micro_usd", PRICE)), TestGateway.model("add.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encode());
  }

  private static long nowMs() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
  }

  @Test
  @Order(3)
  void killingTheKafkaBrokerUnderLoadLosesAndDuplicatesNoUsage() throws Exception {
    KafkaBroker broker = UsageEventsIT.broker.get(3, TimeUnit.MINUTES);
    try (TestGateway gw = TestGateway.start(1, b -> b.kafka(broker.bootstrap()))) {
      deployAdd(gw);
      Load load = new Load(gw, "metered-add", 4);
      load.awaitMore(40, "before the fault");
      broker.stop();
      long down = nowMs();
      // Requests go on being answered while the broker is dead: billing never blocks them.
      load.awaitMore(20, "while the broker is down");
      poll(() -> nowMs() - down >= OUTAGE_MS, 30, "the outage to last");
      broker.restart();
      load.awaitMore(40, "after the broker came back");
      load.stop();
      assertTrue(load.answered.size() >= 100);
      assertBilledExactlyOnce(gw.config.dbUrl(), load.answered);
    }
  }

  @Test
  @Order(1)
  void stoppingPostgresUnderLoadFailsNoRequestAndLosesAndDuplicatesNoUsage() throws Exception {
    Path pgDir = Files.createTempDirectory("inferium-pg-");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    EmbeddedPostgres pg = postgres(pgDir, port);
    String url = "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    try (TestGateway gw = TestGateway.start(1, b -> b.dbUrl(url))) {
      deployAdd(gw);
      Load load = new Load(gw, "metered-add", 4);
      load.awaitMore(40, "before the fault");
      pg.close();
      long down = nowMs();
      // Past the function cache's 5 s and the key's next check, requests are still answered: the gateway serves
      // what the database last told it (stale-if-error) instead of failing every request until it is back.
      poll(() -> nowMs() - down >= 6_000, 30, "the outage to outlast the function cache");
      load.awaitMore(20, "late in the PostgreSQL outage");
      pg = postgres(pgDir, port);
      load.awaitMore(40, "after PostgreSQL came back");
      load.stop();
      assertEquals(0, load.failed.get(), "no request failed because PostgreSQL was down");
      assertBilledExactlyOnce(url, load.answered);
    } finally {
      pg.close();
    }
  }

  private static EmbeddedPostgres postgres(Path dir, int port) throws Exception {
    return EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setPort(port).start();
  }

  @Test
  @Order(2)
  void usageLeftUnconsumedAtARestartIsBilledOnceAfterIt() throws Exception {
    try (TestGateway gw = TestGateway.start(1)) {
      deployAdd(gw);
      // Make every insert fail, so usage piles up in the local log and nothing is consumed.
      try (Connection c = jdbc(gw.config.dbUrl()); Statement s = c.createStatement()) {
        s.execute("CREATE FUNCTION refuse_usage() RETURNS trigger LANGUAGE plpgsql AS "
            + "$$ BEGIN RAISE EXCEPTION 'billing is down'; END $$");
        s.execute("CREATE TRIGGER refuse_usage BEFORE INSERT ON usage_events FOR EACH ROW EXECUTE FUNCTION refuse_usage()");
      }
      Load load = new Load(gw, "metered-add", 4);
      load.awaitMore(60, "while billing refuses");
      load.stop();
      assertEquals(0, usageRows(gw.config.dbUrl()).size(), "nothing stored yet");
      double lag = gw.metrics.scrape().lines()
          .filter(l -> l.startsWith("inferium_events_lag{") && l.contains("group=\"billing\"") && l.contains("inferium.completions"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
      assertTrue(lag >= 60, "the billing group's lag shows the unconsumed usage, got " + lag);

      gw.restart();
      try (Connection c = jdbc(gw.config.dbUrl()); Statement s = c.createStatement()) {
        s.execute("DROP TRIGGER refuse_usage ON usage_events");
      }
      assertBilledExactlyOnce(gw.config.dbUrl(), load.answered);
    }
  }
}
