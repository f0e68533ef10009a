package io.inferium.node;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameCodec;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.protocol.TokensFrame;
import io.inferium.functions.media.MediaInputs;
import io.inferium.functions.media.MediaException;
import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.runtime.ModelRunException;
import io.inferium.functions.runtime.OnnxRunner;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.seal.CodeChecksum;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.seal.OutputHash;
import io.inferium.functions.seal.ResultSeal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker process: connects back to the gateway, attests itself, then loads models and runs
 * batches on a few large-stack threads. Blocking I/O is fine here: this process has no event loop,
 * and a model that crashes or hangs it costs only this process.
 */
public final class WorkerProcess {

  private static final Logger log = LoggerFactory.getLogger(WorkerProcess.class);
  /** ONNX Runtime can overflow a default 1 MiB stack while creating its environment. */
  static final long ORT_STACK_BYTES = 8L << 20;

  private final WorkerOptions options;
  private final ThreadPoolExecutor executor;
  private final ScheduledExecutorService heartbeat;
  private final Map<Long, Cancellation> running = new ConcurrentHashMap<>();
  /** INFER and EMBED requests accepted and not yet begun; whoever removes an id (start or cancel) owns its answer. */
  private final java.util.Set<Long> notStarted = ConcurrentHashMap.newKeySet();
  private final AtomicInteger active = new AtomicInteger();
  private OutputStream out;
  private ModelHost host;
  private TextHost text;
  private TextAnswers textAnswers;
  private final FaultInjector faults;
  /** Calls held and credits; a remote node also drains through it. */
  private NodeCredits credits;
  /** The connection being served (a drain that times out closes it). */
  private volatile GatewayConnector.Connection current;
  private long drainTimeoutMs = 60_000;
  private NodeKeys keys;
  /** Results sent since the last seal; guarded by {@code this}, like the writes, so its order is the wire order. */
  private ResultSeal.Window seals;
  private int sealEvery = ResultSeal.DEFAULT_EVERY;
  private long sealMs = ResultSeal.DEFAULT_MS;

