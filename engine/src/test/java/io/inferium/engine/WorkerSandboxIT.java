package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.ModelBlobs;
import io.inferium.functions.tensor.Tensors;
import io.inferium.infra.TestDatabase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Workers run untrusted models: they must not see the gateway's secrets (environment, data directory)
 * and must not take more memory than they are given. Real gateways, real worker processes.
 */
class WorkerSandboxIT {

  /** What a worker's environment may hold (docs/ARCHITECTURE.md, "Worker sandbox"). */
  private static final List<String> ALLOWED_ENV = List.of("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH",
      "CUDA_VISIBLE_DEVICES", "HOME", "TMPDIR", "DJL_CACHE_DIR", "MALLOC_ARENA_MAX", "INFERIUM_WORKER_TOKEN");
  private static final String SECRET_KEY = "sandbox-it-admin-key-do-not-leak-0123456789";

  /** The gateway's whole environment, as a worker sees it: nothing but the allow-list. */
  @Test
  void aWorkerInheritsNoneOfTheGatewaysEnvironment() throws Exception {
    Path dataDir = Files.createTempDirectory("inferium-sandbox-env-");
    try (TestDatabase db = TestDatabase.create()) {
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx512m", "-cp", System.getProperty("java.class.path"), "io.inferium.engine.cli.Main", "serve", "--port", "0"));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(dataDir.resolve("serve.log").toFile());
      pb.environment().put("INFERIUM_ADMIN_KEY", SECRET_KEY);
      pb.environment().put("INFERIUM_DB_URL", db.url());
      pb.environment().put("INFERIUM_DATA_DIR", dataDir.toString());
      pb.environment().put("INFERIUM_WORKERS", "1");
      pb.environment().put("AWS_SECRET_ACCESS_KEY", "not-for-workers");
      Process serve = pb.start();
      try {
        ProcessHandle worker = TestGateway.poll("a worker process of the serve command",
            () -> serve.descendants().filter(WorkerSandboxIT::isWorker).findFirst().orElse(null),
            w -> w != null && environ(w).containsKey("INFERIUM_WORKER_TOKEN"));
        Map<String, String> env = environ(worker);
        assertFalse(env.containsKey("INFERIUM_ADMIN_KEY"), env.toString());
        assertFalse(env.containsKey("INFERIUM_DB_URL"), env.toString());
        assertFalse(env.containsKey("AWS_SECRET_ACCESS_KEY"), env.toString());
        assertFalse(env.values().stream().anyMatch(v -> v.contains(SECRET_KEY) || v.contains(db.url())), env.toString());
        assertTrue(ALLOWED_ENV.containsAll(env.keySet()), "unexpected variables: " + env.keySet());
        // HOME and TMPDIR are the worker's own scratch directory, not the gateway's home.
        assertTrue(env.get("HOME").startsWith(dataDir.resolve("workers").toString()), env.get("HOME"));
        assertTrue(env.get("TMPDIR").startsWith(env.get("HOME")), env.get("TMPDIR"));
      } finally {
        serve.destroy();
        if (!serve.waitFor(30, TimeUnit.SECONDS)) {
          serve.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  /**
   * A worker that tries to read the gateway's admin key, database files and node keys (as a hostile
   * model with code execution would) finds nothing there, runs under a uid of its own, and still
   * serves models from the store.
   */
  @Test
  void aWorkerCannotReadTheDataDirectoryButServesModels() throws Exception {
    Path dataDir = Files.createTempDirectory("inferium-sandbox-files-");
    Files.writeString(dataDir.resolve("admin.key"), "the-admin-key\n");
    Files.setPosixFilePermissions(dataDir.resolve("admin.key"), PosixFilePermissions.fromString("rw-------"));
    Files.createDirectories(dataDir.resolve("pg"));
    Files.writeString(dataDir.resolve("pg/PG_VERSION"), "16\n");
    Files.createDirectories(dataDir.resolve("nodes"));
    Files.writeString(dataDir.resolve("nodes/gateway.key"), "secret node key\n");
    String probes = String.join(",", dataDir.resolve("admin.key").toString(), dataDir.resolve("pg/PG_VERSION").toString(),
        dataDir.resolve("nodes/gateway.key").toString(), dataDir.resolve("logs").toString(), dataDir.toString(),
        Path.of("pom.xml").toAbsolutePath().toString(), "/etc/hostname");
    try (TestGateway gw = TestGateway.start(2, b -> b.dataDir(dataDir).testFault(1, "probe-read:" + probes))) {
      String summary = gw.gateway.supervisor().sandboxSummary();
      Assumptions.assumeTrue(summary.contains("private mount"), "the file sandbox is unavailable here: " + summary);

      Path log = dataDir.resolve("logs/worker-w1.log");
      String text = TestGateway.poll("the probe results in " + log,
          () -> Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "",
          t -> t.contains("probe-read /etc/hostname"));
      for (String secret : List.of("admin.key", "pg/PG_VERSION", "nodes/gateway.key", "logs")) {
        assertTrue(text.contains("probe-read " + dataDir.resolve(secret) + ": denied"), secret + " was readable:\n" + text);
      }
      // Nor the source tree the gateway runs from: only its class path is there.
      assertTrue(text.contains("probe-read " + Path.of("pom.xml").toAbsolutePath() + ": denied"), text);
      // The probe itself works: a file that is meant to be visible is read.
      assertTrue(text.contains("probe-read /etc/hostname: readable"), text);

      long pid = gw.gateway.supervisor().workers().get(0).pid();
      String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
      String uid = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1];
      assertNotEquals("0", uid, "the worker runs as root");
      assertTrue(status.lines().anyMatch(l -> l.startsWith("CapEff:") && l.endsWith("0000000000000000")), status);

      JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "sandboxed-add"), TestGateway.model("add.onnx"));
      assertEquals("ready", rec.getString("state"), rec.encodePrettily());
      for (int i = 0; i < 4; i++) {
        HttpResponse<Buffer> resp = gw.infer("sandboxed-add", add());
        assertEquals(200, resp.statusCode(), resp.bodyAsString());
        assertEquals(List.of(4.0, 6.0, 8.0, 10.0), sum(resp));
      }
    }
  }

  /**
   * Workers started once the gateway's class archive exists map it, mounted read-only: a worker cannot change what
   * the next one maps (the archive is made by the gateway from class names only: WorkerClassArchiveTest).
   */
  @Test
  void laterWorkersMapTheGatewaysClassArchiveReadOnly() throws Exception {
    try (TestGateway gw = TestGateway.start(1)) {
      var supervisor = gw.gateway.supervisor();
      Path archive = TestGateway.poll("the workers' class archive", supervisor::classArchive, a -> a != null);
      var first = supervisor.workers().get(0);
      supervisor.replace(first, "test: a worker started after the archive exists");
      var next = TestGateway.poll("the replacement worker",
          () -> supervisor.workers().stream().filter(w -> w != first).findFirst().orElse(null), w -> w != null);
      String maps = Files.readString(Path.of("/proc", Long.toString(next.pid()), "maps"));
      assertTrue(maps.contains(archive.getFileName().toString()), "the worker does not map " + archive + ":\n" + maps);
      if (supervisor.sandboxSummary().contains("private mount")) {
        String mount = Files.readString(Path.of("/proc", Long.toString(next.pid()), "mountinfo")).lines()
            .filter(l -> l.split(" ")[4].equals(archive.toString())).findFirst().orElseThrow();
        assertTrue(mount.split(" ")[5].startsWith("ro"), mount);
      }
      JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "archived-add"), TestGateway.model("add.onnx"));
      assertEquals("ready", rec.getString("state"), rec.encodePrettily());
      HttpResponse<Buffer> resp = gw.infer("archived-add", add());
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      assertEquals(List.of(4.0, 6.0, 8.0, 10.0), sum(resp));
    }
  }

  /**
   * A model that takes more memory than a worker may have costs the workers that ran it, which are
   * killed and named with the limit in the error; another function's request still succeeds.
   */
  @Test
  void aWorkerOverItsMemoryLimitIsKilledAndNamedWhileOtherFunctionsServe() throws Exception {
    String bombSha = ModelBlobs.sha256(TestGateway.model("add.onnx"));
    String bomb = "alloc-mib:1024:" + bombSha;
    try (TestGateway gw = TestGateway.start(2, b -> b.workerMemoryBytes(640L << 20).testFault(1, bomb).testFault(2, bomb))) {
      JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "memory-bomb").put("timeout_ms", 110_000),
          TestGateway.model("add.onnx"));
      assertEquals("ready", rec.getString("state"), rec.encodePrettily());
      JsonObject other = gw.deployAndWait(new JsonObject().put("name", "well-behaved").put("timeout_ms", 110_000),
          TestGateway.model("loop_by_input.onnx"));
      assertEquals("ready", other.getString("state"), other.encodePrettily());

      var bombing = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/memory-bomb/infer")
          .bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendJsonObject(add());
      HttpResponse<Buffer> fine = gw.infer("well-behaved", loop());
      assertEquals(200, fine.statusCode(), fine.bodyAsString());
      assertEquals(6.0, Tensors.toDoubleArray(output(fine.bodyAsJsonObject(), "y"))[0]);

      HttpResponse<Buffer> bombed = bombing.await(2, TimeUnit.MINUTES);
      assertEquals(502, bombed.statusCode(), bombed.bodyAsString());
      String error = bombed.bodyAsJsonObject().getString("error");
      assertTrue(error.matches("(?s).*worker w[12] exceeded its memory limit of 640 MiB \\(RSS [0-9.]+ [GM]iB\\).*"), error);

      TestGateway.poll("both workers back", () -> gw.gateway.supervisor().workers().size(), n -> n == 2);
      HttpResponse<Buffer> after = gw.infer("well-behaved", loop());
      assertEquals(200, after.statusCode(), after.bodyAsString());
    }
  }

  /** Where the file sandbox cannot be used (or is turned off), workers still get the clean environment and the limits. */
  @Test
  void withTheFileSandboxOffAWorkerStillHasACleanEnvironmentAndLimits() throws Exception {
    try (TestGateway gw = TestGateway.start(1, b -> b.workerSandbox(io.inferium.engine.gateway.SandboxSettings.Mode.OFF))) {
      String summary = gw.gateway.supervisor().sandboxSummary();
      assertTrue(summary.contains("NOT enforced: file sandbox and separate uid (turned off"), summary);
      long pid = gw.gateway.supervisor().workers().get(0).pid();
      Map<String, String> env = environ(ProcessHandle.of(pid).orElseThrow());
      assertTrue(env.containsKey("INFERIUM_WORKER_TOKEN"), env.keySet().toString());
      assertTrue(ALLOWED_ENV.containsAll(env.keySet()), "unexpected variables: " + env.keySet());
      String limits = Files.readString(Path.of("/proc", Long.toString(pid), "limits"));
      assertTrue(limits.lines().anyMatch(l -> l.startsWith("Max core file size") && l.contains(" 0 ")), limits);
      JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "unsandboxed-add"), TestGateway.model("add.onnx"));
      assertEquals("ready", rec.getString("state"), rec.encodePrettily());
      HttpResponse<Buffer> resp = gw.infer("unsandboxed-add", add());
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      assertEquals(List.of(4.0, 6.0, 8.0, 10.0), sum(resp));
    }
  }

  private static JsonObject add() {
    return request(Tensors.fp32("a", new long[] {1, 4}, 1, 2, 3, 4), Tensors.fp32("b", new long[] {1, 4}, 3, 4, 5, 6));
  }

  private static JsonObject loop() {
    return request(Tensors.int64("iterations", new long[] {1}, 5), Tensors.fp32("x", new long[] {1}, 1f));
  }

  private static JsonObject request(io.inferium.functions.tensor.Tensor... inputs) {
    JsonArray in = new JsonArray();
    for (var t : inputs) {
      in.add(io.inferium.functions.tensor.V2Json.encodeOutput(t));
    }
    return new JsonObject().put("inputs", in);
  }

  private static io.inferium.functions.tensor.Tensor output(JsonObject body, String name) {
    return io.inferium.functions.tensor.V2Json.decodeInput(body.getJsonArray("outputs").stream().map(JsonObject.class::cast)
        .filter(o -> o.getString("name").equals(name)).findFirst().orElseThrow());
  }

  private static List<Double> sum(HttpResponse<Buffer> resp) {
    List<Double> out = new ArrayList<>();
    for (double d : Tensors.toDoubleArray(output(resp.bodyAsJsonObject(), "sum"))) {
      out.add(d);
    }
    return out;
  }

  /** The JVM of a worker (not its launcher before the exec): /proc, since ProcessHandle hides other users' arguments. */
  private static boolean isWorker(ProcessHandle p) {
    try {
      List<String> args = List.of(Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).split("\0"));
      return args.get(0).endsWith("/java") && args.contains(io.inferium.functions.protocol.WorkerLaunch.MAIN_CLASS) && args.contains("worker");
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static Map<String, String> environ(ProcessHandle p) {
    Map<String, String> env = new TreeMap<>();
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"));
      for (String kv : new String(raw, StandardCharsets.UTF_8).split("\0")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
    } catch (java.io.IOException e) {
      // exited meanwhile: empty
    }
    return env;
  }
}
