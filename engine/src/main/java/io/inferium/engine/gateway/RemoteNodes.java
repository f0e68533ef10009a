package io.inferium.engine.gateway;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameCodec;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.verifier.NodeLedger;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's remote node port: nodes on other machines ({@code inferium-node node}) connect out to it
 * over TLS and prove their Ed25519 key by challenge–response. On connect the gateway sends CHALLENGE with
 * a fresh 32-byte nonce and its identity (its certificate's fingerprint); the node answers HELLO signed
 * over {@link NodeKeys#remoteHelloMessage} and carrying its operator's key. The gateway checks the nonce
 * (one connection, one use: a recorded answer is worthless on any other connection), its own identity,
 * that the node id is the presented key's, the signature, the code checksum, and that the operator key
 * is a live {@code operator} key; the node is then registered in the ledger under that operator (with no
 * stake) and welcomed. Until then a connection is anyone's: it counts against a cap on unauthenticated
 * connections (at the cap, a newcomer pushes out a connection that has sent nothing, from the address holding the
 * most such places: {@link UnattestedConnections}), may send one small frame, and is closed when the hello timer
 * fires.
 *
 * <p>A remote node that is staked is eligible for work ({@link #eligibleLinks}): its LOAD names only the
 * model's sha256 and the node fetches the bytes over its own connection (FETCH / BLOB), only for models
 * its link asked it to load (docs/NETWORK.md).
 */
public final class RemoteNodes {

  private static final Logger log = LoggerFactory.getLogger(RemoteNodes.class);
  /** Distinct remote nodes remembered; a new one beyond this is refused (each needs an operator key anyway). */
  static final int MAX_NODES = 10_000;

  /** Checks an operator's API key: the key id when it is a live {@code operator} key, empty otherwise. */
  public interface OperatorKeys {
    Future<Optional<String>> operatorKeyId(String secret, String remote);
  }

  /** What the gateway knows of one remote node, connected or not. */
  public static final class Remote {
    final String nodeId;
    final String operator;
    volatile JsonObject hello;
    volatile NodeTier tier;
    volatile WorkerLink link;
    volatile Instant connectedAt;
    volatile Instant disconnectedAt;
    volatile String lastDisconnect;
    final AtomicInteger connections = new AtomicInteger();

    Remote(String nodeId, String operator) {
      this.nodeId = nodeId;
      this.operator = operator;
    }

    public String nodeId() {
      return nodeId;
    }

    /** The node's Ed25519 public key as its hello gave it (base64 X.509), null before the first hello. */
    public String publicKey() {
      JsonObject h = hello;
      return h == null ? null : h.getString("public_key");
    }

    /** The current connection's link (null before the first). */
    public WorkerLink link() {
      return link;
    }

    public boolean connected() {
      WorkerLink l = link;
      return l != null && !l.closed();
    }
  }

  private final Vertx vertx;
  private final NodePortSettings settings;
  private final Path dataDir;
  private final String expectedCode;
  private final OperatorKeys operators;
  private final NodeLedger ledger;
  private final SupervisorSettings workerSettings;
  private final Map<String, Remote> nodes = new ConcurrentHashMap<>();
  private final UnattestedConnections unauthenticated = new UnattestedConnections("node");
  private final SecureRandom random = new SecureRandom();
  private final BlobRanges ranges;
  private volatile NodeMetrics metrics;
  private NodePortTls tls;
  private NetServer server;
  private long watchdog = -1;

  public RemoteNodes(Vertx vertx, NodePortSettings settings, Path dataDir, String expectedCode, OperatorKeys operators,
      NodeLedger ledger, SupervisorSettings workerSettings, io.inferium.functions.ModelBlobs blobs,
      io.vertx.core.WorkerExecutor files) {
    this.ranges = new BlobRanges(blobs, files);
    this.vertx = vertx;
    this.settings = settings;
    this.dataDir = dataDir;
    this.expectedCode = expectedCode;
    this.operators = operators;
    this.ledger = ledger;
    this.workerSettings = workerSettings;
  }

  /** Loads or makes the certificate (off the event loop) and listens. */
  public Future<Void> start() {
    return vertx.executeBlocking(() -> NodePortTls.resolve(settings, dataDir), false).compose(t -> {
      tls = t;
      NetServerOptions options = new NetServerOptions().setHost(settings.host()).setPort(settings.port())
          .setTcpNoDelay(true).setSsl(true).setKeyCertOptions(t.keyCert())
          .setSslHandshakeTimeout(settings.limits().helloTimeoutMs()).setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
      options.setEnabledSecureTransportProtocols(java.util.Set.of("TLSv1.3"));
      return vertx.createNetServer(options).connectHandler(this::onConnect).listen();
    }).map(s -> {
      server = s;
      watchdog = vertx.setPeriodic(workerSettings.heartbeatMs(), id -> watchdog());
      log.info("Node port {}:{} (TLS, {}); certificate SHA-256 fingerprint {} (nodes pin it with --gateway-fingerprint)",
          settings.host(), s.actualPort(), tls.source(), tls.fingerprint());
      return null;
    });
  }

  public int port() {
    return server.actualPort();
  }

  /** The SHA-256 fingerprint of the node port's certificate: what nodes pin, and the gateway's identity in the challenge. */
  public String fingerprint() {
    return tls.fingerprint();
  }

  private volatile java.util.function.Function<String, Optional<String>> chainGate;
  private volatile java.util.function.Function<String, JsonObject> chainView = id -> null;

  /**
   * With a chain configured: why a node may not work as the chain sees it (not registered, below the registry's
   * minimum, ejected there), replacing the local ledger's stake check; and its registry entry for {@link #describe}.
   */
  public void chainGate(java.util.function.Function<String, Optional<String>> gate,
      java.util.function.Function<String, JsonObject> view) {
    this.chainGate = gate;
    this.chainView = view;
  }

  /** Exports per-node series (latency, credits, cache, bytes fetched) to {@code registry}; before {@link #start}. */
  public void metrics(io.micrometer.core.instrument.MeterRegistry registry) {
    this.metrics = new NodeMetrics(registry);
    unauthenticated.metrics(registry);
  }

  /** Remote nodes this gateway has welcomed since it started, connected or not. */
  public List<Remote> nodes() {
    return new ArrayList<>(nodes.values());
  }

  public Optional<Remote> node(String nodeId) {
    return Optional.ofNullable(nodes.get(nodeId));
  }

  /** Why the node may not receive work now, or empty when it may: connected, staked and not ejected. */
  public Optional<String> ineligibility(String nodeId) {
    Remote r = nodes.get(nodeId);
    if (r == null || !r.connected()) {
      return Optional.of("not connected");
    }
    if (r.link.draining()) {
      return Optional.of("draining");
    }
    if (ledger.isEjected(nodeId)) {
      return Optional.of("ejected");
    }
    java.util.function.Function<String, Optional<String>> gate = chainGate;
    if (gate != null) {
      // With a chain, the registry's stake is the truth: the local ledger's stake only mirrors it.
      return gate.apply(nodeId);
    }
    long stake = ledger.stake(nodeId);
    if (stake < settings.minStakeMicroUsd()) {
      return Optional.of("stake " + stake + " micro-USD is below the minimum of " + settings.minStakeMicroUsd());
    }
    return Optional.empty();
  }

  /** Links of the remote nodes eligible for work now (connected, staked, not ejected): what dispatch may pick. */
  public List<WorkerLink> eligibleLinks() {
    List<WorkerLink> out = new ArrayList<>();
    for (Remote r : nodes.values()) {
      WorkerLink l = r.link;
      if (l != null && !l.closed() && ineligibility(r.nodeId).isEmpty()) {
        out.add(l);
      }
    }
    return out;
  }

  /** How {@code /api/nodes} shows a remote node beside its ledger record. */
  public JsonObject describe(Remote r) {
    JsonObject hello = r.hello == null ? new JsonObject() : r.hello;
    Optional<String> why = ineligibility(r.nodeId);
    return new JsonObject()
        .put("connection", r.connected() ? "connected" : "disconnected")
        .put("operator", r.operator)
        .put("tier", r.tier == null ? null : r.tier.label())
        .put("capabilities", hello.getJsonObject("capabilities"))
        .put("runtime", hello.getJsonObject("runtime"))
        .put("code_sha256", hello.getString("code_sha256"))
        .put("connections", r.connections.get())
        .put("loaded", r.link == null ? null : r.link.lastHeartbeat().getJsonArray("loaded"))
        .put("credits", r.link == null ? null : new JsonObject().put("advertised", r.link.advertisedCredits())
            .put("granted", r.link.grantedCredits()).put("cap", r.link.creditCap()).put("in_use", r.link.inFlight().calls()))
        .put("draining", r.link != null && r.link.draining())
        // The node's own counts (claims, like its capabilities): calls it holds, the most it held at once, its model cache.
        .put("reported", r.link == null ? null : reported(r.link.lastHeartbeat()))
        .put("connected_at", r.connectedAt == null ? null : r.connectedAt.toString())
        .put("disconnected_at", r.disconnectedAt == null ? null : r.disconnectedAt.toString())
        .put("last_disconnect", r.lastDisconnect)
        .put("eligible", why.isEmpty())
        .put("ineligible_reason", why.orElse(null))
        // With a chain: the registry's entry (the truth for stake; the ledger's stake_micro_usd only mirrors rewards
        // and slashes as this gateway decided them).
        .put("stake_source", chainGate == null ? "ledger" : "chain")
        .put("chain", chainView.apply(r.nodeId));
  }

  private static JsonObject reported(JsonObject heartbeat) {
    JsonObject out = new JsonObject();
    for (String k : REPORTED) {
      if (heartbeat.getValue(k) instanceof Number n) {
        out.put(k, n.longValue());
      }
    }
    return out;
  }

  /** Counts a remote node's heartbeat reports about itself. */
  static final List<String> REPORTED = List.of("calls_open", "peak_calls", "cache_hits", "cache_misses", "fetched_bytes");

  /** Closes a node's connection (tests, operators); the node reconnects on its own. */
  public boolean disconnect(String nodeId, String reason) {
    Remote r = nodes.get(nodeId);
    WorkerLink l = r == null ? null : r.link;
    if (l == null) {
      return false;
    }
    l.close(reason);
    return true;
  }

  /** Per connection, until its hello is accepted. */
  private static final class Pending {
    final String nonce;
    boolean helloSeen;
    boolean authenticated;
    boolean closed;
    WorkerLink link;
    Remote remote;

    Pending(String nonce) {
      this.nonce = nonce;
    }
  }

  private void onConnect(NetSocket socket) {
    Context ctx = vertx.getOrCreateContext();
    WorkerPortLimits limits = settings.limits();
    UnattestedConnections.Ticket ticket = unauthenticated.admit(socket, limits.maxUnattested());
    if (ticket == null) {
      return; // refused, logged and closed there
    }
    byte[] nonceBytes = new byte[32];
    random.nextBytes(nonceBytes);
    Pending conn = new Pending(HexFormat.of().formatHex(nonceBytes));
    long helloTimer = vertx.setTimer(limits.helloTimeoutMs(), t -> {
      if (!conn.authenticated) {
        ticket.close("hello_timeout", "not authenticated within " + limits.helloTimeoutMs() + " ms");
      }
    });
    LengthPrefixed frames = new LengthPrefixed(
        () -> conn.authenticated ? limits.maxFrameBytes() : limits.helloMaxBytes(),
        length -> {
          socket.pause();
          if (conn.authenticated) {
            String why = "node " + conn.link.workerId() + " sent a frame of " + Integer.toUnsignedString(length)
                + " bytes, over the " + limits.maxFrameBytes() + "-byte limit";
            log.warn(why);
            conn.link.abort("frame_too_large", why);
          } else {
            ticket.close("oversized_hello", "a " + Integer.toUnsignedString(length) + "-byte frame before authenticating (limit "
                + limits.helloMaxBytes() + ")");
          }
        },
        body -> {
          if (conn.authenticated) {
            conn.link.onBody(body);
          } else if (conn.helloSeen) {
            // One frame before WELCOME: the hello. Anything more is not a node following the protocol.
            socket.close();
          } else {
            conn.helloSeen = true;
            ticket.spoke();
            hello(socket, ctx, conn, body, () -> {
              vertx.cancelTimer(helloTimer);
              ticket.release();
            });
          }
        });
    socket.handler(frames::feed);
    socket.closeHandler(v -> {
      conn.closed = true;
      vertx.cancelTimer(helloTimer);
      ticket.release();
      WorkerLink l = conn.link;
      if (l == null) {
        return;
      }
      l.disconnected();
      ctx.runOnContext(x -> l.onClosed());
      Remote r = conn.remote;
      if (r.link == l) {
        r.disconnectedAt = Instant.now();
        r.lastDisconnect = l.closeReason();
        ledger.detach(r.nodeId);
        log.info("Remote node {} of operator {} disconnected", r.nodeId, r.operator);
      }
    });
    socket.write(frame(Frame.of(FrameType.CHALLENGE, 0, new JsonObject().put("protocol", FrameCodec.PROTOCOL_VERSION)
        .put("nonce", conn.nonce).put("gateway_id", tls.fingerprint()))));
  }

  private void hello(NetSocket socket, Context ctx, Pending conn, Buffer body, Runnable onAccepted) {
    Frame frame;
    try {
      frame = FrameCodec.decode(java.nio.ByteBuffer.wrap(body.getBytes()));
    } catch (RuntimeException e) {
      refuse(socket, "the first frame does not parse: " + e.getMessage());
      return;
    }
    JsonObject meta = frame.meta();
    // The checks include an Ed25519 verification: a worker thread's work, not the event loop's.
    vertx.executeBlocking(() -> {
      try {
        return Optional.ofNullable(check(frame.type(), meta, conn.nonce));
      } catch (ClassCastException e) {
        return Optional.of("a field of the hello has the wrong type: " + e.getMessage());
      }
    }, false).onComplete(checked -> ctx.runOnContext(x -> {
      if (checked.failed() || checked.result().isPresent()) {
        refuse(socket, checked.failed() ? "the hello could not be checked: " + checked.cause() : checked.result().get());
        return;
      }
      if (!conn.closed) {
        accept(socket, ctx, conn, meta, onAccepted);
      }
    }));
  }

  /** A hello that answers this connection's challenge: its operator key decides whether the node is taken. */
  private void accept(NetSocket socket, Context ctx, Pending conn, JsonObject meta, Runnable onAccepted) {
    String nodeId = meta.getString("node_id");
    String remote = socket.remoteAddress() == null ? "unknown" : socket.remoteAddress().host();
    Object secret = meta.remove("operator_key");
    meta.remove("signature");
    meta.remove("nonce");
    Future<Optional<String>> operator = secret instanceof String s && !s.isBlank() && s.length() <= 512
        ? operators.operatorKeyId(s, remote) : Future.succeededFuture(Optional.empty());
    operator.compose(op -> {
      if (op.isEmpty()) {
        return Future.failedFuture(new NodeLedger.OtherOperator("the hello carries no valid operator key"));
      }
      if (!nodes.containsKey(nodeId) && nodes.size() >= MAX_NODES) {
        return Future.failedFuture(new NodeLedger.OtherOperator("this gateway already knows " + MAX_NODES + " remote nodes"));
      }
      return ledger.registerRemote(nodeId, meta.getString("public_key"), op.get()).map(v -> op.get());
    }).onComplete(ar -> ctx.runOnContext(x -> {
      if (ar.failed()) {
        refuse(socket, ar.cause() instanceof NodeLedger.OtherOperator ? ar.cause().getMessage()
            : "could not register the node: " + ar.cause().getMessage());
        return;
      }
      if (conn.authenticated || conn.closed) {
        return; // closed meanwhile (the hello timer, the peer)
      }
      attach(socket, ctx, conn, meta, nodeId, ar.result());
      onAccepted.run();
    }));
  }

  /** Null when the hello is a correct answer to this connection's challenge; otherwise what is wrong with it. */
  String check(FrameType type, JsonObject meta, String nonce) {
    if (type != FrameType.HELLO) {
      return "expected HELLO, got " + type;
    }
    if (meta.getInteger("protocol", -1) != FrameCodec.PROTOCOL_VERSION) {
      return "protocol version " + meta.getValue("protocol") + ", gateway speaks " + FrameCodec.PROTOCOL_VERSION;
    }
    String theirs = meta.getString("nonce", "");
    if (!MessageDigest.isEqual(theirs.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
        nonce.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      return "the hello answers another challenge (a replayed or stale response)";
    }
    if (!tls.fingerprint().equals(meta.getString("gateway_id"))) {
      return "the hello is addressed to gateway " + meta.getString("gateway_id") + ", this is " + tls.fingerprint();
    }
    String publicKey = meta.getString("public_key");
    String nodeId = meta.getString("node_id");
    if (nodeId == null || !nodeId.equals(NodeKeys.nodeIdOf(publicKey))) {
      return "the hello's node id " + nodeId + " is not the id of the key it presents";
    }
    String code = meta.getString("code_sha256");
    if (!NodeKeys.verify(publicKey, NodeKeys.remoteHelloMessage(nonce, tls.fingerprint(), publicKey, nodeId, code),
        meta.getString("signature"))) {
      return "the hello of " + nodeId + " is not signed by the key it presents";
    }
    if (code == null || !code.equals(expectedCode)) {
      return "node " + nodeId + " runs code " + code + ", the gateway expects " + expectedCode;
    }
    if (!(meta.getValue("capabilities") instanceof JsonObject)) {
      return "the hello of " + nodeId + " has no capabilities object";
    }
    if (!(meta.getValue("runtime") instanceof JsonObject)) {
      return "the hello of " + nodeId + " has no runtime object";
    }
    if (meta.getValue("credits") != null && !(meta.getValue("credits") instanceof Number)) {
      return "the hello of " + nodeId + " has credits that are not a number";
    }
    return null;
  }

  private void attach(NetSocket socket, Context ctx, Pending conn, JsonObject hello, String nodeId, String operator) {
    Remote r = nodes.computeIfAbsent(nodeId, id -> new Remote(id, operator));
    WorkerLink link = new WorkerLink(nodeId, "remote", socket, ctx, hello, workerSettings.maxOutstanding(),
        workerSettings.cancelGraceMs(), (why, charge) -> {
          WorkerLink current = r.link;
          if (current != null) {
            current.close(why);
          }
          if (charge != null) {
            ledger.penalize(nodeId, charge, why)
                .onFailure(err -> log.warn("Could not record {} of {}: {}", charge, nodeId, err.toString()));
          }
        });
    // Credits: what the node says it can hold at once, within the gateway's per-node cap; a hello without them
    // is granted one call per run slot it declared.
    Object credits = hello.getValue("credits");
    link.credits(credits != null ? credits
        : Math.max(1, hello.getJsonObject("capabilities").getInteger("slots", 1)));
    link.operator(operator);
    AtomicInteger fetching = new AtomicInteger();
    NodeMetrics m = metrics;
    if (m != null) {
      m.attach(r, link);
    }
    link.remote((id, request, assigned) -> ranges.fetch(nodeId, fetching, id, request, assigned).onSuccess(reply -> {
      if (m != null && reply.type() == FrameType.BLOB && !reply.tensors().isEmpty()) {
        m.fetched(nodeId, reply.tensors().get(0).byteSize());
      }
    }));
    WorkerLink previous = r.link;
    if (previous != null && !previous.closed()) {
      // The same key connecting again: the older connection is half-open or superseded.
      previous.close("replaced by a newer connection of the same node");
    }
    conn.link = link;
    conn.remote = r;
    conn.authenticated = true;
    r.hello = hello;
    r.tier = NodeTier.of(hello.getJsonObject("capabilities"));
    r.link = link;
    r.connectedAt = Instant.now();
    r.connections.incrementAndGet();
    socket.write(frame(Frame.of(FrameType.WELCOME, 0, new JsonObject().put("worker_id", nodeId)
        .put("heartbeat_ms", workerSettings.heartbeatMs()).put("operator", operator).put("tier", r.tier.label())
        .mergeIn(link.sealTerms()))));
    log.info("Remote node {} of operator {} connected from {}: tier {}, {} cores, {}, ONNX Runtime {}", nodeId, operator,
        socket.remoteAddress(), r.tier.label(), hello.getJsonObject("capabilities").getValue("cores"),
        hello.getJsonObject("capabilities").getValue("device"),
        hello.getJsonObject("runtime", new JsonObject()).getString("version"));
  }

  private void refuse(NetSocket socket, String problem) {
    log.warn("Refusing a node from {}: {}", socket.remoteAddress(), problem);
    socket.write(frame(Frame.error(0, "refused", problem))).onComplete(ar -> socket.close());
  }

  private static Buffer frame(Frame f) {
    return Buffer.buffer(FrameCodec.encode(f).array());
  }

  /** Closes links whose node has been silent for the heartbeat limit; the node reconnects when it can. */
  private void watchdog() {
    long limit = TimeUnit.MILLISECONDS.toNanos(workerSettings.heartbeatMs() * workerSettings.heartbeatMisses());
    for (Remote r : nodes.values()) {
      WorkerLink l = r.link;
      if (l != null && !l.closed() && l.nanosSinceHeartbeat() > limit) {
        String why = "no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(l.nanosSinceHeartbeat()) + " ms";
        r.lastDisconnect = why;
        log.warn("Closing remote node {}: {}", r.nodeId, why);
        l.close(why);
      }
    }
  }

  public Future<Void> stop() {
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
    }
    nodes.values().forEach(r -> {
      WorkerLink l = r.link;
      if (l != null) {
        l.close("gateway stopping");
      }
    });
    return server == null ? Future.succeededFuture() : server.close();
  }
}