  private WorkerProcess(WorkerOptions options) {
    this.options = options;
    this.faults = FaultInjector.parse(options.fault(), options.nodeId());
    this.credits = new NodeCredits(options.slots());
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(options.slots(), options.slots(), 0, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(options.queueLimit()),
        r -> new Thread(null, r, "inferium-ort-" + n.incrementAndGet(), ORT_STACK_BYTES));
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "inferium-heartbeat");
      t.setDaemon(true);
      return t;
    });
  }

  /** Runs until the gateway closes the connection; returns the process exit code. */
  public static int run(WorkerOptions options) {
    return new WorkerProcess(options).serve(new GatewayConnector.Local(options));
  }

  /**
   * One link of a remote node to one gateway: its own connection, session state, seals, heartbeats, loaded
   * sessions and {@code credits} (its share of the node's); the node's key and model cache are shared.
   */
  static WorkerProcess remoteLink(WorkerOptions options, NodeKeys keys, BlobCache blobs, Path bundleRoot, int credits,
      long drainTimeoutMs) {
    WorkerProcess p = new WorkerProcess(options);
    p.keys = keys;
    p.credits = new NodeCredits(credits);
    p.drainTimeoutMs = drainTimeoutMs;
    p.blobs = blobs;
    p.bundleRoot = bundleRoot;
    return p;
  }

  /**
   * Serves this link: connects out through {@code connector}, serves until the connection drops, and connects
   * again with backoff, keeping the node's key (its identity) and its loaded models. Returns only when the
   * gateway refuses it (2) or cannot be trusted (3), or 0 after a drain.
   */
  int serveLink(GatewayConnector connector) {
    return serve(connector);
  }

  /** A remote node's models by content (null for a spawned worker, which is given paths). */
  private BlobCache blobs;
  /** Where a remote node lays its text bundles out (null for a spawned worker). */
  private Path bundleRoot;
  /** FETCH requests this node sent, by correlation id, awaiting BLOB or ERROR. */
  private final Map<Long, java.util.concurrent.CompletableFuture<Frame>> fetches = new ConcurrentHashMap<>();
  /** Ids of this node's own requests: a range apart from nothing, since the gateway's ids travel the other way. */
  private final java.util.concurrent.atomic.AtomicLong fetchIds = new java.util.concurrent.atomic.AtomicLong();
  private static final long FETCH_TIMEOUT_S = 60;

  /** One range of a blob from the gateway, over this connection. Blocking (runs on a load task's thread). */
  private BlobCache.Range fetch(String sha256, long offset, int length) throws IOException {
    long id = fetchIds.incrementAndGet();
    java.util.concurrent.CompletableFuture<Frame> reply = new java.util.concurrent.CompletableFuture<>();
    fetches.put(id, reply);
    try {
      send(Frame.of(FrameType.FETCH, id, new JsonObject().put("sha256", sha256).put("offset", offset).put("length", length)));
      Frame f = reply.get(FETCH_TIMEOUT_S, TimeUnit.SECONDS);
      if (f.type() != FrameType.BLOB || f.tensors().size() != 1) {
        throw new IOException("the gateway refused blob " + sha256 + ": " + f.meta().getString("message", f.type().name()));
      }
      return new BlobCache.Range(f.tensors().get(0).bytes(), f.meta().getLong("total", -1L));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted fetching " + sha256, e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IOException("fetching " + sha256 + " at " + offset + ": " + e, e);
    } finally {
      fetches.remove(id);
    }
  }

  private static String codeChecksum(java.util.concurrent.FutureTask<String> checksum) throws InterruptedException {
    try {
      return checksum.get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    }
  }

  private static final long MIN_BACKOFF_MS = 500;
  private static final long MAX_BACKOFF_MS = 30_000;

  private int serve(GatewayConnector connector) {
    // The hello's code checksum hashes the node's jar (tens of MB): on a thread of its own while ONNX Runtime starts.
    java.util.concurrent.FutureTask<String> checksum = new java.util.concurrent.FutureTask<>(
        () -> CodeChecksum.of(WorkerProcess.class));
    Thread hashing = new Thread(checksum, "inferium-code-checksum");
    hashing.setDaemon(true);
    hashing.start();
    try {
      OnnxRunner runner = executor.submit(() -> OnnxRunner.create(options.device(), options.intraOpThreads(),
          options.spinning())).get();
      host = new ModelHost(runner);
      text = new TextHost(runner);
      if (bundleRoot != null) {
        text.layOutUnder(bundleRoot);
      }
      if (keys == null) {
        keys = options.keyFile() == null ? NodeKeys.generate() : NodeKeys.loadOrCreate(options.keyFile());
      }
      log.info("worker {} is node {}", options.nodeId(), keys.nodeId());
      textAnswers = new TextAnswers(text, this::send, this::sendResult, options.nodeId());
      String code = codeChecksum(checksum);
      long backoff = MIN_BACKOFF_MS;
      while (true) {
        if (credits.draining()) {
          log.info("drained: worker {} exits", options.nodeId());
          return 0;
        }
        GatewayConnector.Connection connection;
        try {
          // Built before connecting: the gateway gives a connection only a few seconds to say hello.
          connection = connector.connect(keys, hello(runner, code));
        } catch (GatewayConnector.Refused e) {
          log.error("gateway refused this node: {}", e.getMessage());
          return 2;
        } catch (javax.net.ssl.SSLException e) {
          if (isUntrusted(e)) {
            log.error("refusing the gateway: {}", rootMessage(e));
            return 3;
          }
          if (!connector.reconnects()) {
            throw e;
          }
          log.warn("could not reach the gateway ({}); again in {} ms", rootMessage(e), backoff);
          credits.awaitDrain(backoff);
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
          continue;
        } catch (IOException e) {
          if (!connector.reconnects()) {
            throw e;
          }
          log.warn("could not reach the gateway ({}); again in {} ms", e.getMessage(), backoff);
          credits.awaitDrain(backoff);
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
          continue;
        }
        backoff = MIN_BACKOFF_MS;
        try (java.io.Closeable ignored = connection.socket()) {
          session(connection);
        } catch (EOFException e) {
          log.info("gateway closed the connection; worker {} {}", options.nodeId(),
              credits.draining() || !connector.reconnects() ? "exits" : "connects again");
        } catch (IOException e) {
          if (!connector.reconnects()) {
            throw e;
          }
          if (!credits.draining()) {
            log.warn("connection to the gateway lost ({}); connecting again", e.getMessage());
          }
        } finally {
          current = null;
          endSession(connector.reconnects());
          credits.connectionEnded();
        }
        if (!connector.reconnects()) {
          return 0;
        }
      }
    } catch (Exception e) {
      log.error("worker {} failed: {}", options.nodeId(), e.toString(), e);
      return 1;
    } finally {
      executor.shutdownNow();
      heartbeat.shutdownNow();
    }
  }

  /** A certificate the node does not trust (a pin mismatch, an unknown CA): connecting again would not help. */
  private static boolean isUntrusted(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.security.cert.CertificateException) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  private java.util.concurrent.ScheduledFuture<?> heartbeats;

  /** Serves one accepted connection until it ends (EOF or an I/O error). */
  private void session(GatewayConnector.Connection connection) throws IOException {
    JsonObject welcome = connection.welcome();
    current = connection;
    synchronized (this) {
      out = connection.out();
      seals = new ResultSeal.Window(keys, welcome.getString("seal_nonce", ""));
      sealEvery = Math.max(1, welcome.getInteger("seal_every", sealEvery));
      sealMs = Math.max(1, welcome.getLong("seal_ms", sealMs));
    }
    log.info("worker {} attached to gateway {} as {}", options.nodeId(), options.gatewayHost(), welcome.getString("worker_id"));
    long period = Math.max(10, welcome.getLong("heartbeat_ms", options.heartbeatMs()));
    heartbeats = heartbeat.scheduleAtFixedRate(this::sendHeartbeat, 0, period, TimeUnit.MILLISECONDS);
    faults.probe();
    while (true) {
      Frame frame = read(connection.in());
      credits.received(frame);
      dispatch(frame);
    }
  }

  /**
   * After a connection ends: stops heartbeats, cancels what still runs for that gateway (its answers would
   * name requests the next connection never sent) and waits a bounded time for it to stop.
   */
  private void endSession(boolean drain) throws InterruptedException {
    if (heartbeats != null) {
      heartbeats.cancel(false);
    }
    running.values().forEach(Cancellation::cancel);
    notStarted.clear();
    fetches.values().forEach(f -> f.completeExceptionally(new IOException("connection to the gateway lost")));
    // A spawned worker exits at once (the process going is the cancel); a remote node connects again.
    long deadline = System.nanoTime() + (drain ? TimeUnit.SECONDS.toNanos(30) : 0);
    while ((active.get() > 0 || text.running() > 0) && System.nanoTime() < deadline) {
      Thread.sleep(50); // the node's own process, between connections: nothing else waits on this thread
    }
    synchronized (this) {
      out = OutputStream.nullOutputStream();
    }
  }

  /**
   * Drains: tells the gateway at once (a heartbeat with credits 0 and {@code draining}), which then sends
   * nothing new and closes the connection once every call it sent is answered and sealed; the node then
   * exits 0. If the gateway has not closed it within the drain timeout, the node closes it itself.
   */
  void drain(String why) {
    if (!credits.drain()) {
      return;
    }
    log.info("draining ({}): worker {} takes no new calls, finishes the {} it holds, then leaves", why,
        options.nodeId(), credits.open());
    try {
      if (current != null) {
        heartbeat.execute(this::sendHeartbeat);
      }
      heartbeat.schedule(() -> {
        GatewayConnector.Connection c = current;
        if (c != null) {
          log.warn("drain: the gateway has not released this node within {} ms ({} calls open); closing", drainTimeoutMs,
              credits.open());
          try {
            c.socket().close();
          } catch (IOException e) {
            // closing anyway
          }
        }
      }, drainTimeoutMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // already stopping
    }
  }

  private JsonObject hello(OnnxRunner runner, String codeSha) {
    JsonObject extra = blobs == null ? new JsonObject() : new JsonObject().put("credits", credits.credits());
    return extra
        .put("protocol", FrameCodec.PROTOCOL_VERSION)
        .put("node_id", keys.nodeId())
        .put("label", options.nodeId())
        .put("pid", ProcessHandle.current().pid())
        .put("capabilities", NodeCapabilities.measure(runner.device(), options.slots()))
        .put("runtime", new JsonObject().put("name", "onnxruntime").put("version", runner.runtimeVersion()))
        .put("code_sha256", codeSha)
        .put("public_key", keys.publicKey());
  }

  /** Frames at least this large are read into direct memory, which ONNX Runtime then uses without a copy. */
  private static final int DIRECT_READ_BYTES = 64 << 10;

  static Frame read(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length <= 0 || length > FrameCodec.MAX_FRAME_BYTES) {
      throw new IOException("bad frame length " + length);
    }
    if (length < DIRECT_READ_BYTES) {
      byte[] body = new byte[length];
      in.readFully(body);
      return FrameCodec.decode(ByteBuffer.wrap(body));
    }
    ByteBuffer body = ByteBuffer.allocateDirect(length);
    byte[] chunk = new byte[64 << 10];
    while (body.hasRemaining()) {
      int n = in.read(chunk, 0, Math.min(chunk.length, body.remaining()));
      if (n < 0) {
        throw new EOFException("connection closed inside a frame");
      }
      body.put(chunk, 0, n);
    }
    return FrameCodec.decode(body.flip());
  }

  private void send(Frame frame) {
    ByteBuffer bytes = FrameCodec.encode(frame);
    synchronized (this) {
      // Released before the answer leaves: once the gateway reads it, it may send the next call at once, and the
      // reader thread would count that call while this one still held its credit (peak_calls one over the credits).
      credits.sent(frame);
      try {
        out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
        out.flush();
      } catch (IOException e) {
        log.warn("could not send {} to the gateway: {}", frame.type(), e.getMessage());
      }
    }
  }

  /**
   * Sends a RESULT and counts it in the current seal window: the window is sealed (a SEAL frame right
   * after the result) when it holds {@code seal_every} results, or {@code seal_ms} after its first one.
   * The result itself goes out at once, unsigned: one signature per window instead of one per result.
   */
  private void sendResult(Frame frame, String modelSha256, String outputSha256) {
    ByteBuffer bytes = FrameCodec.encode(faults.garble(frame));
    synchronized (this) {
      credits.sent(frame); // before the answer leaves, as in send
      try {
        out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
        int n = seals.add(frame.correlationId(), modelSha256, outputSha256);
        if (n >= sealEvery) {
          writeSeal();
        } else if (n == 1) {
          long window = seals.seq();
          try {
            heartbeat.schedule(() -> sealIfStill(window), sealMs, TimeUnit.MILLISECONDS);
          } catch (RejectedExecutionException exiting) {
            // The connection is closing and the process with it: the gateway no longer waits for this seal.
          }
        }
        out.flush();
      } catch (IOException e) {
        log.warn("could not send {} to the gateway: {}", frame.type(), e.getMessage());
      }
    }
  }

  /** Seals window {@code window} if it is still open (not sealed for its size meanwhile). */
  private void sealIfStill(long window) {
    synchronized (this) {
      if (seals.seq() == window && seals.size() > 0) {
        try {
          writeSeal();
          out.flush();
        } catch (IOException e) {
          log.warn("could not send a seal to the gateway: {}", e.getMessage());
        }
      }
    }
  }

  // Holds the lock: the seal follows exactly the results it covers.
  private void writeSeal() throws IOException {
    ResultSeal.Sealed seal = faults.seal(seals.seal().orElseThrow());
    if (seal == null) {
      return;
    }
    ByteBuffer bytes = FrameCodec.encode(Frame.of(FrameType.SEAL, seal.seq(), new JsonObject().put("count", seal.count())
        .put("root", seal.root()).put("signature", seal.signature())));
    out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
  }

  private void dispatch(Frame frame) {
    long id = frame.correlationId();
    switch (frame.type()) {
      case LOAD -> submit(id, () -> {
        if (TextHost.isText(frame.meta().getString("kind"))) {
          loadText(frame);
        } else {
          load(frame);
        }
      });
      case GENERATE -> {
        GenerationEngine engine = text.generator(frame.meta().getString("sha256"));
        if (engine == null) {
          send(Frame.error(id, "not_loaded", "model " + frame.meta().getString("sha256") + " is not loaded on worker "
              + options.nodeId()));
        } else if (!engine.submit(id, frame.meta())) {
          send(Frame.error(id, "overloaded", "worker " + options.nodeId() + " cannot take more generations"));
        }
      }
      case EMBED -> {
        notStarted.add(id);
        submit(id, () -> textAnswers.embed(frame));
      }
      case SCORE -> textAnswers.score(frame);
      case INFER -> {
        running.put(id, new Cancellation());
        notStarted.add(id);
        submit(id, () -> infer(frame));
      }
      case CANCEL -> {
        Cancellation c = running.get(id);
        if (notStarted.remove(id)) {
          // Still queued behind other work: nothing of it runs, so the cancel is answered now.
          if (c != null) {
            c.cancel();
          }
          running.remove(id);
          send(Frame.error(id, "cancelled", "cancelled before it started"));
        } else if (c != null) {
          c.cancel();
        } else {
          text.cancel(id);
        }
      }
      case BLOB, ERROR -> {
        java.util.concurrent.CompletableFuture<Frame> waiting = fetches.get(id);
        if (waiting != null) {
          waiting.complete(frame);
        }
      }
      case UNLOAD -> submit(id, () -> {
        boolean was = host.unload(frame.meta().getString("sha256")) | text.unload(frame.meta().getString("sha256"));
        send(Frame.of(FrameType.UNLOADED, id, new JsonObject().put("was_loaded", was)));
      });
      default -> send(Frame.error(id, "protocol", "a worker does not accept " + frame.type() + " frames"));
    }
  }

  private void submit(long id, Runnable task) {
    boolean cancellable = notStarted.contains(id);
    try {
      Future<?> ignored = executor.submit(() -> {
        if (cancellable && !notStarted.remove(id)) {
          return; // cancelled while queued, and already answered
        }
        active.incrementAndGet();
        try {
          task.run();
        } catch (RuntimeException e) {
          log.error("task {} failed", id, e);
          send(Frame.error(id, "internal", e.toString()));
        } finally {
          active.decrementAndGet();
          running.remove(id);
        }
      });
    } catch (RejectedExecutionException e) {
      running.remove(id);
      notStarted.remove(id);
      send(Frame.error(id, "overloaded", "worker " + options.nodeId() + " has " + options.queueLimit() + " items queued"));
    }
  }

  private void load(Frame frame) {
    String sha = frame.meta().getString("sha256");
    try {
      String given = frame.meta().getString("path");
      Path file;
      if (blobs != null) {
        // A remote node loads by content only, whatever the LOAD says: a gateway cannot make it read (and
        // attest the hash of) a file of the node's own machine.
        file = blobs.obtain(sha, this::fetch);
      } else if (given != null) {
        file = Path.of(given);
      } else {
        throw new IOException("LOAD names no path");
      }
      ModelHost.Loaded loaded = host.load(sha, file);
      send(Frame.of(FrameType.LOADED, frame.correlationId(), new JsonObject()
          .put("sha256", loaded.sha256())
          .put("load_ms", loaded.loadMs())
          .put("signature", loaded.model().signature().toJson())
          .put("skipped_outputs", new JsonArray(loaded.model().skippedOutputs()))));
    } catch (IOException e) {
      send(Frame.error(frame.correlationId(), "model_unreadable", "cannot read the model file: " + e.getMessage()));
    } catch (ModelRunException e) {
      send(Frame.error(frame.correlationId(), "model_error", e.getMessage()));
    }
  }

  private void loadText(Frame frame) {
    try {
      JsonObject meta = blobs == null ? frame.meta() : fetchBundle(frame.meta());
      TextHost.Loaded loaded = text.load(meta, tokens);
      send(Frame.of(FrameType.LOADED, frame.correlationId(), new JsonObject()
          .put("sha256", loaded.sha256())
          .put("load_ms", loaded.loadMs())
          .put("signature", new JsonObject().put("inputs", new JsonArray()).put("outputs", new JsonArray()))
          .put("skipped_outputs", new JsonArray())
          .put("text", loaded.info())));
    } catch (IOException e) {
      send(Frame.error(frame.correlationId(), "model_unreadable", "cannot read the bundle: " + e.getMessage()));
    } catch (Exception e) {
      send(Frame.error(frame.correlationId(), "model_error", "could not load the text model: " + e.getMessage()));
    }
  }

  /**
   * A remote node's text bundle, by content: fetches the manifest by the LOAD's sha256 (checked by the cache),
   * reads its file names against the fixed allow-list, fetches each file by the sha256 the manifest gives and
   * returns LOAD fields naming the cached copies. Paths a gateway sends are ignored: only hashes are used.
   */
  private JsonObject fetchBundle(JsonObject meta) throws IOException {
    String sha = meta.getString("sha256");
    Path manifest = blobs.obtain(sha, this::fetch);
    io.inferium.functions.Bundle bundle = io.inferium.functions.Bundle.read(manifest);
    if (bundle.totalBytes() > blobs.capBytes()) {
      throw new IOException("bundle " + sha + " of " + bundle.totalBytes() + " bytes does not fit the cache of "
          + blobs.capBytes() + " bytes");
    }
    JsonObject said = meta.getJsonObject("parts", new JsonObject());
    JsonObject files = new JsonObject();
    for (Map.Entry<String, io.inferium.functions.Bundle.Part> part : bundle.files().entrySet()) {
      Object named = said.getValue(part.getKey());
      if (named != null && !named.equals(part.getValue().sha256())) {
        throw new IOException("the LOAD names " + named + " for " + part.getKey() + ", the manifest "
            + part.getValue().sha256());
      }
      files.put(part.getKey(), blobs.obtain(part.getValue().sha256(), this::fetch).toString());
    }
    blobs.obtain(sha, this::fetch); // touched again: the manifest is read once more by the load, after the parts came
    return meta.copy().put("path", manifest.toString()).put("files", files);
  }

  /** Streams a generation's tokens back and signs its end, like a RESULT. */
  private final GenerationEngine.Sink tokens = new GenerationEngine.Sink() {
    @Override
    public void tokens(List<TokensFrame.Token> tokens) {
      // One frame per window for every sequence it advanced, instead of a frame (and a flush) per token.
      send(TokensFrame.of(faults.tokens(tokens)));
    }

    @Override
    public void done(long requestId, JsonObject meta, List<int[]> ids) {
      String outputHash = OutputHash.ofTokens(faults.ids(ids));
      sendResult(Frame.of(FrameType.RESULT, requestId, meta.put("output_sha256", outputHash)), meta.getString("sha256", ""),
          outputHash);
    }

    @Override
    public void error(long requestId, String code, String message) {
      send(Frame.error(requestId, code, message));
    }
  };

  private void infer(Frame frame) {
    long id = frame.correlationId();
    Cancellation cancellation = running.get(id);
    if (cancellation == null || cancellation.cancelled()) {
      send(Frame.error(id, "cancelled", "cancelled before it started"));
      return;
    }
    String sha = frame.meta().getString("sha256");
    try (ModelHost.Lease lease = host.acquire(sha)) {
      if (lease == null) {
        send(Frame.error(id, "not_loaded", "model " + sha + " is not loaded on worker " + options.nodeId()));
        return;
      }
      List<String> outputs = frame.meta().getJsonArray("outputs", new JsonArray()).stream().map(String::valueOf).toList();
      long start = System.nanoTime();
      faults.beforeRun(sha, cancellation);
      try {
        // A media function's images or clips are decoded and pre-processed here, never in the gateway.
        JsonObject media = frame.meta().getJsonObject("media");
        MediaInputs.Prepared prepared = media == null ? new MediaInputs.Prepared(frame.tensors(), null)
            : MediaInputs.prepared(media, frame.tensors(), cancellation);
        List<Tensor> result = faults.apply(prepared.finish(lease.model().run(prepared.inputs(), outputs, cancellation)));
        long computeUs = (System.nanoTime() - start) / 1000;
        String outputHash = OutputHash.of(result);
        sendResult(new Frame(FrameType.RESULT, id, new JsonObject().put("compute_us", computeUs)
            .put("output_sha256", outputHash), result), sha, outputHash);
      } catch (ModelRunException e) {
        String code = cancellation.cancelled() ? "cancelled" : e.clientError() ? "bad_input" : "model_error";
        send(Frame.error(id, code, e.getMessage()));
      } catch (MediaException e) {
        send(Frame.error(id, cancellation.cancelled() ? "cancelled" : "bad_input", e.getMessage()));
      }
    }
  }

  private void sendHeartbeat() {
    Runtime rt = Runtime.getRuntime();
    JsonObject remote = blobs == null ? new JsonObject() : credits.heartbeat().mergeIn(blobs.counters());
    send(Frame.of(FrameType.HEARTBEAT, 0, remote
        .put("running", active.get() + text.running())
        .put("decode_steps", text.decodeSteps())
        .put("decode_tokens", text.decodeTokens())
        .put("queued", executor.getQueue().size())
        .put("loaded", new JsonArray(java.util.stream.Stream.concat(host.loaded().stream(), text.loaded().stream()).toList()))
        .put("heap_used_bytes", rt.totalMemory() - rt.freeMemory())
        .put("rss_bytes", residentBytes())
        .put("cpu_seconds", cpuSeconds())));
  }

  /** CPU time this process used (all threads, user and system), or -1 where the JVM cannot tell. */
  private static double cpuSeconds() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      long ns = os.getProcessCpuTime();
      return ns < 0 ? -1 : ns / 1e9;
    }
    return -1;
  }

  private static long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux, or /proc unreadable: report unknown
    }
    return -1;
  }
}
