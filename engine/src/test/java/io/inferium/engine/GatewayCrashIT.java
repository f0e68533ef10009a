package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The must-show of issue #15: {@code kill -9} of a gateway under billed load, then a plain start on the
 * same data directory. The gateway runs as a real child process ({@code Main serve}) on the embedded
 * PostgreSQL (no database URL); its postmaster survives the kill as an orphan. The second start must
 * come up by itself (the stale postmaster stopped cleanly), and the stored usage must hold every request
 * that was answered 200, each once.
 */
class GatewayCrashIT {

  private static final String ADMIN_KEY = "crash-admin-key-0123456789";
  private static final Pattern READY = Pattern.compile("Inferium ready at http://[^:]+:(\\d+)");
  private static final String ADD_REQUEST = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
      + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";
  private static final int CLIENTS = 4;

  private Vertx vertx;
  private WebClient client;
  private Path dataDir;
  private final List<Process> started = new ArrayList<>();
  private final Set<ProcessHandle> descendants = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void setUp() throws IOException {
    vertx = Vertx.vertx();
    client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(16));
    dataDir = Files.createTempDirectory("inferium-crash-");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process p : started) {
      p.descendants().forEach(descendants::add);
      if (p.isAlive()) {
        // SIGTERM: the gateway's shutdown hook stops its workers and its PostgreSQL.
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
    // Workers of the killed gateway, should any have outlived it.
    descendants.forEach(ProcessHandle::destroyForcibly);
    client.close();
    vertx.close().await(30, TimeUnit.SECONDS);
    // The unpacked PostgreSQL alone is ~50 MB.
    try (var paths = Files.walk(dataDir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void killedUnderLoadComesBackByItselfWithEveryAnsweredRequestBilledOnce() throws Exception {
    Process first = serve("first");
    int port = awaitReady(first, "first");
    JsonObject deployed = deploy(port);
    assertEquals("ready", deployed.getString("state"), deployed.encodePrettily());

    // Billed load from a few concurrent clients; the gateway is killed while requests are in flight.
    Set<String> answered = ConcurrentHashMap.newKeySet();
    AtomicInteger failed = new AtomicInteger();
    AtomicInteger unbilled = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      loops.add(loop(port, answered, failed, unbilled, stop));
    }
    TestGateway.poll("150 answered requests", answered::size, n -> n >= 150);
    long postmaster = postmasterPid();
    first.descendants().forEach(descendants::add);
    first.destroyForcibly();   // SIGKILL: no shutdown hook, no pg_ctl stop
    assertTrue(first.waitFor(30, TimeUnit.SECONDS));
    assertEquals(137, first.exitValue(), "killed by SIGKILL");
    TestGateway.poll("clients see the gateway gone", failed::get, n -> n >= 1);
    stop.set(true);
    Future.join(loops).await(60, TimeUnit.SECONDS);
    int answeredBeforeKill = answered.size();
    assertEquals(0, unbilled.get(), "every answer was billed");
    assertTrue(running(postmaster), "the postmaster of the killed gateway is left running (orphaned)");

    // A plain start on the same data directory: it must come up by itself.
    Process second = serve("second");
    int port2 = awaitReady(second, "second");
    assertFalse(running(postmaster), "the stale postmaster was stopped");
    assertNotEquals(postmaster, postmasterPid());
    assertTrue(Files.readString(dataDir.resolve("second.log")).contains("from a previous run is still running"));

    // Usage complete: every request answered 200 is stored, each once; the only others are requests in
    // flight at the kill whose usage was durable but whose answer never reached the client.
    Set<String> stored = TestGateway.poll("usage of every answered request stored", this::storedUsageIds,
        ids -> ids.containsAll(answered));
    int rows = storedUsageRows();
    assertEquals(stored.size(), rows, "no usage row twice");
    Set<String> extra = new HashSet<>(stored);
    extra.removeAll(answered);
    assertTrue(extra.size() <= CLIENTS, "stored without a 200: " + extra.size() + " (at most one in flight per client)");
    assertEquals(answeredBeforeKill, answered.size());

    // And the restarted gateway bills as before.
    HttpResponse<Buffer> after = infer(port2).await(60, TimeUnit.SECONDS);
    assertEquals(200, after.statusCode(), after.bodyAsString());
    assertEquals("true", after.getHeader("X-Inferium-Billed"));
    String id = after.getHeader("X-Inferium-Request-Id");
    TestGateway.poll("the new request's usage stored", this::storedUsageIds, ids -> ids.contains(id));

    // A normal stop (SIGTERM, as a service manager sends it) stops the embedded PostgreSQL too.
    long current = postmasterPid();
    second.descendants().forEach(descendants::add);
    second.destroy();
    assertTrue(second.waitFor(90, TimeUnit.SECONDS), "the gateway stops on SIGTERM");
    assertFalse(running(current), "the postmaster stopped with the gateway");
    assertFalse(Files.exists(dataDir.resolve("pg/postmaster.pid")));
  }

  private Process serve(String name) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xss8m", "-Xmx512m", "-cp", System.getProperty("java.class.path"), "io.inferium.engine.cli.Main", "serve",
        "--port", "0", "--data-dir", dataDir.toString(), "--workers", "1", "--admin-key", ADMIN_KEY));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dataDir.resolve(name + ".log").toFile());
    pb.environment().remove("INFERIUM_DB_URL");
    pb.environment().remove("INFERIUM_KAFKA");
    Process p = pb.start();
    started.add(p);
    return p;
  }

  private int awaitReady(Process p, String name) throws Exception {
    Path log = dataDir.resolve(name + ".log");
    String text = TestGateway.poll(name + " gateway ready", () -> {
      if (!p.isAlive()) {
        throw new AssertionError(name + " gateway exited " + p.exitValue() + ": " + Files.readString(log));
      }
      return Files.readString(log);
    }, t -> READY.matcher(t).find());
    Matcher m = READY.matcher(text);
    assertTrue(m.find());
    return Integer.parseInt(m.group(1));
  }

  private JsonObject deploy(int port) throws Exception {
    MultipartForm form = MultipartForm.create()
        .attribute("spec", new JsonObject().put("name", "adder").encode())
        .binaryFileUpload("model", "add.onnx", TestGateway.model("add.onnx").toString(), "application/octet-stream");
    HttpResponse<Buffer> resp = client.post(port, "127.0.0.1", "/api/functions").bearerTokenAuthentication(ADMIN_KEY)
        .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    assertEquals(202, resp.statusCode(), resp.bodyAsString());
    return TestGateway.poll("adder verified", () -> client.get(port, "127.0.0.1", "/api/functions/adder/versions/1")
        .bearerTokenAuthentication(ADMIN_KEY).send().await(30, TimeUnit.SECONDS).bodyAsJsonObject(),
        r -> !"verifying".equals(r.getString("state")));
  }

  private Future<HttpResponse<Buffer>> infer(int port) {
    return client.post(port, "127.0.0.1", "/v2/models/adder/infer").bearerTokenAuthentication(ADMIN_KEY)
        .putHeader("Content-Type", "application/json").timeout(30_000).sendBuffer(Buffer.buffer(ADD_REQUEST));
  }

  /** One client: requests back to back until stopped; each 200's usage id is noted. */
  private Future<Void> loop(int port, Set<String> answered, AtomicInteger failed, AtomicInteger unbilled, AtomicBoolean stop) {
    Promise<Void> done = Promise.promise();
    vertx.runOnContext(v -> next(port, answered, failed, unbilled, stop, done));
    return done.future();
  }

  private void next(int port, Set<String> answered, AtomicInteger failed, AtomicInteger unbilled, AtomicBoolean stop,
      Promise<Void> done) {
    if (stop.get()) {
      done.complete();
      return;
    }
    infer(port).onComplete(ar -> {
      if (ar.succeeded() && ar.result().statusCode() == 200) {
        answered.add(ar.result().getHeader("X-Inferium-Request-Id"));
        if (!"true".equals(ar.result().getHeader("X-Inferium-Billed"))) {
          unbilled.incrementAndGet();
        }
      } else {
        failed.incrementAndGet();
      }
      if (ar.failed()) {
        // The gateway is gone: wait for the test to stop this client rather than spin.
        vertx.setTimer(50, t -> next(port, answered, failed, unbilled, stop, done));
      } else {
        next(port, answered, failed, unbilled, stop, done);
      }
    });
  }

  private long postmasterPid() throws IOException {
    return Long.parseLong(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(0).trim());
  }

  private Connection connect() throws Exception {
    List<String> pid = Files.readAllLines(dataDir.resolve("pg/postmaster.pid"));
    String password = Files.readString(dataDir.resolve("pg/inferium.password")).trim();
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pid.get(3).trim() + "/inferium", "inferium", password);
  }

  private Set<String> storedUsageIds() throws Exception {
    Set<String> ids = new HashSet<>();
    try (Connection c = connect(); Statement s = c.createStatement();
         ResultSet r = s.executeQuery("SELECT id FROM usage_events WHERE function_name = 'adder'")) {
      while (r.next()) {
        ids.add(r.getString(1));
      }
    }
    return ids;
  }

  private int storedUsageRows() throws Exception {
    try (Connection c = connect(); Statement s = c.createStatement();
         ResultSet r = s.executeQuery("SELECT count(*), sum(units) FROM usage_events WHERE function_name = 'adder'")) {
      r.next();
      assertEquals(r.getLong(1), r.getLong(2), "one unit per request");
      return r.getInt(1);
    }
  }

  /** Alive and not a zombie (an exited orphan waits for pid 1 to reap it). */
  private static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException gone) {
      return false;
    }
  }
}
