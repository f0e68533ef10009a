package io.inferium.engine.gateway;

import io.inferium.engine.failure.WorkerFailure;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameCodec;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.protocol.ProtocolException;
import io.inferium.functions.protocol.TokensFrame;
import io.inferium.functions.ModelSignature;
import io.inferium.verifier.Attestation;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's end of one worker connection. It belongs to the connection's context: requests
 * are registered in a pending map there, replies complete them there, and when the connection closes
 * every pending request fails with the cause the supervisor recorded (exit code, signal, missed
 * heartbeats). Outstanding work is bounded by {@code maxOutstanding}.
 *
 * <p>Results are answered as they arrive and attested afterwards, in windows: the worker seals
 * the results it sent every few milliseconds ({@link io.inferium.functions.seal.ResultSeal}, a SEAL frame),
 * the link checks each seal off the event loop against what it received ({@link ResultWindow}), and
 * a seal that is wrong or overdue cuts the worker off ({@code attestation_failed}).
 */
public final class WorkerLink implements Worker {

  private static final Logger log = LoggerFactory.getLogger(WorkerLink.class);
  /** How often the link looks for an overdue seal. */
  private static final long SEAL_WATCH_MS = 100;

  /** What a worker reported when it loaded a model. */
  public record LoadedModel(String attestedSha256, long loadMs, ModelSignature signature, List<String> skippedOutputs,
      JsonObject text) {}

  /** One streamed token of a generation: its choice, id, the text it completes and the prompt's length. */
  public record Token(int index, int id, String text, int promptTokens) {}

  private final String workerId;
  private final String label;
  private final NetSocket socket;
  private final Context context;
  private final JsonObject hello;
  /** Batches the worker runs at once, as its hello says (0 = not said). */
  private final int slots;
  private final Attestation attestation;
  private final Map<Long, Promise<Frame>> pending = new HashMap<>();
  private final Map<Long, java.util.function.Consumer<Token>> streams = new HashMap<>();
  private final Map<String, Future<LoadedModel>> loads = new HashMap<>();
  private final Map<Long, Long> cancelling = new HashMap<>();
  private final long cancelGraceMs;
  private final Stuck onStuck;
  private final Set<String> loaded = new HashSet<>();
  private final Map<String, Long> lastUsedNanos = new java.util.concurrent.ConcurrentHashMap<>();
  private long nextId = 1;
  private volatile int outstanding;
  private final InFlight inFlight;
  private volatile long lastHeartbeatNanos = System.nanoTime();
  private volatile JsonObject lastHeartbeat = new JsonObject();
  private volatile boolean closed;
  private volatile String closeReason = "connection closed";
  /** Per link, so a seal signed for one connection is worthless on another. */
  private final String sealNonce = java.util.HexFormat.of().formatHex(
      randomNonce());
  private final ResultWindow results;
  /** Model asked of each request until its RESULT or ERROR arrives: a RESULT is sealed under it. */
  private final Map<Long, String> asked = new HashMap<>();
  /** Token ids received per streamed request (all of them, also after a cancel): the hash its RESULT is sealed under. */
  private final Map<Long, List<IntSequence>> received = new HashMap<>();
  private long sealWatch = -1;
  private boolean disconnected;
  /** Remote nodes: the most calls the gateway lets one node hold, whatever credits it advertises. */
  private final int creditCap;
  /** Remote nodes: the credits the node last advertised (-1: a local worker, whose limit is the gateway's own). */
  private volatile long advertisedCredits = -1;
  /** Remote nodes: the node said it drains; it gets no new call and the link closes once it holds none. */
  private volatile boolean draining;
  /** Calls withdrawn (deadline, client gone) that the node has not answered yet: it still holds them. */
  private volatile int withdrawnHeld;
  private volatile String operator = LOCAL_OPERATOR;
  /** Exponentially weighted mean of call latency (send to reply), microseconds; 0 before the first. */
  private volatile long latencyMicros;
  /** Told each call's latency (per-node metrics); null for none. */
  private volatile java.util.function.LongConsumer latencySink;

