package io.inferium.engine.gateway;

import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.functions.protocol.WorkerLaunch;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameCodec;
import io.inferium.functions.protocol.FrameType;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spawns worker processes, accepts their connections on a loopback port, checks their hello
 * (spawn token, protocol version, code checksum) and keeps the pool at size: a worker that exits or
 * misses heartbeats is replaced with exponential backoff. It also spawns one-off sandbox workers for
 * deploy-time verification, which are never given traffic and never restarted; {@link
 * SupervisorSettings#standbySandboxes} of them are kept started ahead of need, so a deploy does not wait for a
 * JVM to start and load ONNX Runtime (each is still used for one verification only, then retired).
 */
public final class WorkerSupervisor {

  private static final Logger log = LoggerFactory.getLogger(WorkerSupervisor.class);
  private static final long MIN_BACKOFF_MS = 500;
  private static final long MAX_BACKOFF_MS = 30_000;
  private static final long STABLE_AFTER_MS = 60_000;
  /** How often worker RSS is read from /proc: a memory bomb grows by gigabytes a second. */
  private static final long MEMORY_CHECK_MS = 250;
  private final java.util.concurrent.atomic.AtomicBoolean checkingMemory = new java.util.concurrent.atomic.AtomicBoolean();

  private final Vertx vertx;
  private final SupervisorSettings settings;
  private final EngineMetrics metrics;
  private final String expectedCode;
  private final NodeCode node;
  /** Made from the first worker's start, mapped by the later ones (off until {@link #start}). */
  private volatile WorkerClassArchive classes = WorkerClassArchive.off();
  private final Map<String, Spawn> awaitingHello = new ConcurrentHashMap<>();
  private final List<Slot> slots = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Spawn> sandboxes = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final AtomicInteger sandboxCounter = new AtomicInteger();
  /** Sandbox workers started ahead of need (attached or still starting), oldest first; guarded by itself. */
  private final java.util.ArrayDeque<Spawn> standby = new java.util.ArrayDeque<>();
  private final SecureRandom random = new SecureRandom();
  private Context context;
  private NetServer server;
  private long watchdogTimer = -1;
  private long memoryTimer = -1;
  private final long maxLogBytes = WorkerLogs.maxBytes(System.getenv());
  private WorkerSandbox sandbox;
  private volatile boolean stopping;
  private java.util.function.Consumer<WorkerLink> onAttach = link -> { };
  private java.util.function.Consumer<String> onDetach = node -> { };
  private java.util.function.BiConsumer<String, String[]> onMiss = (node, what) -> { };
  private volatile WorkerPortLimits portLimits = WorkerPortLimits.defaults();
  private final UnattestedConnections unattested = new UnattestedConnections("worker");

  /** Bounds of the worker port (hello size and time, unattested connections, frame size); set before {@link #start}. */
  public void portLimits(WorkerPortLimits limits) {
    this.portLimits = limits;
  }

  /**
   * Called with a pool worker's node id and {kind, detail} when it is replaced for a fault of its own:
   * missed heartbeats, or a run that overran its deadline and did not stop within the cancel grace.
   * Never for cancels a client caused, nor for time before a run began (a worker answers those at once).
   */
  public void onMiss(java.util.function.BiConsumer<String, String[]> handler) {
    this.onMiss = handler;
  }

  /** Called with the node id of each pool worker whose process exited after it had attached. */
  public void onDetach(java.util.function.Consumer<String> handler) {
    this.onDetach = handler;
  }

  /** Called for each pool worker that attaches (after its hello is accepted). */
  public void onAttach(java.util.function.Consumer<WorkerLink> handler) {
    this.onAttach = handler;
  }

  /** One spawned process and, once it said hello, its link. */
  private final class Spawn {
    /** Where it runs ({@code w1}, {@code sandbox-3}); its node id comes from its key, in its hello. */
    final String workerId;
    final Slot slot;
    final Path logFile;
    final Promise<WorkerLink> attached = Promise.promise();
    final Promise<String> exited = Promise.promise();
    final long startedAt = System.currentTimeMillis();
    volatile Process process;
    volatile WorkerLink link;
    volatile String killReason;
    volatile WorkerSandbox.Launch launch;
    /** Its output's reader (null until the process started). */
    volatile WorkerOutput output;
    /** The class list it writes for the class archive, until read or given up (null: not the capture). */
    final java.util.concurrent.atomic.AtomicReference<Path> classList = new java.util.concurrent.atomic.AtomicReference<>();
    /** Started with the class archive (said in its attach line). */
    volatile boolean fromArchive;

    /** Completes once its output was read to the end (or after a second, should a stray child hold the pipe). */
    Future<Void> outputRead() {
      WorkerOutput o = output;
      return o == null ? Future.succeededFuture() : o.done().timeout(1, java.util.concurrent.TimeUnit.SECONDS).otherwiseEmpty();
    }

    Spawn(String workerId, Slot slot, Path logFile) {
      this.workerId = workerId;
      this.slot = slot;
      this.logFile = logFile;
    }
  }

  /** A pool position that keeps one worker alive. */
  private static final class Slot {
    final int index;
    volatile Spawn current;
    volatile boolean retiring;
    int failures;

    Slot(int index) {
      this.index = index;
    }
  }

  /** @param node the code workers run from; its checksum is what their hellos must report */
  public WorkerSupervisor(Vertx vertx, SupervisorSettings settings, EngineMetrics metrics, NodeCode node) {
    this.vertx = vertx;
    this.settings = settings;
    this.metrics = metrics;
    this.node = node;
    this.expectedCode = node.sha256();
  }

  /** Listens on a loopback port, spawns the pool and waits for its workers to attach. */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    metrics.workersAlive(this::aliveCount);
    metrics.workersDesired(this::size);
    unattested.metrics(metrics.registry());
    return vertx.executeBlocking(() -> {
          try {
            classes = WorkerClassArchive.open(settings.classArchiveDir(), node, settings.jvmOptions());
          } catch (IOException | RuntimeException e) {
            log.warn("Workers start without a class archive: {} unusable ({})", settings.classArchiveDir(), e.toString());
          }
          return WorkerSandbox.probe(settings.sandbox(), node.entries());
        }, false)
        .compose(box -> {
          sandbox = box;
          return vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0).setTcpNoDelay(true))
              .connectHandler(this::onConnect)
              .listen();
        })
        .compose(s -> {
          server = s;
          log.info("Worker port {}; starting {} worker(s)", s.actualPort(), settings.workers());
          watchdogTimer = vertx.setPeriodic(settings.heartbeatMs(), id -> watchdog());
          memoryTimer = vertx.setPeriodic(MEMORY_CHECK_MS, id -> checkMemory());
          List<Future<WorkerLink>> attaching = new ArrayList<>();
          for (int i = 1; i <= settings.workers(); i++) {
            Slot slot = new Slot(i);
            slots.add(slot);
            attaching.add(spawn(slot));
          }
          refillStandby();
          return Future.join(attaching).otherwiseEmpty().mapEmpty();
        });
  }

  public int port() {
    return server.actualPort();
  }

  /** Connections to the worker port that have not had a hello accepted yet (they count against maxUnattested). */
  public int unattestedConnections() {
    return unattested.size();
  }

  /** Pool workers that are attached and not closing. */
  public List<WorkerLink> workers() {
    List<WorkerLink> out = new ArrayList<>(slots.size());
    for (Slot s : slots) {
      Spawn sp = s.current;
      if (sp != null && sp.link != null && !sp.link.closed() && sp.killReason == null) {
        out.add(sp.link);
      }
    }
    return out;
  }

  private int aliveCount() {
    return workers().size();
  }

  /**
   * Spawns a worker that serves no traffic, for a deploy-time sandbox load. The caller ends it with
   * {@link #retire}; if it dies first, its pending requests fail with the exit described.
   */
  public Future<WorkerLink> spawnSandbox() {
    Spawn ready;
    synchronized (standby) {
      ready = standby.poll();
    }
    refillStandby();
    if (ready != null && ready.killReason == null && !ready.exited.future().isComplete()
        && (ready.link == null || !ready.link.closed())) {
      return ready.attached.future();
    }
    return start(newSandbox());
  }

  private Spawn newSandbox() {
    String id = "sandbox-" + sandboxCounter.incrementAndGet();
    Spawn spawn = new Spawn(id, null, settings.logDir().resolve(id + ".log"));
    sandboxes.add(spawn);
    return spawn;
  }

  /**
   * Starts sandbox workers until {@link SupervisorSettings#standbySandboxes} wait for a deploy. Called at start and
   * whenever one is taken, never on a failure, so a machine that cannot spawn workers does not loop.
   */
  private void refillStandby() {
    while (!stopping) {
      Spawn spawn;
      synchronized (standby) {
        if (standby.size() >= settings.standbySandboxes()) {
          return;
        }
        spawn = newSandbox();
        standby.add(spawn);
      }
      start(spawn).onFailure(err -> {
        if (!stopping) {
          log.warn("Standby sandbox worker {} did not start: {}", spawn.workerId, err.getMessage());
        }
      });
    }
  }

  /** Sandbox workers started ahead of need, attached and waiting for a deploy. */
  public int standbySandboxesReady() {
    synchronized (standby) {
      return (int) standby.stream().filter(s -> s.attached.future().succeeded() && s.killReason == null
          && !s.exited.future().isComplete()).count();
    }
  }

  /** Ends a sandbox worker and returns the last lines of its log (for a report). */
  public Future<String> retire(WorkerLink link, String reason) {
    Spawn spawn = sandboxes.stream().filter(s -> s.link == link).findFirst().orElse(null);
    if (spawn == null) {
      return Future.succeededFuture("");
    }
    kill(spawn, reason);
    return spawn.exited.future().otherwiseEmpty().compose(v -> spawn.outputRead())
        .compose(v -> vertx.executeBlocking(() -> {
          String tail = WorkerOutput.tail(spawn.logFile);
          Files.deleteIfExists(spawn.logFile);
          return tail;
        }, false))
        .onComplete(ar -> sandboxes.remove(spawn));
  }

  /** Last lines a sandbox worker wrote, read after it died (blocking read runs off the event loop). */
  public Future<String> sandboxLogTail(WorkerLink link) {
    Spawn spawn = sandboxes.stream().filter(s -> s.link == link).findFirst().orElse(null);
    return spawn == null ? Future.succeededFuture("")
        : spawn.outputRead().compose(v -> vertx.executeBlocking(() -> WorkerOutput.tail(spawn.logFile), false));
  }

  /** Pool size: worker slots, whether or not their worker is attached right now. */
  public int size() {
    return slots.size();
  }

  /** Grows the pool by one worker. */
  public Future<WorkerLink> addWorker(String reason) {
    int index = slots.stream().mapToInt(s -> s.index).max().orElse(0) + 1;
    Slot slot = new Slot(index);
    slots.add(slot);
    log.info("Adding worker slot w{}: {}", index, reason);
    return spawn(slot);
  }

  /**
   * Shrinks the pool by one idle worker (nothing in flight on it): it gets no more work, its
   * connection is closed and it exits. Returns false when every worker is busy.
   */
  public boolean retireWorker(String reason) {
    for (Slot s : slots) {
      Spawn sp = s.current;
      if (sp != null && sp.link != null && sp.killReason == null && sp.link.reserved() == 0 && sp.link.outstanding() == 0) {
        s.retiring = true;
        slots.remove(s);
        log.info("Retiring worker {}: {}", sp.link, reason);
        sp.link.close("retired: " + reason);
        vertx.setTimer(5_000, t -> {
          Process p = sp.process;
          if (p != null && p.isAlive()) {
            p.destroyForcibly();
          }
        });
        return true;
      }
    }
    return false;
  }

  /** Kills a pool worker that misbehaves (deadline ignored, heartbeats missed); its slot respawns it. */
  public void replace(WorkerLink link, String reason) {
    for (Slot s : slots) {
      Spawn sp = s.current;
      if (sp != null && sp.link == link) {
        log.warn("Replacing {}: {}", link, reason);
        kill(sp, reason);
        return;
      }
    }
  }

  private Future<WorkerLink> spawn(Slot slot) {
    Spawn spawn = new Spawn("w" + slot.index, slot, settings.logDir().resolve("worker-w" + slot.index + ".log"));
    slot.current = spawn;
    return start(spawn);
  }

  private Future<WorkerLink> start(Spawn spawn) {
    String token = HexFormat.of().formatHex(bytes(24));
    awaitingHello.put(token, spawn);
    vertx.<Process>executeBlocking(() -> {
      Files.createDirectories(settings.logDir());
      spawn.launch = sandbox.open(spawn.workerId);
      // Output through a pipe the gateway reads (WorkerOutput), not straight into a file: into its log, bounded.
      ProcessBuilder pb = new ProcessBuilder(command(spawn)).redirectErrorStream(true);
      pb.environment().clear();
      pb.environment().putAll(sandbox.environment(spawn.launch, token));
      try {
        Process p = pb.start();
        spawn.output = new WorkerOutput(spawn.workerId, p.getInputStream(), spawn.logFile,
            WorkerOutput.Limits.defaults(maxLogBytes), metrics.workerOutputDropped(), metrics.workerOutputTruncated()).start();
        return p;
      } catch (IOException e) {
        sandbox.release(spawn.launch);
        spawn.launch = null;
        throw e;
      }
    }, false).onComplete(ar -> {
      if (ar.failed()) {
        awaitingHello.remove(token);
        spawn.attached.tryFail("could not start worker " + spawn.workerId + ": " + ar.cause().getMessage());
        spawn.exited.tryComplete("did not start: " + ar.cause().getMessage());
        onExit(spawn);
        return;
      }
      spawn.process = ar.result();
      if (stopping) {
        // Started while the supervisor stopped (a standby sandbox, a respawn): stop() did not see this process.
        kill(spawn, "the gateway is stopping");
      }
      Future.fromCompletionStage(spawn.process.onExit(), context)
          .compose(done -> vertx.executeBlocking(() -> {
            WorkerSandbox.Launch launch = spawn.launch;
            String oom = launch == null ? null : sandbox.memoryKill(launch).orElse(null);
            if (launch != null) {
              sandbox.release(launch);
            }
            return oom;
          }, false))
          .onComplete(released -> {
        awaitingHello.remove(token);
        String how = WorkerExit.describe(spawn.process.exitValue());
        if (spawn.killReason == null && released.succeeded() && released.result() != null) {
          spawn.killReason = released.result();
        }
        String why = spawn.killReason == null ? how : spawn.killReason + "; " + how;
        spawn.exited.tryComplete(why);
        spawn.attached.tryFail("worker " + spawn.workerId + " " + why + " before attaching");
        onExit(spawn);
      });
      vertx.setTimer(settings.attachTimeoutMs(), t -> {
        if (!spawn.attached.future().isComplete()) {
          kill(spawn, "did not attach within " + settings.attachTimeoutMs() + " ms");
        }
      });
    });
    return spawn.attached.future();
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** The worker's command line, confined by the sandbox (which also lowers its CPU priority). */
  private List<String> command(Spawn spawn) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(settings.jvmOptions());
    cmd.addAll(sandbox.jvmOptions(spawn.launch));
    WorkerClassArchive.Plan plan = classes.plan(spawn.launch.scratch());
    cmd.addAll(plan.jvmOptions());
    spawn.classList.set(plan.classList());
    spawn.fromArchive = plan.archive() != null;
    cmd.add("-cp");
    cmd.add(node.classPath());
    cmd.add(WorkerLaunch.MAIN_CLASS);
    cmd.add(WorkerLaunch.COMMAND);
    cmd.add("--gateway-port=" + server.actualPort());
    cmd.add("--node-id=" + spawn.workerId);
    cmd.add("--device=" + settings.device().name().toLowerCase(java.util.Locale.ROOT));
    cmd.add("--slots=" + settings.slots());
    cmd.add("--threads=" + settings.intraOpThreads());
    if (settings.spinning()) {
      cmd.add("--spinning");
    }
    cmd.add("--heartbeat-ms=" + settings.heartbeatMs());
    // No --key-file: each spawn makes a fresh key in memory, so a replacement is a new node with a clean
    // record, never the heir of its slot's ejection.
    if (spawn.slot != null && settings.testFaults().containsKey(spawn.slot.index)) {
      cmd.add("--test-fault=" + settings.testFaults().get(spawn.slot.index));
    }
    return sandbox.wrap(spawn.launch, cmd, plan.archive() == null ? List.of() : List.of(plan.archive()));
  }

  /** The class archive workers map as they start (null until one is made or found). */
  public Path classArchive() {
    return classes.archive();
  }

  /** What the worker sandbox enforces on this machine (null before start). */
  public String sandboxSummary() {
    return sandbox == null ? null : sandbox.summary();
  }

  /**
   * Kills any worker (pool or sandbox) whose resident memory is over the limit, naming it and the
   * limit in the reason its requests fail with. /proc is read on a worker thread, one pass at a time.
   */
  private void checkMemory() {
    if (sandbox == null || !checkingMemory.compareAndSet(false, true)) {
      return;
    }
    List<Spawn> all = new ArrayList<>(sandboxes);
    slots.forEach(s -> {
      if (s.current != null) {
        all.add(s.current);
      }
    });
    long limit = sandbox.memoryLimitBytes();
    vertx.executeBlocking(() -> {
      Map<Spawn, Long> over = new java.util.HashMap<>();
      Map<Integer, Long> byUid = sandbox.residentByUid();
      for (Spawn sp : all) {
        Process p = sp.process;
        if (p != null && p.isAlive() && sp.killReason == null) {
          long rss = sandbox.residentBytes(sp.launch, p.toHandle(), byUid);
          if (rss > limit) {
            over.put(sp, rss);
          }
        }
      }
      return over;
    }, false).onComplete(ar -> {
      checkingMemory.set(false);
      if (ar.succeeded()) {
        ar.result().forEach((sp, rss) -> {
          String reason = "worker " + sp.workerId + " exceeded its memory limit of " + SandboxSettings.describe(limit)
              + " (RSS " + SandboxSettings.describe(rss) + ")";
          log.warn("Killing {}", reason);
          kill(sp, reason);
        });
      }
    });
  }

  private void kill(Spawn spawn, String reason) {
    if (spawn.killReason == null) {
      spawn.killReason = "replaced by the gateway: " + reason;
    }
    if (spawn.link != null) {
      spawn.link.reason(spawn.killReason);
    }
    Process p = spawn.process;
    if (p != null) {
      p.destroyForcibly();
    }
  }

  private void onExit(Spawn spawn) {
    if (spawn.classList.getAndSet(null) != null) {
      classes.abandon();
    }
    String why = spawn.exited.future().result();
    Slot slot = spawn.slot;
    if (slot == null) {
      boolean wasStandby;
      synchronized (standby) {
        wasStandby = standby.remove(spawn);
      }
      if (wasStandby) {
        // Died while waiting for a deploy: the next deploy starts a fresh one (and refills).
        sandboxes.remove(spawn);
        if (!stopping) {
          log.warn("Standby sandbox worker {} {}", spawn.workerId, why);
        }
      }
      return;
    }
    if (spawn.link != null) {
      // Node ids are per spawn: drop the gone node's series so metric labels stay bounded by the live pool.
      metrics.forgetWorker(spawn.link.workerId());
      onDetach.accept(spawn.link.workerId());
    }
    if (stopping || slot.retiring) {
      log.info("Worker {} {}", spawn.workerId, why);
      return;
    }
    log.warn("Worker {} {}", spawn.workerId, why);
    if (slot.current != spawn) {
      return;
    }
    metrics.workerRestart(spawn.killReason != null ? "replaced" : "exited");
    boolean stable = System.currentTimeMillis() - spawn.startedAt > STABLE_AFTER_MS;
    slot.failures = stable ? 0 : slot.failures + 1;
    long backoff = slot.failures == 0 ? 0 : Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS << Math.min(10, slot.failures - 1));
    Runnable respawn = () -> {
      if (!stopping) {
        spawn(slot).onFailure(err -> log.warn("Respawn of slot {} failed: {}", slot.index, err.getMessage()));
      }
    };
    if (backoff == 0) {
      respawn.run();
    } else {
      log.info("Restarting worker slot {} in {} ms", slot.index, backoff);
      vertx.setTimer(backoff, t -> respawn.run());
    }
  }

  private void watchdog() {
    long limit = TimeUnit.MILLISECONDS.toNanos(settings.heartbeatMs() * settings.heartbeatMisses());
    for (Slot s : slots) {
      Spawn sp = s.current;
      if (sp != null && sp.link != null && sp.killReason == null && sp.link.nanosSinceHeartbeat() > limit) {
        String detail = "no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(sp.link.nanosSinceHeartbeat()) + " ms";
        onMiss.accept(sp.link.workerId(), new String[] {"heartbeat_miss", detail});
        kill(sp, detail);
      }
    }
  }

  private void onConnect(NetSocket socket) {
    Context ctx = vertx.getOrCreateContext();
    WorkerPortLimits limits = portLimits;
    UnattestedConnections.Ticket ticket = unattested.admit(socket, limits.maxUnattested());
    if (ticket == null) {
      return; // refused, logged and closed there
    }
    WorkerLink[] link = new WorkerLink[1];
    Spawn[] owner = new Spawn[1];
    // Until its hello is accepted a connection is anyone's: it holds one of maxUnattested places (see
    // UnattestedConnections), may send one small frame, and is closed when the hello timer fires first.
    long helloTimer = vertx.setTimer(limits.helloTimeoutMs(), t -> {
      if (link[0] == null) {
        ticket.close("hello_timeout", "no accepted hello within " + limits.helloTimeoutMs() + " ms");
      }
    });
    RecordParser parser = RecordParser.newFixed(4);
    boolean[] readingLength = {true};
    boolean[] refused = {false};
    boolean[] judging = {false};
    boolean[] closed = {false};
    parser.handler(buf -> {
      if (refused[0]) {
        return; // what was already read when the connection was refused
      }
      if (readingLength[0]) {
        int length = buf.getInt(0);
        int max = link[0] == null ? limits.helloMaxBytes() : limits.maxFrameBytes();
        if (length <= 0 || length > max) {
          // Refused before any of it is buffered.
          refused[0] = true;
          socket.pause();
          if (link[0] == null) {
            ticket.close("oversized_hello",
                "a " + Integer.toUnsignedString(length) + "-byte frame before hello (limit " + max + ")");
          } else {
            String why = "worker " + owner[0].workerId + " sent a frame of " + Integer.toUnsignedString(length)
                + " bytes, over the " + max + "-byte limit of worker links (INFERIUM_WORKER_MAX_FRAME_MB)";
            log.error(why);
            link[0].abort("frame_too_large", why);
            kill(owner[0], why);
          }
          return;
        }
        readingLength[0] = false;
        parser.fixedSizeMode(length);
        return;
      }
      readingLength[0] = true;
      parser.fixedSizeMode(4);
      if (link[0] != null) {
        link[0].onBody(buf);
        return;
      }
      if (judging[0]) {
        return; // a second frame before the hello is judged: the parser is paused, this cannot happen
      }
      judging[0] = true;
      ticket.spoke();
      // Later frames wait in the parser until the hello is judged (its signature is checked off the event loop).
      parser.pause();
      socket.pause();
      hello(socket, ctx, buf, () -> closed[0]).onComplete(ar -> {
        Spawn spawn = ar.succeeded() ? ar.result() : null;
        if (spawn != null) {
          owner[0] = spawn;
          link[0] = spawn.link;
          vertx.cancelTimer(helloTimer);
          ticket.release();
          parser.resume();
          socket.resume();
        }
      });
    });
    socket.handler(parser);
    socket.closeHandler(v -> {
      closed[0] = true;
      vertx.cancelTimer(helloTimer);
      ticket.release();
      WorkerLink l = link[0];
      if (l == null) {
        return;
      }
      l.disconnected();
      // The socket usually closes before the exit status is known; wait briefly so pending requests
      // fail with the real cause (a signal, an exit code) rather than "connection closed".
      Spawn sp = owner[0];
      Future<String> exit = sp.exited.future();
      Promise<Void> waited = Promise.promise();
      long timer = vertx.setTimer(1000, t -> waited.tryComplete());
      exit.onComplete(ar -> {
        vertx.cancelTimer(timer);
        waited.tryComplete();
      });
      waited.future().onComplete(ar -> {
        if (exit.succeeded()) {
          l.reason(exit.result());
        } else if (sp.killReason != null) {
          l.reason(sp.killReason);
        }
        ctx.runOnContext(x -> l.onClosed());
      });
    });
  }

  /**
   * Judges a hello: the cheap checks here, the signature on a worker thread (an Ed25519 verification is not event
   * loop work), then attaches the link on {@code ctx}. Completes with the spawn it attached, or null when refused
   * (the connection is then closed, and a spawn it named fails to attach).
   */
  private Future<Spawn> hello(NetSocket socket, Context ctx, Buffer body, java.util.function.BooleanSupplier closed) {
    Frame frame;
    try {
      frame = FrameCodec.decode(java.nio.ByteBuffer.wrap(body.getBytes()));
    } catch (RuntimeException e) {
      socket.close();
      return Future.succeededFuture();
    }
    JsonObject meta = frame.meta();
    Spawn spawn = frame.type() == FrameType.HELLO ? awaitingHello.remove(meta.getString("token", "")) : null;
    String problem = null;
    if (spawn == null) {
      problem = "unknown worker: the hello carries no valid spawn token";
    } else if (meta.getInteger("protocol", -1) != FrameCodec.PROTOCOL_VERSION) {
      problem = "protocol version " + meta.getValue("protocol") + ", gateway speaks " + FrameCodec.PROTOCOL_VERSION;
    } else if (!java.util.Objects.equals(meta.getString("node_id"),
        io.inferium.functions.seal.NodeKeys.nodeIdOf(meta.getString("public_key")))) {
      problem = "the hello's node id " + meta.getString("node_id") + " is not the id of the key it presents";
    }
    if (problem != null) {
      return Future.succeededFuture(refuse(socket, spawn, problem));
    }
    return vertx.executeBlocking(() -> io.inferium.functions.seal.NodeKeys.verify(meta.getString("public_key"),
            io.inferium.functions.seal.NodeKeys.helloMessage(meta.getString("node_id"), meta.getLong("pid", -1L),
                meta.getString("code_sha256"), meta.getString("token")), meta.getString("signature")), false)
        .map(signed -> {
          if (!signed) {
            return refuse(socket, spawn, "the hello of " + meta.getString("node_id") + " is not signed by the key it presents");
          }
          if (closed.getAsBoolean()) {
            spawn.attached.tryFail("worker " + spawn.workerId + " closed its connection before its hello was judged");
            return null;
          }
          return attach(socket, ctx, spawn, meta);
        });
  }

  private Spawn refuse(NetSocket socket, Spawn spawn, String problem) {
    log.error("Refusing worker connection: {}", problem);
    java.nio.ByteBuffer refusal = FrameCodec.encode(Frame.error(0, "refused", problem));
    socket.write(Buffer.buffer(refusal.array())).onComplete(ar -> socket.close());
    if (spawn != null) {
      spawn.attached.tryFail(problem);
    }
    return null;
  }

  private Spawn attach(NetSocket socket, Context ctx, Spawn spawn, JsonObject meta) {
    Spawn owner = spawn;
    String nodeId = meta.getString("node_id");
    WorkerLink link = new WorkerLink(nodeId, spawn.workerId, socket, ctx, meta, settings.maxOutstanding(), settings.cancelGraceMs(),
        (why, charge) -> {
          if (owner.slot != null && charge != null) {
            onMiss.accept(nodeId, new String[] {charge, why});
          }
          kill(owner, why);
        });
    String problem = link.attestation().checkCode(expectedCode).orElse(null);
    if (problem != null) {
      return refuse(socket, spawn, problem);
    }
    spawn.link = link;
    String workerId = link.workerId();
    if (spawn.slot != null) {
      onAttach.accept(link);
      metrics.workerInflight(workerId, () -> workers().stream().filter(w -> w.workerId().equals(workerId))
          .mapToInt(WorkerLink::reserved).sum());
      metrics.workerDecode(workerId, field -> workers().stream().filter(w -> w.workerId().equals(workerId))
          .mapToDouble(w -> w.lastHeartbeat().getValue(field) instanceof Number n ? n.doubleValue() : 0).sum());
    }
    java.nio.ByteBuffer welcome = FrameCodec.encode(Frame.of(FrameType.WELCOME, 0,
        new JsonObject().put("worker_id", workerId).put("heartbeat_ms", settings.heartbeatMs()).mergeIn(link.sealTerms())));
    socket.write(Buffer.buffer(welcome.array()));
    log.info("Worker {} attached as node {}: pid {}, {}, ONNX Runtime {}, {} ms after its spawn{}", spawn.workerId, workerId,
        meta.getLong("pid"), meta.getJsonObject("capabilities", new JsonObject()).getString("device"),
        meta.getJsonObject("runtime", new JsonObject()).getString("version"), System.currentTimeMillis() - spawn.startedAt,
        spawn.fromArchive ? " (started with the class archive)" : "");
    spawn.attached.tryComplete(link);
    if (spawn.classList.get() != null) {
      vertx.setTimer(WorkerClassArchive.CAPTURE_DELAY_MS, t -> {
        Path list = spawn.classList.getAndSet(null);
        if (list != null) {
          vertx.executeBlocking(() -> classes.capture(list), false)
              .onFailure(e -> log.warn("No worker class archive: {}", e.toString()));
        }
      });
    }
    return spawn;
  }

  /** Stops every worker: closes their connections (they exit on EOF), then kills what is left. */
  public Future<Void> stop() {
    stopping = true;
    classes.close();
    if (watchdogTimer >= 0) {
      vertx.cancelTimer(watchdogTimer);
    }
    if (memoryTimer >= 0) {
      vertx.cancelTimer(memoryTimer);
    }
    List<Spawn> all = new ArrayList<>(sandboxes);
    slots.forEach(s -> {
      if (s.current != null) {
        all.add(s.current);
      }
    });
    return vertx.executeBlocking(() -> {
      for (Spawn sp : all) {
        Process p = sp.process;
        if (p != null) {
          p.destroy();
        }
      }
      for (Spawn sp : all) {
        Process p = sp.process;
        if (p != null && !p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      }
      return null;
    }, false).compose(v -> server == null ? Future.succeededFuture() : server.close());
  }
}
