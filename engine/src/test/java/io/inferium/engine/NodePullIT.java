package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.gateway.NodeCode;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.engine.gateway.NodePortSettings;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameCodec;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;

/**
 * Work pulled by credits, and draining, with real node processes of two operators on one gateway that has
 * no local worker: a node advertising 1 credit never holds 2 calls at once under concurrent load, a node
 * claiming a million is held to the gateway's cap, and a node told to drain (by {@code inferium node
 * --drain}, a SIGTERM) finishes what it holds under load, leaves and exits 0 with no request lost. The
 * attacks on the credit terms are played by a raw TLS client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodePullIT {

  /** The gateway's per-node cap on credits (its per-worker in-flight limit). */
  private static final int CAP = 3;
  private TestGateway gw;
  private String keyA;
  private String keyB;
  private String opA;
  private final List<Process> processes = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(0, b -> b.maxInflightPerWorker(CAP).nodePort(NodePortSettings.on(0).withHost("127.0.0.1")));
    JsonObject a = gw.post("/api/operator-keys", new JsonObject().put("name", "op-a").encode()).bodyAsJsonObject();
    keyA = a.getString("secret");
    opA = a.getString("id");
    keyB = gw.post("/api/operator-keys", new JsonObject().put("name", "op-b").encode()).bodyAsJsonObject().getString("secret");
  }

  @AfterAll
  void stop() throws Exception {
    for (Process p : processes) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (gw != null) {
      gw.close();
    }
  }

  private static List<String> nodeJava(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss8m",
        "-Xmx256m", "-cp", NodeCode.resolve().classPath(), "io.inferium.node.NodeMain", "node"));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** A real node process with its own data dir (log in dir/node.log); returns its id once its key exists. */
  private String startNode(Path dir, String key, String... extra) throws Exception {
    Files.createDirectories(dir);
    Path keyFile = dir.resolve("operator.key");
    Files.writeString(keyFile, key + "\n", StandardCharsets.UTF_8);
    List<String> args = new ArrayList<>(List.of("--gateway", "127.0.0.1:" + gw.gateway.remoteNodes().port(),
        "--operator-key", keyFile.toString(), "--data-dir", dir.toString(),
        "--gateway-fingerprint", gw.gateway.remoteNodes().fingerprint(), "--heartbeat-ms", "300",
        "--label", dir.getFileName().toString()));
    args.addAll(List.of(extra));
    Process p = new ProcessBuilder(nodeJava(args.toArray(String[]::new))).redirectErrorStream(true)
        .redirectOutput(dir.resolve("node.log").toFile()).start();
    processes.add(p);
    return Eventually.value("the key of " + dir, Duration.ofSeconds(60), () -> {
      Path f = dir.resolve("node.key");
      return Files.exists(f) && Files.size(f) > 0 ? NodeKeys.loadOrCreate(f).nodeId() : null;
    }, id -> id != null);
  }

  private JsonObject nodeView(String nodeId) throws Exception {
    return gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> nodeId.equals(n.getString("node_id"))).findFirst().orElse(new JsonObject());
  }

  private JsonObject credits(String nodeId) {
    try {
      return nodeView(nodeId).getJsonObject("credits");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void connectedAndStaked(String nodeId) throws Exception {
    Eventually.value(nodeId + " connected", Duration.ofSeconds(90), () -> nodeView(nodeId),
        n -> "connected".equals(n.getString("connection")));
    assertEquals(200, gw.post("/api/nodes/" + nodeId + "/stake",
        new JsonObject().put("amount_micro_usd", NodePortSettings.DEFAULT_MIN_STAKE_MICRO_USD).encode()).statusCode());
  }

  private static JsonObject addRequest(int i) {
    return new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, i, i, i, i)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4))));
  }

  /** Null when the answer is the right sum for request {@code i}; otherwise what is wrong with it. */
  private String checkAdd(int i) {
    try {
      var resp = gw.infer("pull-add", addRequest(i));
      if (resp.statusCode() != 200) {
        return resp.statusCode() + " " + resp.bodyAsString();
      }
      JsonObject sum = resp.bodyAsJsonObject().getJsonArray("outputs").stream().map(JsonObject.class::cast)
          .filter(o -> "sum".equals(o.getString("name"))).findFirst().orElseThrow();
      for (int j = 0; j < 4; j++) {
        if (Math.abs(sum.getJsonArray("data").getDouble(j) - (i + j + 1.0)) > 1e-6) {
          return "wrong sum for " + i + ": " + sum.encode();
        }
      }
      return null;
    } catch (Exception e) {
      return e.toString();
    }
  }

  private Path dirA;
  private Path dirB;
  private String a;
  private String b;
  private String c;
  private ExecutorService clients;
  private final AtomicBoolean loading = new AtomicBoolean();

  private void loadingStop() {
    loading.set(false);
  }

  @Test
  @Order(1)
  void creditsBoundWhatANodeHolds() throws Exception {
    // Every function this class uses is verified while the nodes start. pull-add: one request per batch, so
    // every request is its own call.
    List<JsonObject> deploying = List.of(
        gw.deploy(new JsonObject().put("name", "pull-add").put("batching", new JsonObject().put("max_batch_size", 1)),
            TestGateway.model("add.onnx")),
        gw.deploy(new JsonObject().put("name", "gpu-add").put("requires", new JsonObject().put("gpu", true)),
            TestGateway.model("add.onnx")),
        gw.deploy(new JsonObject().put("name", "three-nodes").put("verification", new JsonObject()
            .put("policy", "redundant").put("k", 3).put("distinct_operators", false)), TestGateway.model("add.onnx")));
    dirA = Files.createTempDirectory("inferium-pull-a-");
    dirB = Files.createTempDirectory("inferium-pull-b-");
    Path dirC = Files.createTempDirectory("inferium-pull-c-");
    // A and B slow (40 and 250 ms a run, one slot), so calls overlap and queue on the node if the gateway sends them
    // (and B still holds some when it is told to drain). C is operator A's second node.
    a = startNode(dirA, keyA, "--slots", "1", "--credits", "1", "--test-fault", "slow-ms:40");
    b = startNode(dirB, keyB, "--slots", "1", "--credits", "1000000", "--test-fault", "slow-ms:250");
    c = startNode(dirC, keyA, "--slots", "1", "--credits", "2");
    connectedAndStaked(a);
    connectedAndStaked(b);
    connectedAndStaked(c);
    JsonObject credA = nodeView(a).getJsonObject("credits");
    JsonObject credB = nodeView(b).getJsonObject("credits");
    assertEquals(1, credA.getInteger("advertised"), credA.encode());
    assertEquals(1, credA.getInteger("granted"), credA.encode());
    assertEquals(1_000_000, credB.getInteger("advertised"), credB.encode());
    assertEquals(CAP, credB.getInteger("granted"), "a node claiming a million credits gets the gateway's cap");

    for (JsonObject d : deploying) {
      String path = "/api/functions/" + d.getString("name") + "/versions/" + d.getInteger("version");
      JsonObject rec = Eventually.value(path + " ready", Duration.ofSeconds(120), () -> gw.get(path).bodyAsJsonObject(),
          now -> !"verifying".equals(now.getString("state")));
      assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    }

    clients = Executors.newFixedThreadPool(12);
    {
      List<java.util.concurrent.Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 36; i++) {
        int n = i;
        answers.add(clients.submit(() -> checkAdd(n)));
      }
      for (var f : answers) {
        String problem = f.get(120, TimeUnit.SECONDS);
        assertEquals(null, problem);
      }
      // The nodes' own counts reach the gateway with their next heartbeat.
      JsonObject ra = Eventually.value("node A's report", Duration.ofSeconds(10), () -> nodeView(a).getJsonObject("reported"),
          r -> r != null && r.getLong("peak_calls", 0L) > 0 && r.getLong("calls_open", -1L) == 0);
      JsonObject rb = Eventually.value("node B's report", Duration.ofSeconds(10), () -> nodeView(b).getJsonObject("reported"),
          r -> r != null && r.getLong("peak_calls", 0L) > 0 && r.getLong("calls_open", -1L) == 0);
      System.out.println("node A (credits 1) reports " + ra.encode() + "; node B (credits 1000000, cap " + CAP + ") " + rb.encode());
      assertEquals(1, ra.getLong("peak_calls"), "a node with one credit never holds two calls at once");
      assertTrue(rb.getLong("peak_calls") <= CAP, "the gateway's cap holds whatever a node claims: " + rb.encode());
      assertTrue(rb.getLong("peak_calls") > 1, "the load was concurrent enough to matter: " + rb.encode());
      assertEquals(1L, ra.getLong("cache_misses"), "node A fetched the model once: " + ra.encode());
      assertTrue(ra.getLong("fetched_bytes") >= Files.size(TestGateway.model("add.onnx")), ra.encode());

      // Per-node series on /metrics, by node id.
      String metrics = gw.get("/metrics").bodyAsString();
      assertTrue(metric(metrics, "inferium_node_call_seconds_count", a) >= 1, "A's calls timed");
      assertTrue(metric(metrics, "inferium_node_call_seconds_count", b) >= 1, "B's calls timed");
      assertEquals(1.0, metric(metrics, "inferium_node_credits_granted", a));
      assertEquals(CAP, metric(metrics, "inferium_node_credits_granted", b));
      assertEquals(0.0, metric(metrics, "inferium_node_credits_in_use", a));
      assertEquals(1.0, metric(metrics, "inferium_node_cache_misses_total", a));
      assertEquals(0.0, metric(metrics, "inferium_node_cache_hits_total", a));
      assertTrue(metric(metrics, "inferium_node_fetched_bytes_total", a) >= Files.size(TestGateway.model("add.onnx")));
    }
  }

  /** Requests dispatched again after a worker was lost, all functions. */
  private double redispatched() throws Exception {
    return gw.get("/metrics").bodyAsString().lines().filter(l -> l.startsWith("inferium_redispatched_total"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** The value of {@code name{node="<node>"}} in a Prometheus text page; fails when absent. */
  private static double metric(String page, String name, String node) {
    String prefix = name + "{node=\"" + node + "\"";
    return page.lines().filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst().orElseThrow(() -> new AssertionError(prefix + " not on /metrics"));
  }

  private HttpResponse<Buffer> deployRaw(JsonObject spec) throws Exception {
    return gw.upload(spec.encode(), TestGateway.model("add.onnx"));
  }

  @Test
  @Order(2)
  void placementHonoursRequirementsAndRedundancySpansOperators() throws Exception {
    // Bad requirements are refused at deploy, naming the field.
    for (JsonObject[] bad : new JsonObject[][] {
        {new JsonObject().put("tier", "ultra"), new JsonObject().put("f", "requires.tier")},
        {new JsonObject().put("gpu", "yes"), new JsonObject().put("f", "requires.gpu")},
        {new JsonObject().put("memory_mb", -1), new JsonObject().put("f", "requires.memory_mb")},
        {new JsonObject().put("disk", 1), new JsonObject().put("f", "unknown field 'disk'")}}) {
      var resp = deployRaw(new JsonObject().put("name", "bad-place").put("requires", bad[0]));
      assertEquals(400, resp.statusCode(), resp.bodyAsString());
      assertTrue(resp.bodyAsJsonObject().getString("error").contains(bad[1].getString("f")), resp.bodyAsString());
    }
    var distinctBad = deployRaw(new JsonObject().put("name", "bad-place")
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 2).put("distinct_operators", "no")));
    assertEquals(400, distinctBad.statusCode(), distinctBad.bodyAsString());
    assertTrue(distinctBad.bodyAsString().contains("verification.distinct_operators"), distinctBad.bodyAsString());

    // No node here has a GPU: a function that requires one is refused at once, naming the requirement.
    var noGpu = gw.infer("gpu-add", addRequest(1));
    assertEquals(503, noGpu.statusCode(), noGpu.bodyAsString());
    String noGpuError = noGpu.bodyAsJsonObject().getString("error");
    assertTrue(noGpuError.contains("requires {\"gpu\":true}") && noGpuError.contains("no GPU"), noGpuError);

    // redundant(2) on nodes of two operators (A's two, B's one): each copy on another operator's node.
    for (int i = 0; i < 3; i++) {
      var resp = gw.infer("pull-add", redundant(addRequest(i), 2));
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      JsonObject p = resp.bodyAsJsonObject().getJsonObject("parameters");
      assertEquals(2, p.getInteger("operators"), p.encode());
      assertEquals(false, p.getBoolean("same_operator"), p.encode());
    }
    // redundant(3) needs three operators by default: a 503 that says so.
    var short3 = gw.infer("pull-add", redundant(addRequest(3), 3));
    assertEquals(503, short3.statusCode(), short3.bodyAsString());
    String shortError = short3.bodyAsJsonObject().getString("error");
    assertTrue(shortError.contains("3 different operators") && shortError.contains("distinct_operators"), shortError);
    // Allowed by the spec, it runs on three distinct nodes and the answer says two of them share an operator.
    JsonObject threeNodes = gw.get("/api/functions/three-nodes/versions/1").bodyAsJsonObject();
    assertEquals(false, threeNodes.getJsonObject("verification_policy").getBoolean("distinct_operators"), threeNodes.encode());
    var three = gw.infer("three-nodes", addRequest(4));
    assertEquals(200, three.statusCode(), three.bodyAsString());
    JsonObject p3 = three.bodyAsJsonObject().getJsonObject("parameters");
    assertEquals(2, p3.getInteger("operators"), p3.encode());
    assertEquals(true, p3.getBoolean("same_operator"), p3.encode());
  }

  private static JsonObject redundant(JsonObject request, int k) {
    return request.put("parameters", new JsonObject().put("verification",
        new JsonObject().put("policy", "redundant").put("k", k)));
  }

  @Test
  @Order(4)
  void aDrainingNodeFinishesItsWorkAndLeaves() throws Exception {
    try {
      // Drain B under load (SIGTERM, as a service manager stops it) at a moment it holds calls; every request is
      // still answered, rightly.
      loading.set(true);
      ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
      java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
      List<java.util.concurrent.Future<?>> loops = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int base = t * 10_000;
        loops.add(clients.submit(() -> {
          for (int i = base; loading.get(); i++) {
            String p = checkAdd(i % 1000);
            if (p != null) {
              problems.add(p);
            }
            answered.incrementAndGet();
          }
        }));
      }
      Eventually.until("load running", Duration.ofSeconds(30), () -> answered.get() >= 10);
      WorkerLink linkB = gw.gateway.remoteNodes().node(b).orElseThrow().link();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (linkB.inFlight().calls() < 2 && System.nanoTime() < until) {
        Thread.sleep(1);
      }
      Process nodeB = processes.get(1);
      nodeB.destroy(); // SIGTERM
      assertTrue(nodeB.waitFor(60, TimeUnit.SECONDS), "a draining node leaves once its work is done");
      assertEquals(0, nodeB.exitValue(), "a drained node exits 0");
      int atDrain = answered.get();
      Eventually.until("load after the drain", Duration.ofSeconds(30), () -> answered.get() >= atDrain + 10);
      loading.set(false);
      for (var l : loops) {
        l.get(60, TimeUnit.SECONDS);
      }
      assertTrue(problems.isEmpty(), "requests failed around the drain: " + problems);
      JsonObject viewB = nodeView(b);
      assertEquals("disconnected", viewB.getString("connection"), viewB.encode());
      assertEquals("drained", viewB.getString("last_disconnect"), viewB.encode());
      String logB = Files.readString(dirB.resolve("node.log"));
      assertTrue(logB.contains("draining (SIGTERM)") && logB.contains("drained"), logB);
      java.util.regex.Matcher held = java.util.regex.Pattern.compile("finishes the (\\d+) it holds").matcher(logB);
      assertTrue(held.find() && Integer.parseInt(held.group(1)) >= 1, "it drained with calls in hand, under load: " + logB);
      assertFalse(logB.contains("has not released this node"), "the gateway released it, no timeout: " + logB);
      assertEquals("connected", nodeView(a).getString("connection"));

      // `inferium node --drain --data-dir D` signals the node of that data dir and waits until it has left.
      Process drain = new ProcessBuilder(nodeJava("--drain", "--data-dir", dirA.toString())).redirectErrorStream(true)
          .redirectOutput(dirA.resolve("drain.log").toFile()).start();
      processes.add(drain);
      assertTrue(drain.waitFor(60, TimeUnit.SECONDS), "inferium node --drain returns once the node left");
      assertEquals(0, drain.exitValue(), Files.readString(dirA.resolve("drain.log")));
      Process nodeA = processes.get(0);
      assertTrue(nodeA.waitFor(10, TimeUnit.SECONDS));
      assertEquals(0, nodeA.exitValue());
      assertEquals("drained", nodeView(a).getString("last_disconnect"));
      assertFalse(Files.exists(dirA.resolve("node.pid")), "the pid file goes with the node");
      assertEquals(1, new ProcessBuilder(nodeJava("--drain", "--data-dir", dirA.toString())).start().waitFor(),
          "no node runs there any more");
    } finally {
      loadingStop();
    }
  }

  @AfterAll
  void stopClients() {
    if (clients != null) {
      clients.shutdownNow();
    }
  }

  @Test
  @Order(3)
  void aNodeThatStopsHeartbeatingIsDroppedAndItsCallsRunElsewhere() throws Exception {
    // Frozen (SIGSTOP): no heartbeat, no answer, the connection still open, like a hung machine.
    Process nodeC = processes.get(2);
    assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(nodeC.pid())).start().waitFor());
    long t0 = System.nanoTime();
    double redispatched = redispatched();
    try {
      List<java.util.concurrent.Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 12; i++) { // more than A, B and C together take: C is sent its share
        int n = i;
        answers.add(clients.submit(() -> checkAdd(n)));
      }
      for (var f : answers) {
        assertEquals(null, f.get(60, TimeUnit.SECONDS), "every request is answered, rightly, by a live node");
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      JsonObject view = nodeView(c);
      System.out.println("frozen node dropped: " + view.getString("last_disconnect") + "; requests done after " + ms + " ms");
      assertEquals("disconnected", view.getString("connection"), view.encode());
      assertTrue(view.getString("last_disconnect").startsWith("no heartbeat for"), view.encode());
      // Dropped after heartbeat_ms (1000) x 5 misses since its last heartbeat, checked every heartbeat; the calls it
      // held ran again on another node.
      assertTrue(ms < 15_000, "answered after " + ms + " ms");
      assertTrue(redispatched() > redispatched, "the frozen node's calls were dispatched again");
    } finally {
      new ProcessBuilder("kill", "-CONT", Long.toString(nodeC.pid())).start().waitFor();
      nodeC.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // the drain below runs on A and B only
    }
  }

  // ---- attacks on the credit terms, by a raw TLS client ----

  private final class Raw extends RawNodeConnection {
    Raw() throws Exception {
      super(gw.gateway.remoteNodes().port());
    }

    /** Answers the challenge as {@code node} with the given credits; returns the reply. */
    Frame hello(NodeKeys node, String key, Object credits) throws IOException {
      Frame challenge = read();
      String nonce = challenge.meta().getString("nonce");
      String gatewayId = gw.gateway.remoteNodes().fingerprint();
      String code = NodeCode.resolve().sha256();
      send(Frame.of(FrameType.HELLO, 0, new JsonObject().put("protocol", FrameCodec.PROTOCOL_VERSION)
          .put("node_id", node.nodeId()).put("label", "raw").put("pid", 1)
          .put("capabilities", new JsonObject().put("cores", 1).put("memory_bytes", 1L << 30).put("device", "CPU")
              .put("slots", 1).put("gpu", "none"))
          .put("runtime", new JsonObject().put("name", "onnxruntime").put("version", "test"))
          .put("code_sha256", code).put("public_key", node.publicKey()).put("nonce", nonce).put("gateway_id", gatewayId)
          .put("operator_key", key).put("credits", credits).put("operator", "someone-else")
          .put("signature", node.sign(NodeKeys.remoteHelloMessage(nonce, gatewayId, node.publicKey(), node.nodeId(), code)))));
      return read();
    }
  }

  @Test
  @Order(0)
  void aNodeCannotClaimOrRaiseCreditsPastTheCapAndADrainingNodeIsLetGo() throws Exception {
    try (Raw raw = new Raw()) {
      Frame refused = raw.hello(NodeKeys.generate(), keyA, "lots");
      assertEquals(FrameType.ERROR, refused.type());
      assertTrue(refused.meta().getString("message").contains("credits"), refused.meta().encode());
    }
    NodeKeys node = NodeKeys.generate();
    try (Raw raw = new Raw()) {
      assertEquals(FrameType.WELCOME, raw.hello(node, keyA, 1_000_000_000L).type());
      String id = node.nodeId();
      assertEquals(CAP, nodeView(id).getJsonObject("credits").getInteger("granted"), "a huge claim gets the cap");
      assertEquals(opA, nodeView(id).getString("operator"), "the operator is the key's, never what the hello claims");
      connectedAndStaked(id);
      assertTrue(nodeView(id).getBoolean("eligible"), nodeView(id).encode());
      // Lowering is honoured at once; raising past the cap is not.
      raw.send(Frame.of(FrameType.HEARTBEAT, 0, new JsonObject().put("credits", 1)));
      Eventually.until("credits lowered", Duration.ofSeconds(10),
          () -> credits(id).getInteger("granted") == 1);
      raw.send(Frame.of(FrameType.HEARTBEAT, 0, new JsonObject().put("credits", Long.MAX_VALUE)));
      Eventually.until("credits raised", Duration.ofSeconds(10),
          () -> credits(id).getLong("advertised") == Long.MAX_VALUE);
      assertEquals(CAP, nodeView(id).getJsonObject("credits").getInteger("granted"));
      raw.send(Frame.of(FrameType.HEARTBEAT, 0, new JsonObject().put("credits", -5)));
      Eventually.until("credits at 0", Duration.ofSeconds(10),
          () -> credits(id).getInteger("granted") == 0);
      raw.send(Frame.of(FrameType.HEARTBEAT, 0, new JsonObject().put("credits", 2)));
      // Draining: no new work, and holding nothing it is let go at once; credits cannot undo it.
      raw.send(Frame.of(FrameType.HEARTBEAT, 0, new JsonObject().put("credits", 2).put("draining", true)));
      assertTrue(raw.closedByGateway(), "a draining node that holds nothing is disconnected");
      JsonObject view = nodeView(id);
      assertEquals("drained", view.getString("last_disconnect"), view.encode());
      assertFalse(view.getBoolean("eligible"), view.encode());
      assertTrue(gw.gateway.remoteNodes().eligibleLinks().stream().noneMatch(l -> l.workerId().equals(id)));
    }
  }
}