  /**
   * Told when the worker must be replaced: a withdrawn request still running past its grace, or results
   * that failed attestation. {@code charge} is the ledger's kind to charge the node with
   * ({@code deadline_miss}, {@code attestation_failed}), or null when the node is not at fault.
   */
  interface Stuck {
    void stuck(String why, String charge);
  }

  /**
   * How much longer than the grace a request withdrawn for a reason that is not the node's (a client
   * that hung up) may keep running before the worker is replaced anyway, uncharged, to free its slot.
   */
  static final int UNCHARGED_GRACE_FACTOR = 15;
  /** More choices than a generation can have ({@code n} is capped far below): a token naming one is not recorded. */
  private static final int MAX_CHOICES = 1024;

  WorkerLink(String workerId, String label, NetSocket socket, Context context, JsonObject hello, int maxOutstanding,
      long cancelGraceMs, Stuck onStuck) {
    this.workerId = workerId;
    this.label = label;
    this.cancelGraceMs = cancelGraceMs;
    this.onStuck = onStuck;
    this.socket = socket;
    this.context = context;
    this.hello = hello;
    this.inFlight = new InFlight(maxOutstanding);
    this.creditCap = maxOutstanding;
    this.slots = hello.getJsonObject("capabilities", new JsonObject()).getInteger("slots", 0);
    this.attestation = new Attestation(hello.getString("node_id"),
        hello.getJsonObject("runtime", new JsonObject()).getString("version"), hello.getString("code_sha256"),
        hello.getString("public_key"));
    this.results = new ResultWindow(hello.getString("public_key"), workerId, sealNonce, ResultWindow.CHECKS,
        this::failAttestation);
    context.runOnContext(v -> {
      if (!closed && !disconnected) {
        sealWatch = context.owner().setPeriodic(SEAL_WATCH_MS, t -> {
          long now = System.nanoTime();
          // A worker that has not even sent a heartbeat lately is frozen or starved, not withholding
          // seals: the heartbeat watchdog replaces it and charges the miss. One that talks but does not
          // seal is cut off here.
          if (now - lastHeartbeatNanos <= TimeUnit.MILLISECONDS.toNanos(ResultWindow.MAX_UNSEALED_MS / 2)) {
            results.overdue(now);
          }
        });
      }
    });
  }

  private static final java.security.SecureRandom NONCES = new java.security.SecureRandom();

  private static byte[] randomNonce() {
    byte[] b = new byte[16];
    NONCES.nextBytes(b);
    return b;
  }

  /** What WELCOME tells the worker about sealing: this link's nonce, and how many results / milliseconds a window may hold. */
  JsonObject sealTerms() {
    return new JsonObject().put("seal_nonce", sealNonce).put("seal_every", ResultWindow.SEAL_EVERY)
        .put("seal_ms", ResultWindow.SEAL_MS);
  }

  /** A seal was wrong or overdue: the evidence is logged and the worker cut off (its pending requests fail). */
  private void failAttestation(String why) {
    onContext(() -> {
      if (closed) {
        return;
      }
      String reason = "worker " + workerId + " failed attestation of its results: " + why;
      log.error("{}: {}", this, reason);
      abort("attestation_failed", reason);
      onStuck.stuck(reason, io.inferium.verifier.NodeLedger.ATTESTATION_FAILED);
    });
  }

  /** Results received and not yet covered by a seal; seals checked and found good (for tests and operators). */
  int[] sealProgress() {
    return new int[] {results.unsealed(), results.checked()};
  }

  /** A growable run of token ids (one choice of a streamed generation). */
  private static final class IntSequence {
    private int[] ids = new int[16];
    private int size;

    void add(int id) {
      if (size == ids.length) {
        ids = java.util.Arrays.copyOf(ids, size * 2);
      }
      ids[size++] = id;
    }

    int[] toArray() {
      return java.util.Arrays.copyOf(ids, size);
    }
  }

  /** The node id, derived from the worker's public key. */
  @Override
  public String workerId() {
    return workerId;
  }

