package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.gateway.NodeCode;
import io.inferium.engine.gateway.NodePortSettings;
import io.inferium.engine.gateway.WorkerPortLimits;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameCodec;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.protocol.TokensFrame;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The remote node port end to end: a real {@code inferium-node node} process connects out over TLS with
 * the gateway's certificate pinned, proves its key, registers under its operator with no stake (so it is
 * not eligible for work until staked), keeps its identity across a reconnect; a node pinning another
 * fingerprint refuses the gateway. The attacks on the handshake are played by a raw TLS client: another
 * node's public key without its private key, a replayed answer, no or an oversized hello, a forged or
 * another operator's key, other code, too many unauthenticated connections.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RemoteNodeIT {

  private static final int MAX_UNAUTHENTICATED = 4;
  private static final long HELLO_TIMEOUT_MS = 2_000;
  private TestGateway gw;
  private String operatorKey;
  private String operatorId;
  private final List<Process> processes = new ArrayList<>();
  private final List<Path> dirs = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    // No local workers: every answer must come from the remote node.
    gw = TestGateway.start(0, b -> b.nodePort(NodePortSettings.on(0).withHost("127.0.0.1").withLimits(
        new WorkerPortLimits(FrameCodec.MAX_HELLO_FRAME_BYTES, HELLO_TIMEOUT_MS, MAX_UNAUTHENTICATED,
            WorkerPortLimits.DEFAULT_MAX_FRAME_BYTES))));
    JsonObject key = gw.post("/api/operator-keys", new JsonObject().put("name", "op-a").encode()).bodyAsJsonObject();
    operatorKey = key.getString("secret");
    operatorId = key.getString("id");
  }

  @AfterAll
  void stop() throws Exception {
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    if (gw != null) {
      gw.close();
    }
  }

  private int nodePort() {
    return gw.gateway.remoteNodes().port();
  }

  private String fingerprint() {
    return gw.gateway.remoteNodes().fingerprint();
  }

  /** Starts {@code inferium-node node} as its own process with its own data dir; returns it (log in dir/node.log). */
  private Process startNode(Path dir, String fingerprint, String key) throws IOException {
    Files.createDirectories(dir);
    Path keyFile = dir.resolve("operator.key");
    Files.writeString(keyFile, key + "\n", StandardCharsets.UTF_8);
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss8m", "-Xmx256m",
        "-cp", NodeCode.resolve().classPath(), "io.inferium.node.NodeMain", "node",
        "--gateway", "127.0.0.1:" + nodePort(), "--operator-key", keyFile.toString(), "--data-dir", dir.toString(),
        "--gateway-fingerprint", fingerprint, "--heartbeat-ms", "500", "--label", dir.getFileName().toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile()).start();
    processes.add(p);
    return p;
  }

  private JsonObject nodeView(String nodeId) throws Exception {
    return gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> nodeId.equals(n.getString("node_id"))).findFirst().orElse(new JsonObject());
  }

  @Test
  void aRemoteNodeRegistersUnderItsOperatorIsIneligibleUntilStakedAndKeepsItsIdentity() throws Exception {
    Path dir = Files.createTempDirectory("inferium-node-it-");
    startNode(dir, fingerprint(), operatorKey);
    String nodeId = Eventually.value("the node's key file", Duration.ofSeconds(60), () -> {
      Path f = dir.resolve("node.key");
      return Files.exists(f) ? NodeKeys.loadOrCreate(f).nodeId() : null;
    }, id -> id != null);
    JsonObject seen = Eventually.value("node " + nodeId + " connected in /api/nodes", Duration.ofSeconds(90),
        () -> nodeView(nodeId), n -> "connected".equals(n.getString("connection")));
    System.out.println("remote node as /api/nodes shows it: " + seen.encode());
    assertEquals(true, seen.getBoolean("remote"));
    assertEquals(operatorId, seen.getString("operator"));
    assertEquals(0L, seen.getLong("stake_micro_usd"));
    assertFalse(seen.getBoolean("eligible"), "an unstaked node must not be eligible for work");
    assertTrue(seen.getString("ineligible_reason").contains("stake"), seen.encode());
    assertTrue(List.of("low", "mid", "high").contains(seen.getString("tier")), seen.encode());
    JsonObject caps = seen.getJsonObject("capabilities");
    assertTrue(caps.getInteger("cores") > 0 && caps.getLong("memory_bytes") > 0, caps.encode());
    assertEquals("none", caps.getValue("gpu"), "the CUDA provider does not start here");
    assertFalse(seen.encode().contains(operatorKey), "the operator's secret must never be shown");
    // Unstaked, it is not among the workers dispatch may pick.
    assertTrue(gw.gateway.supervisor().workers().stream().noneMatch(w -> w.workerId().equals(nodeId)));

    assertEquals(200, gw.post("/api/nodes/" + nodeId + "/stake",
        new JsonObject().put("amount_micro_usd", NodePortSettings.DEFAULT_MIN_STAKE_MICRO_USD).encode()).statusCode());
    assertTrue(nodeView(nodeId).getBoolean("eligible"), nodeView(nodeId).encode());

    // Staked, it serves: the model travels by its sha256 (LOAD names no path), is checked and cached on the node.
    Path model = TestGateway.model("add.onnx");
    String sha = io.inferium.functions.ModelBlobs.sha256(model);
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "remote-add"), model);
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    for (int i = 0; i < 5; i++) {
      JsonObject req = new JsonObject().put("inputs", new io.vertx.core.json.JsonArray()
          .add(io.inferium.functions.tensor.V2Json.encodeOutput(
              io.inferium.functions.tensor.Tensors.fp32("a", new long[] {1, 4}, i, i, i, i)))
          .add(io.inferium.functions.tensor.V2Json.encodeOutput(
              io.inferium.functions.tensor.Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4))));
      var resp = gw.infer("remote-add", req);
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      JsonObject sum = resp.bodyAsJsonObject().getJsonArray("outputs").stream().map(JsonObject.class::cast)
          .filter(o -> "sum".equals(o.getString("name"))).findFirst().orElseThrow();
      for (int j = 0; j < 4; j++) {
        assertEquals(i + j + 1.0, sum.getJsonArray("data").getDouble(j), 1e-6, resp.bodyAsString());
      }
    }
    assertTrue(Files.isRegularFile(dir.resolve("blobs").resolve(sha)), "the node keeps the model in its cache by hash");
    assertTrue(gw.gateway.remoteNodes().node(nodeId).orElseThrow().link().hasLoaded(sha), "the remote node served it");
    assertTrue(gw.gateway.supervisor().workers().isEmpty(), "no local worker could have");

    assertTrue(gw.gateway.remoteNodes().disconnect(nodeId, "test: drop the connection"));
    JsonObject again = Eventually.value("node " + nodeId + " back after a dropped connection", Duration.ofSeconds(60),
        () -> nodeView(nodeId), n -> "connected".equals(n.getString("connection")) && n.getInteger("connections", 0) >= 2);
    assertEquals(NodePortSettings.DEFAULT_MIN_STAKE_MICRO_USD, again.getLong("stake_micro_usd"), "same node, same ledger");
    assertEquals(operatorId, again.getString("operator"));
  }

  @Test
  void aNodePinningAnotherFingerprintRefusesTheGateway() throws Exception {
    Path dir = Files.createTempDirectory("inferium-node-it-pin-");
    String wrong = "ab".repeat(32);
    assertNotEquals(wrong, fingerprint());
    Process p = startNode(dir, wrong, operatorKey);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a node that cannot trust its gateway must stop, not retry forever");
    assertEquals(3, p.exitValue());
    String log = Files.readString(dir.resolve("node.log"));
    assertTrue(log.contains("fingerprint") && log.contains(fingerprint()), log);
    String nodeId = NodeKeys.loadOrCreate(dir.resolve("node.key")).nodeId();
    assertTrue(gw.gateway.remoteNodes().node(nodeId).isEmpty(), "it never reached the challenge");
  }

  // ---- attacks, played by a raw TLS client ----

  /** The attacker's connection to this gateway's node port. */
  private final class Raw extends RawNodeConnection {
    Raw() throws Exception {
      super(nodePort());
    }
  }

  /** A hello answering {@code nonce}: {@code presented} is the key shown, {@code signer} the one that signs. */
  private JsonObject hello(String nonce, NodeKeys presented, NodeKeys signer, String key, String code) {
    String gatewayId = fingerprint();
    return new JsonObject().put("protocol", FrameCodec.PROTOCOL_VERSION).put("node_id", presented.nodeId())
        .put("label", "raw").put("pid", 1).put("capabilities", new JsonObject().put("cores", 1).put("memory_bytes", 1L << 30)
            .put("device", "CPU").put("slots", 1).put("gpu", "none"))
        .put("runtime", new JsonObject().put("name", "onnxruntime").put("version", "test"))
        .put("code_sha256", code).put("public_key", presented.publicKey()).put("nonce", nonce).put("gateway_id", gatewayId)
        .put("operator_key", key)
        .put("signature", signer.sign(NodeKeys.remoteHelloMessage(nonce, gatewayId, presented.publicKey(),
            presented.nodeId(), code)));
  }

  private static String code() {
    return NodeCode.resolve().sha256();
  }

  /** Sends {@code hello} on a fresh connection; returns the answer's type and message. */
  private Frame answer(java.util.function.Function<String, JsonObject> helloFor) throws Exception {
    try (Raw raw = new Raw()) {
      Frame challenge = raw.read();
      assertEquals(FrameType.CHALLENGE, challenge.type());
      assertEquals(fingerprint(), challenge.meta().getString("gateway_id"));
      raw.send(Frame.of(FrameType.HELLO, 0, helloFor.apply(challenge.meta().getString("nonce"))));
      Frame reply = raw.read();
      if (reply.type() == FrameType.ERROR) {
        assertTrue(raw.closedByGateway(), "a refused node is disconnected");
      }
      return reply;
    }
  }

  private static void assertRefused(Frame reply, String because) {
    assertEquals(FrameType.ERROR, reply.type(), reply.meta().encode());
    assertEquals("refused", reply.meta().getString("code"));
    assertTrue(reply.meta().getString("message").contains(because), reply.meta().getString("message"));
  }

  @Test
  void anotherNodesPublicKeyWithoutItsPrivateKeyIsRefused() throws Exception {
    NodeKeys victim = NodeKeys.generate();
    NodeKeys attacker = NodeKeys.generate();
    assertRefused(answer(nonce -> hello(nonce, victim, attacker, operatorKey, code())), "not signed by the key it presents");
    assertTrue(gw.gateway.remoteNodes().node(victim.nodeId()).isEmpty());
  }

  @Test
  void aReplayedAnswerIsRefused() throws Exception {
    NodeKeys node = NodeKeys.generate();
    JsonObject[] recorded = new JsonObject[1];
    Frame first = answer(nonce -> {
      recorded[0] = hello(nonce, node, node, operatorKey, code());
      return recorded[0].copy();
    });
    assertEquals(FrameType.WELCOME, first.type(), first.meta().encode());
    assertRefused(answer(nonce -> recorded[0]), "answers another challenge");
  }

  @Test
  void badOperatorKeysAndOtherCodeAreRefused() throws Exception {
    NodeKeys node = NodeKeys.generate();
    assertRefused(answer(nonce -> hello(nonce, node, node, "not-a-key", code())), "no valid operator key");
    assertRefused(answer(nonce -> hello(nonce, node, node, TestGateway.ADMIN_KEY, code())), "no valid operator key");
    assertRefused(answer(nonce -> hello(nonce, node, node, operatorKey, "0".repeat(64))), "runs code");
    assertRefused(answer(nonce -> hello(nonce, node, node, operatorKey, code()).put("protocol", "1")), "wrong type");
    // Version 1 sent TOKENS as JSON: a node that old is told which version the gateway speaks.
    assertRefused(answer(nonce -> hello(nonce, node, node, operatorKey, code()).put("protocol", 1)),
        "protocol version 1, gateway speaks " + FrameCodec.PROTOCOL_VERSION);
    assertRefused(answer(nonce -> hello(nonce, node, node, operatorKey, code()).put("runtime", "x")), "no runtime object");
    // Registered under operator A, the node cannot be claimed with operator B's key.
    assertEquals(FrameType.WELCOME, answer(nonce -> hello(nonce, node, node, operatorKey, code())).type());
    String other = gw.post("/api/operator-keys", new JsonObject().put("name", "op-b").encode()).bodyAsJsonObject()
        .getString("secret");
    assertRefused(answer(nonce -> hello(nonce, node, node, other, code())), "registered to another operator");
  }

  /** A raw connection on which {@code node} (under this test's operator key) was welcomed. */
  private Raw attached(NodeKeys node) throws Exception {
    Raw raw = new Raw();
    try {
      Frame challenge = raw.read();
      raw.send(Frame.of(FrameType.HELLO, 0, hello(challenge.meta().getString("nonce"), node, node, operatorKey, code())));
      assertEquals(FrameType.WELCOME, raw.read().type());
      return raw;
    } catch (Exception | AssertionError e) {
      raw.close();
      throw e;
    }
  }

  /** A TOKENS frame that is not five columns of one length closes the node's link: no half-read frame reaches a stream. */
  @Test
  void aMalformedTokensFrameClosesTheNodesLink() throws Exception {
    NodeKeys node = NodeKeys.generate();
    try (Raw raw = attached(node)) {
      List<io.inferium.functions.tensor.Tensor> columns = new ArrayList<>(TokensFrame.of(List.of(
          new TokensFrame.Token(1, 0, 42, "hi", 3), new TokensFrame.Token(1, 0, 43, "!", 3))).tensors());
      // Two request ids, one choice index.
      columns.set(1, new io.inferium.functions.tensor.Tensor("choice", io.inferium.functions.tensor.DataType.INT32,
          new long[] {1}, ByteBuffer.allocate(4)));
      raw.send(new Frame(FrameType.TOKENS, 0, new JsonObject(), columns));
      assertTrue(raw.closedByGateway(), "a node that sends a malformed TOKENS frame is disconnected");
    }
  }

  @Test
  void aNodeFetchesOnlyBlobsItWasAssignedAndNeverAPath() throws Exception {
    NodeKeys node = NodeKeys.generate();
    try (Raw raw = attached(node)) {
      String unassigned = io.inferium.functions.ModelBlobs.sha256(TestGateway.model("add.onnx"));
      for (String[] attempt : new String[][] {
          {unassigned, "was not assigned"},
          {"../../admin.key", "expected 64 lower-case hex"},
          {"/etc/passwd", "expected 64 lower-case hex"},
          {unassigned.toUpperCase(java.util.Locale.ROOT), "expected 64 lower-case hex"}}) {
        raw.send(Frame.of(FrameType.HEARTBEAT, 0, new JsonObject()));
        raw.send(Frame.of(FrameType.FETCH, 7, new JsonObject().put("sha256", attempt[0]).put("offset", 0).put("length", 1024)));
        Frame reply = raw.read();
        while (reply.type() != FrameType.ERROR && reply.type() != FrameType.BLOB) {
          reply = raw.read();
        }
        assertEquals(FrameType.ERROR, reply.type(), attempt[0]);
        assertTrue(reply.meta().getString("message").contains(attempt[1]), reply.meta().encode());
      }
    }
  }

  @Test
  void silentAndOversizedConnectionsAreClosedAndASurplusOnePushesOutTheOldest() throws Exception {
    try (Raw silent = new Raw()) {
      assertEquals(FrameType.CHALLENGE, silent.read().type());
      long t0 = System.nanoTime();
      assertTrue(silent.closedByGateway(), "a connection that never answers is closed");
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms < HELLO_TIMEOUT_MS + 5_000, "closed after " + ms + " ms");
    }
    try (Raw big = new Raw()) {
      assertEquals(FrameType.CHALLENGE, big.read().type());
      // A length prefix over the pre-authentication limit: closed before any of it is buffered.
      big.out.write(ByteBuffer.allocate(4).putInt(FrameCodec.MAX_HELLO_FRAME_BYTES + 1).array());
      big.out.flush();
      assertTrue(big.closedByGateway());
    }
    List<Raw> held = new ArrayList<>();
    try {
      for (int i = 0; i < MAX_UNAUTHENTICATED; i++) {
        Raw r = new Raw();
        held.add(r);
        assertEquals(FrameType.CHALLENGE, r.read().type());
      }
      // Over the cap, a newcomer pushes out the oldest connection that has sent nothing, at once.
      try (Raw surplus = new Raw()) {
        long t0 = System.nanoTime();
        assertTrue(held.get(0).closedByGateway(), "the oldest silent connection stays open");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < HELLO_TIMEOUT_MS / 2, "the oldest was closed after " + ms + " ms, not at once");
        assertEquals(FrameType.CHALLENGE, surplus.read().type(), "the newcomer is challenged");
      }
    } finally {
      for (Raw r : held) {
        r.close();
      }
    }
  }
}