  /** Where the supervisor runs it (pool slot {@code w1}, {@code sandbox-3}): for logs and operators, not identity. */
  public String label() {
    return label;
  }

  public JsonObject hello() {
    return hello;
  }

  @Override
  public Attestation attestation() {
    return attestation;
  }

  public long pid() {
    return hello.getLong("pid", -1L);
  }

  public int outstanding() {
    return outstanding;
  }

  @Override
  public InFlight inFlight() {
    return inFlight;
  }

  /** The run slots its hello claims ({@code capabilities.slots}); a claim of none never reads busy. */
  @Override
  public int slots() {
    return slots;
  }

  public boolean closed() {
    return closed;
  }

  @Override
  public boolean hasLoaded(String sha256) {
    return lastHeartbeat.getJsonArray("loaded", new JsonArray()).contains(sha256) || loadedNow(sha256);
  }

  private synchronized boolean loadedNow(String sha256) {
    return loaded.contains(sha256);
  }

  public long nanosSinceHeartbeat() {
    return System.nanoTime() - lastHeartbeatNanos;
  }

  public JsonObject lastHeartbeat() {
    return lastHeartbeat;
  }

  /** Sends a request and completes with the worker's reply frame (on this link's context). */
  public Future<Frame> call(FrameType type, JsonObject meta, List<io.inferium.functions.tensor.Tensor> tensors) {
    return call(type, meta, tensors, Promise.promise());
  }

  /**
   * Like {@link #call(FrameType, JsonObject, List)}, with the caller's promise: failing it with
   * {@link Cancelled} withdraws the request, tells the worker to cancel it, and if the worker does not
   * answer within the grace period the link reports itself stuck (the supervisor then replaces it).
   */
  public Future<Frame> call(FrameType type, JsonObject meta, List<io.inferium.functions.tensor.Tensor> tensors,
      Promise<Frame> promise) {
    onContext(() -> {
      if (closed) {
        promise.fail(new WorkerFailure(WorkerFailure.LOST, "worker " + workerId + " is gone: " + closeReason));
        return;
      }
      long id = nextId++;
      if (promise.future().isComplete()) {
        received.remove(id);
        return; // withdrawn before it was sent (while waiting for a load, say): the worker never hears of it
      }
      asked.put(id, meta == null ? null : meta.getString("sha256"));
      pending.put(id, promise);
      outstanding = pending.size();
      long sentNanos = System.nanoTime();
      promise.future().onComplete(ar -> onContext(() -> {
        if (ar.succeeded() && isCall(type)) {
          observeLatency((System.nanoTime() - sentNanos) / 1000);
        }
        pending.remove(id);
        outstanding = pending.size();
        closeIfDrained();
      }));
      write(new Frame(type, id, meta, tensors));
      promise.future().onFailure(err -> {
        if (err instanceof Cancelled c) {
          onContext(() -> withdraw(id, c.nodeAtFault()));
        }
      });
    });
    return promise.future();
  }

  /**
   * Like {@link #call(FrameType, JsonObject, List, Promise)} for a request the worker answers with a
   * stream of tokens (TOKEN or TOKENS frames) before its final reply; {@code onToken} sees each on this
   * link's context.
   */
  public Future<Frame> stream(FrameType type, JsonObject meta, Promise<Frame> promise,
      java.util.function.Consumer<Token> onToken) {
    onContext(() -> {
      long id = nextId;
      streams.put(id, onToken);
      received.put(id, new ArrayList<>());
      promise.future().onComplete(ar -> onContext(() -> streams.remove(id)));
      call(type, meta, List.of(), promise);
    });
    return promise.future();
  }

  @Override
  public Sent send(FrameType type, JsonObject meta, List<io.inferium.functions.tensor.Tensor> tensors,
      java.util.function.Consumer<Token> onToken) {
    Promise<Frame> promise = Promise.promise();
    Future<Frame> reply = onToken == null ? call(type, meta, tensors, promise) : stream(type, meta, promise, onToken);
    return new Sent() {
      @Override
      public Future<Frame> reply() {
        return reply;
      }

      @Override
      public void cancel(String why, boolean nodeAtFault) {
        promise.tryFail(new Cancelled(why, nodeAtFault));
      }
    };
  }

  /**
   * Tells the worker to cancel request {@code id}. A worker answers a request it has not begun at
   * once, so only a run that began and does not stop can outlast the grace. Then, if the cancel is
   * the node's to honour ({@code nodeAtFault}: a deadline), the node is reported stuck and charged;
   * a cancel the client caused is given {@link #UNCHARGED_GRACE_FACTOR} times the grace and then only
   * frees the worker, uncharged.
   */
  private void withdraw(long id, boolean nodeAtFault) {
    if (closed) {
      return;
    }
    write(Frame.of(FrameType.CANCEL, id, new JsonObject()));
    long grace = nodeAtFault ? cancelGraceMs : cancelGraceMs * UNCHARGED_GRACE_FACTOR;
    long timer = context.owner().setTimer(grace, t -> {
      if (cancelling.remove(id) != null && !closed) {
        withdrawnHeld = cancelling.size();
        onStuck.stuck("request " + id + " still running " + grace + " ms after it was cancelled"
            + (nodeAtFault ? "" : " (the client left; the node is not charged)"), nodeAtFault ? "deadline_miss" : null);
      }
    });
    cancelling.put(id, timer);
    withdrawnHeld = cancelling.size();
  }

  /**
   * Failure used to withdraw a request; the worker is told to cancel it. {@code nodeAtFault} is true
   * when the run overran a deadline (the node must then stop within the grace or be charged) and false
   * when the cancel has a cause that is none of the node's doing (the client hung up).
   */
  public static final class Cancelled extends RuntimeException {
    private final boolean nodeAtFault;

    public Cancelled(String message) {
      this(message, true);
    }

    public Cancelled(String message, boolean nodeAtFault) {
      super(message, null, false, false);
      this.nodeAtFault = nodeAtFault;
    }

    public boolean nodeAtFault() {
      return nodeAtFault;
    }
  }

  /**
   * Loads a model on this worker once; concurrent callers share one load. The worker hashes the file
   * it read and the result carries that attested hash.
   */
  public Future<LoadedModel> ensureLoaded(String sha256, Path path) {
    return ensureLoaded(sha256, path, new JsonObject());
  }

  /** Like {@link #ensureLoaded(String, Path)} with more LOAD fields (a text bundle's kind, files and options). */
  @Override
  public Future<LoadedModel> ensureLoaded(String sha256, Path path, JsonObject extra) {
    Promise<LoadedModel> result = Promise.promise();
    onContext(() -> {
      Future<LoadedModel> load = loads.get(sha256);
      if (load == null) {
        JsonObject meta = extra.copy().put("sha256", sha256);
        if (blobSource == null) {
          meta.put("path", path.toString());
          meta.remove("parts");
        } else {
          // A remote node gets hashes and fetches the bytes: no gateway path leaves the machine. A text bundle's
          // manifest and each of its files become fetchable by this node, nothing else.
          meta.remove("files");
          JsonObject parts = meta.getJsonObject("parts", new JsonObject());
          parts.forEach(e -> assigned.add(String.valueOf(e.getValue())));
          assigned.add(sha256);
        }
        load = call(FrameType.LOAD, meta, List.of())
            .compose(reply -> reply.type() == FrameType.LOADED
                ? Future.succeededFuture(new LoadedModel(reply.meta().getString("sha256"), reply.meta().getLong("load_ms", 0L),
                    ModelSignature.fromJson(reply.meta().getJsonObject("signature")),
                    reply.meta().getJsonArray("skipped_outputs", new JsonArray()).stream().map(String::valueOf).toList(),
                    reply.meta().getJsonObject("text")))
                : Future.failedFuture(new WorkerFailure("protocol", "unexpected reply " + reply.type())));
        Future<LoadedModel> f = load;
        loads.put(sha256, f);
        f.onComplete(ar -> onContext(() -> {
          if (ar.succeeded() && ar.result().attestedSha256().equals(sha256)) {
            synchronized (this) {
              loaded.add(sha256);
            }
            lastUsedNanos.putIfAbsent(sha256, System.nanoTime());
          } else {
            loads.remove(sha256);
          }
        }));
      }
      load.onComplete(result);
    });
    return result.future();
  }

  private final Map<String, java.util.concurrent.atomic.AtomicInteger> running = new java.util.concurrent.ConcurrentHashMap<>();

  /** A batch of this model starts here: it counts as in use (never unloaded for idleness) until {@link #endUse}. */
  @Override
  public void beginUse(String sha256) {
    running.computeIfAbsent(sha256, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
    lastUsedNanos.put(sha256, System.nanoTime());
  }

  @Override
  public void endUse(String sha256) {
    running.get(sha256).decrementAndGet();
    lastUsedNanos.put(sha256, System.nanoTime());
  }

  /** Batches of this model in flight here. */
  public int inUse(String sha256) {
    java.util.concurrent.atomic.AtomicInteger n = running.get(sha256);
    return n == null ? 0 : n.get();
  }

  /** Models loaded here, by sha256, with the {@link System#nanoTime} of their last use (or load). */
  public synchronized Map<String, Long> loadedModels() {
    Map<String, Long> out = new HashMap<>();
    for (String sha : loaded) {
      out.put(sha, lastUsedNanos.getOrDefault(sha, 0L));
    }
    return out;
  }

  /** Drops a model from this worker. */
  @Override
  public Future<Void> unload(String sha256) {
    onContext(() -> {
      loads.remove(sha256);
      synchronized (this) {
        loaded.remove(sha256);
      }
      lastUsedNanos.remove(sha256);
    });
    return call(FrameType.UNLOAD, new JsonObject().put("sha256", sha256), List.of()).mapEmpty();
  }

  /** Whether a load is needed (for cold-start accounting). */
  @Override
  public boolean needsLoad(String sha256) {
    return !loadedNow(sha256);
  }

  /**
   * Where a remote node's FETCH frames are answered from; null for a local worker, which is sent paths.
   * The source sees only sha256 values this link itself asked the node to load.
   */
  interface BlobSource {
    /** The reply to a FETCH: BLOB with the bytes, or ERROR saying why not. */
    Future<Frame> fetch(long correlationId, JsonObject request, Set<String> assigned);
  }

  private volatile BlobSource blobSource;
  /** Models this link sent LOAD for: the only blobs its node may fetch. */
  private final Set<String> assigned = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Makes this a remote node's link: LOAD names only the sha256, and the node fetches the bytes from {@code source}. */
  void remote(BlobSource source) {
    this.blobSource = source;
  }

  void onBody(Buffer body) {
    Frame frame;
    try {
      frame = FrameCodec.decode(ByteBuffer.wrap(body.getBytes()));
    } catch (RuntimeException e) {
      close("protocol error: " + e.getMessage());
      return;
    }
    if (frame.type() == FrameType.FETCH) {
      BlobSource source = blobSource;
      if (source == null) {
        close("protocol error: a local worker sent FETCH");
        return;
      }
      source.fetch(frame.correlationId(), frame.meta(), assigned).onComplete(ar -> onContext(() -> {
        if (!closed) {
          write(ar.succeeded() ? ar.result() : Frame.error(frame.correlationId(), "internal", String.valueOf(ar.cause())));
        }
      }));
      return;
    }
    if (frame.type() == FrameType.HEARTBEAT) {
      lastHeartbeatNanos = System.nanoTime();
      lastHeartbeat = frame.meta();
      if (blobSource != null) {
        nodeTerms(frame.meta());
      }
      return;
    }
    if (frame.type() == FrameType.SEAL) {
      JsonObject m = frame.meta();
      results.sealed(new io.inferium.functions.seal.ResultSeal.Sealed(frame.correlationId(), m.getInteger("count", 0),
          m.getString("root"), m.getString("signature")));
      closeIfDrained();
      return;
    }
    if (frame.type() == FrameType.TOKENS) {
      // The tokens the worker held since its last TOKENS frame, as columns (a malformed frame fails the link).
      try {
        TokensFrame.read(frame, (request, choice, id, text, prompt) -> token(request, new Token(choice, id, text, prompt)));
      } catch (ProtocolException e) {
        close("protocol error: " + e.getMessage());
      }
      return;
    }
    String model = asked.remove(frame.correlationId());
    List<IntSequence> tokens = received.remove(frame.correlationId());
    if (frame.type() == FrameType.RESULT) {
      results.received(new ResultWindow.Received(frame.correlationId(), model, frame.tensors(),
          tokens == null ? null : choices(tokens, frame.meta()), System.nanoTime()));
    }
    Long cancelTimer = cancelling.remove(frame.correlationId());
    if (cancelTimer != null) {
      context.owner().cancelTimer(cancelTimer);
      withdrawnHeld = cancelling.size();
      closeIfDrained();
    }
    Promise<Frame> promise = pending.get(frame.correlationId());
    if (promise == null) {
      return; // reply to a request that was already withdrawn (deadline, cancel)
    }
    if (frame.type() == FrameType.ERROR) {
      promise.tryFail(new WorkerFailure(frame.meta().getString("code", "error"), frame.meta().getString("message", "")));
    } else {
      promise.tryComplete(frame);
    }
  }

  /** The token ids of each choice the RESULT reports (a choice that streamed nothing is empty). */
  private static List<int[]> choices(List<IntSequence> tokens, JsonObject meta) {
    JsonArray reported = meta.getJsonArray("choices");
    int n = Math.max(tokens.size(), reported == null ? 0 : reported.size());
    List<int[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(i < tokens.size() ? tokens.get(i).toArray() : new int[0]);
    }
    return out;
  }

  private void token(long requestId, Token token) {
    List<IntSequence> ids = received.get(requestId);
    if (ids != null && token.index() >= 0 && token.index() < MAX_CHOICES) {
      while (ids.size() <= token.index()) {
        ids.add(new IntSequence());
      }
      ids.get(token.index()).add(token.id());
    }
    java.util.function.Consumer<Token> stream = streams.get(requestId);
    if (stream != null && !cancelling.containsKey(requestId)) {
      stream.accept(token);
    }
  }

  private void write(Frame frame) {
    ByteBuffer bytes = FrameCodec.encode(frame);
    socket.write(Buffer.buffer(bytes.array()));
  }

  /**
   * The socket closed (the link is closed a moment later, once the exit status is known): a worker
   * killed on purpose (a sandbox after its smoke run, a replaced worker) leaves its last window unsealed,
   * which must not read as a seal overdue.
   */
  void disconnected() {
    onContext(() -> {
      disconnected = true;
      if (sealWatch >= 0) {
        context.owner().cancelTimer(sealWatch);
        sealWatch = -1;
      }
    });
  }

  /** Records why the link is going away, for the errors of requests still pending. */
  void reason(String reason) {
    onContext(() -> closeReason = reason);
  }

  void close(String reason) {
    onContext(() -> {
      if (!closed) {
        closeReason = reason;
        socket.close();
      }
    });
  }

  /**
   * Fails everything pending with {@code code} (not "lost": the requests are not retried on another
   * worker, which would fail the same way) and closes the connection.
   */
  void abort(String code, String reason) {
    onContext(() -> {
      List<Promise<Frame>> failing = new ArrayList<>(pending.values());
      WorkerFailure failure = new WorkerFailure(code, reason);
      failing.forEach(p -> p.tryFail(failure));
      close(reason);
    });
  }

  /** Called when the socket closed: fails everything pending with the recorded reason. */
  void onClosed() {
    closed = true;
    if (sealWatch >= 0) {
      context.owner().cancelTimer(sealWatch);
    }
    asked.clear();
    received.clear();
    cancelling.values().forEach(t -> context.owner().cancelTimer(t));
    cancelling.clear();
    withdrawnHeld = 0;
    List<Promise<Frame>> failing = new ArrayList<>(pending.values());
    pending.clear();
    outstanding = 0;
    WorkerFailure failure = new WorkerFailure(WorkerFailure.LOST, "worker " + workerId + " was lost: " + closeReason);
    failing.forEach(p -> p.tryFail(failure));
  }

  /**
   * A remote node's credits: it may hold at most {@code min(advertised, cap)} calls at once, where the cap is
   * the gateway's per-worker in-flight limit (a node that claims more gets the cap). Called with the hello's
   * {@code credits} and again with each heartbeat's; a draining node's credits stay 0.
   */
  void credits(Object advertised) {
    if (!(advertised instanceof Number n) || draining) {
      return;
    }
    long v = Math.max(0, n.longValue());
    advertisedCredits = v;
    inFlight.limit((int) Math.min(v, creditCap));
  }

  /** What a remote node's heartbeat says of its terms: its credits now, and whether it drains. */
  private void nodeTerms(JsonObject m) {
    credits(m.getValue("credits"));
    if (Boolean.TRUE.equals(m.getValue("draining")) && !draining) {
      draining = true; // for good on this connection: a node that wants work again connects again
      inFlight.limit(0);
      log.info("{} drains: no new calls; {} still in flight", this, pending.size());
      closeIfDrained();
    }
  }

  /** The draining node holds nothing more (no reply pending, no withdrawn call unanswered, every result sealed): it may go. */
  private void closeIfDrained() {
    if (draining && !closed && pending.isEmpty() && cancelling.isEmpty() && results.unsealed() == 0) {
      log.info("{} drained: closing its connection", this);
      close("drained");
    }
  }

  private static boolean isCall(FrameType type) {
    return type == FrameType.INFER || type == FrameType.EMBED || type == FrameType.SCORE || type == FrameType.GENERATE;
  }

  private void observeLatency(long micros) {
    long prev = latencyMicros;
    latencyMicros = prev == 0 ? Math.max(1, micros) : Math.max(1, (prev * 7 + micros) / 8);
    java.util.function.LongConsumer sink = latencySink;
    if (sink != null) {
      sink.accept(micros);
    }
  }

  @Override
  public long recentLatencyMicros() {
    return latencyMicros;
  }

  /** Each answered call's latency in microseconds goes to {@code sink} (a remote node's per-node histogram). */
  void latencySink(java.util.function.LongConsumer sink) {
    this.latencySink = sink;
  }

  /** A remote node's operator (set when the gateway welcomes it). */
  void operator(String operator) {
    this.operator = operator;
  }

  @Override
  public String operator() {
    return operator;
  }

  @Override
  public JsonObject capabilities() {
    return hello.getJsonObject("capabilities", new JsonObject());
  }

  /** The credits the node advertised last (-1 for a local worker). */
  public long advertisedCredits() {
    return advertisedCredits;
  }

  /** The calls the gateway lets it hold at once now (its in-flight limit). */
  public int grantedCredits() {
    return inFlight.limit();
  }

  /** The gateway's cap on any node's credits. */
  public int creditCap() {
    return creditCap;
  }

  public boolean draining() {
    return draining;
  }

  /** Why the connection closed, or is closing (for operators). */
  public String closeReason() {
    return closeReason;
  }

  /**
   * Full when the calls reserved on it, plus those withdrawn that it has not answered yet (it still holds
   * them), reach its limit: a remote node never holds more calls than its credits.
   */
  @Override
  public boolean saturated() {
    return inFlight.full() || (blobSource != null && inFlight.calls() + withdrawnHeld >= inFlight.limit());
  }

  private void onContext(Runnable r) {
    if (Context.isOnEventLoopThread() && context == io.vertx.core.Vertx.currentContext()) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }

  @Override
  public String toString() {
    return "worker " + label + " (node " + workerId + ", pid " + pid() + ")";
  }
}
