package io.inferium.engine.text;

import io.inferium.engine.failure.ClientGone;
import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.failure.NoWorkerAvailable;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.engine.schedule.Admission;
import io.inferium.engine.schedule.Failover;
import io.inferium.engine.schedule.Levels;
import io.inferium.engine.schedule.Scheduler;
import io.inferium.engine.schedule.Ticket;
import io.inferium.functions.FunctionRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The token-level scheduler for text functions (vLLM's split: the gateway keeps each worker's running
 * set full, the worker decodes everything it runs for one function together). Generations, embeddings
 * and scoring calls wait here per function version (bounded; 429 beyond it), by priority, and go to a
 * worker while it runs fewer than the function's {@code max_running_sequences} calls of that function;
 * embeddings and scoring also need the worker under its in-flight limit. Every call reserves its
 * worker for its whole life ({@link WorkerCall}). Runs on one context; answers hop back to the caller's.
 * A worker lost before a call streamed anything is replaced ({@link Failover}); after the first token
 * the failure reaches the client, who already has part of the answer.
 */
public final class Generations implements Scheduler<Generations.TextJob, WorkerCall.Reply> {

  private static final long CAPACITY_RETRY_MS = 50;

  /**
   * One text call. {@code meta} holds the request fields of its kind (for a generation {@code prompt}
   * or {@code messages} and {@code params}); {@code onChunk} sees a generation's tokens (null otherwise),
   * in order, as many at a time as arrived together (never empty). {@code avoid} (shared by a task's sibling runs,
   * each adding the worker it starts on) keeps a run off those workers; {@code pinned}, when not null, holds the one
   * worker it may run on (an audit's drawn auditor).
   */
  public record TextJob(FunctionRecord fn, WorkerCall.Kind kind, JsonObject meta, int priority, long deadlineNanos,
      Consumer<List<Chunk>> onChunk, Set<String> avoid, Pin pinned) {

    public TextJob(FunctionRecord fn, WorkerCall.Kind kind, JsonObject meta, int priority, long deadlineNanos,
        Consumer<List<Chunk>> onChunk, Set<String> avoid) {
      this(fn, kind, meta, priority, deadlineNanos, onChunk, avoid, null);
    }

    public TextJob(FunctionRecord fn, WorkerCall.Kind kind, JsonObject meta, int priority, long deadlineNanos,
        Consumer<List<Chunk>> onChunk) {
      this(fn, kind, meta, priority, deadlineNanos, onChunk, null, null);
    }

    /** Whether it may run only on some workers: such a run never holds back the calls queued behind it. */
    boolean constrained() {
      return avoid != null || pinned != null;
    }
  }

  /**
   * The one worker a run may start on (an audit's drawn auditor). One that leaves or is ejected before the run starts
   * is replaced by {@code redraw} (another draw, or null while none is eligible, and the run keeps waiting): a run
   * pinned to a worker that is gone would otherwise wait out its deadline and its audit go unrun. Read and redrawn
   * only on the scheduler's context.
   */
  public static final class Pin {
    private Worker worker;
    private final java.util.function.Supplier<Worker> redraw;

    public Pin(Worker worker, java.util.function.Supplier<Worker> redraw) {
      this.worker = worker;
      this.redraw = redraw;
    }

    /** The worker pinned now, drawn again first if the one pinned is no longer eligible for {@code p}. */
    Worker current(Dispatcher dispatcher, io.inferium.functions.Placement p) {
      if (!dispatcher.eligible(worker, p)) {
        Worker next = redraw.get();
        if (next != null) {
          worker = next;
        }
      }
      return worker;
    }
  }

  /** One streamed token of one choice. */
  public record Chunk(int index, int tokenId, String text, int promptTokens) {}

  /** A finished generation, as the worker reported it and the gateway checked it. */
  public record Finished(List<Choice> choices, int promptTokens, int completionTokens, long computeMicros,
      String workerId, long queueNanos, boolean coldStart, String verdict) {

    public Finished(List<Choice> choices, int promptTokens, int completionTokens, long computeMicros, String workerId,
        long queueNanos, boolean coldStart) {
      this(choices, promptTokens, completionTokens, computeMicros, workerId, queueNanos, coldStart, null);
    }
  }

  /** One choice: why it ended and how many tokens it produced. */
  public record Choice(int index, String finishReason, int completionTokens) {}

  /** A text call waiting or running; answered exactly once. */
  final class TextRequest implements Ticket<WorkerCall.Reply> {
    final TextJob job;
    final long enqueuedNanos = System.nanoTime();
    final Context caller;
    final Promise<WorkerCall.Reply> result = Promise.promise();
    int attempts;
    long deadlineTimer = -1;
    long queueNanos;
    WorkerCall call;
    volatile int chunks;
    volatile boolean done;
    /** Tokens received and not yet handed to the caller (guarded by this); non-null while a hop is on its way. */
    private List<Chunk> outbox;

    TextRequest(TextJob job, Context caller) {
      this.job = job;
      this.caller = caller;
    }

    @Override
    public Future<WorkerCall.Reply> future() {
      return result.future();
    }

    /** The client went away: stop (a generation within one decode step on the worker). */
    @Override
    public void cancel() {
      context.runOnContext(v -> end(this, new ClientGone("the client closed the connection")));
    }

    /**
     * On the worker's context. Tokens that arrive while a hop to the caller is pending ride along with it:
     * one task (and one wake-up of the caller's event loop) per batch, not per token.
     */
    void offer(Chunk chunk) {
      boolean hop;
      synchronized (this) {
        hop = outbox == null;
        if (hop) {
          outbox = new ArrayList<>(4);
        }
        outbox.add(chunk);
      }
      if (hop) {
        caller.runOnContext(v -> deliver());
      }
    }

    private void deliver() {
      List<Chunk> batch;
      synchronized (this) {
        batch = outbox;
        outbox = null;
      }
      job.onChunk().accept(batch);
    }
  }

  /** A generation in the mempool or running: its checked outcome and the tokens streamed so far. */
  public static final class Generation implements Ticket<Finished> {
    private final Runnable cancel;
    private final java.util.function.IntSupplier streamed;
    private final Future<Finished> finished;

    Generation(TextRequest request) {
      this(request.future().map(r -> finished(r, request.queueNanos)), request::cancel, () -> request.chunks);
    }

    /** A generation made of other calls (redundant runs): its outcome, how to stop it, tokens streamed so far. */
    Generation(Future<Finished> finished, Runnable cancel, java.util.function.IntSupplier streamed) {
      this.finished = finished;
      this.cancel = cancel;
      this.streamed = streamed;
    }

    /** Completes on the submitting context. */
    @Override
    public Future<Finished> future() {
      return finished;
    }

    /** The client went away: stop generating (within one decode step on the worker). */
    @Override
    public void cancel() {
      cancel.run();
    }

    /** Tokens streamed so far (all choices). */
    public int streamedTokens() {
      return streamed.getAsInt();
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final Dispatcher dispatcher;
  private final WorkerCall.Factory calls;
  private final TextMetrics metrics;
  private final Admission admission;
  private final Map<String, Levels<TextRequest>> waiting = new ConcurrentHashMap<>();
  /** Running calls by function sha, then worker id. */
  private final Map<String, Map<String, Integer>> running = new ConcurrentHashMap<>();
  private long capacityTimer = -1;
  private volatile boolean waitingForCapacity;
  private volatile long lastDispatchNanos = System.nanoTime();
  /** Function name → the model hashes (versions) queued under it, for the per-function gauges. */
  private final Map<String, Set<String>> shasByName = new ConcurrentHashMap<>();

  public Generations(Vertx vertx, Dispatcher dispatcher, WorkerCall.Factory calls, TextMetrics metrics) {
    this(vertx, dispatcher, calls, metrics, new Admission(Admission.DEFAULT_GLOBAL_LIMIT));
  }

  public Generations(Vertx vertx, Dispatcher dispatcher, WorkerCall.Factory calls, TextMetrics metrics,
      Admission admission) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.dispatcher = dispatcher;
    this.calls = calls;
    this.metrics = metrics;
    this.admission = admission;
  }

  /**
   * Queues a generation of a ready text-generation function. {@code work} holds {@code prompt} or
   * {@code messages} and {@code params} (SamplingParams JSON). Chunks (in batches of those that arrived
   * together) and then the outcome arrive on the calling context; a full queue fails the future with
   * {@code QueueFull}.
   */
  public Generation submit(FunctionRecord fn, JsonObject work, long deadlineNanos, Consumer<List<Chunk>> onChunk) {
    if (redundant != null && fn.spec().verification().redundant()) {
      return redundant.generate(fn, work, deadlineNanos, onChunk);
    }
    if (audits != null && fn.spec().verification().audit()) {
      return audits.generate(fn, work, deadlineNanos, onChunk);
    }
    return new Generation(submit(new TextJob(fn, WorkerCall.Kind.GENERATE, work, 0, deadlineNanos, onChunk)));
  }

  /** A single-reply call (embed, score) through the same queues; the checked reply on the calling context. */
  Future<WorkerCall.Reply> call(FunctionRecord fn, WorkerCall.Kind kind, JsonObject meta, long deadlineNanos) {
    if (redundant != null && kind == WorkerCall.Kind.EMBED && fn.spec().verification().redundant()) {
      return redundant.embed(fn, meta, deadlineNanos);
    }
    if (audits != null && kind == WorkerCall.Kind.EMBED && fn.spec().verification().audit()) {
      return audits.embed(fn, meta, deadlineNanos);
    }
    return submit(new TextJob(fn, kind, meta, 0, deadlineNanos, null)).future();
  }

  private RedundantText redundant;
  private TextAudits audits;

  /**
   * Verifies text functions under {@code redundant(k)} and {@code audit(p)} from now on, judged by these verifiers,
   * which record every verdict in the node ledger ({@link RedundantText}, {@link TextAudits}); without a
   * semantic judge, unseeded generations are refused under redundancy and not audited.
   */
  public void verifyWith(RedundantText.Judge<io.inferium.verifier.TextOutput> tokens, RedundantText.Judge<List<io.inferium.functions.tensor.Tensor>> vectors) {
    verifyWith(tokens, vectors, null, null);
  }

  /**
   * As {@link #verifyWith(RedundantText.Judge, RedundantText.Judge)}, and unseeded generations of functions that
   * name a similarity embedder are compared by meaning: {@code embedders} finds that embedder by name.
   */
  public void verifyWith(RedundantText.Judge<io.inferium.verifier.TextOutput> tokens,
      RedundantText.Judge<List<io.inferium.functions.tensor.Tensor>> vectors,
      RedundantText.Judge<io.inferium.verifier.EmbeddedText> meaning,
      java.util.function.Function<String, Future<java.util.Optional<FunctionRecord>>> embedders) {
    SimilarityEmbedder embedder = embedders == null ? null : new SimilarityEmbedder(this, embedders::apply, metrics);
    this.redundant = new RedundantText(this, tokens, vectors, meaning, embedder);
    this.audits = new TextAudits(this, tokens.verifier(), vectors.verifier(), meaning == null ? null : meaning.verifier(),
        embedder, metrics);
  }

  /** An audit's auditors, drawn at random among the eligible workers, busy or not ({@link Dispatcher#drawAuditors}). */
  List<Worker> drawAuditors(int k, Set<String> exclude, Set<String> avoidOperators, io.inferium.functions.Placement p) {
    return dispatcher.drawAuditors(k, exclude, avoidOperators, p);
  }

  /** Another auditor for an audit whose drawn one left ({@link Dispatcher#redrawAuditor}). */
  Worker redrawAuditor(Set<String> exclude, Set<String> avoidOperators, io.inferium.functions.Placement p) {
    return dispatcher.redrawAuditor(exclude, avoidOperators, p);
  }

  /** Workers text calls may go to now (eligible, not ejected), with their operators. */
  List<Worker> workers() {
    return dispatcher.workers();
  }

  /** Workers text calls may go to now (eligible, not ejected). */
  int eligibleWorkers() {
    return dispatcher.workers().size();
  }

  /**
   * How many runs of {@code fn} can go to distinct places now: eligible workers meeting its placement, counted by
   * operator where redundant runs must span operators (a networked gateway, unless the function allows otherwise).
   */
  int distinctPlaces(FunctionRecord fn) {
    io.inferium.functions.Placement p = fn.spec().placement();
    java.util.stream.Stream<Worker> fit = dispatcher.workers().stream().filter(w -> Dispatcher.fits(w, p));
    return (int) (dispatcher.byOperator(p) ? fit.map(Worker::operator).distinct().count() : fit.count());
  }

  @Override
  public TextRequest submit(TextJob job) {
    TextRequest r = new TextRequest(job, vertx.getOrCreateContext());
    context.runOnContext(v -> enqueue(r));
    return r;
  }

  private void enqueue(TextRequest r) {
    FunctionRecord fn = r.job.fn();
    Levels<TextRequest> q = waiting.computeIfAbsent(fn.modelSha256(), k -> {
      // One gauge pair per function name, summed over its versions (each version is its own queue).
      if (shasByName.computeIfAbsent(fn.name(), n -> ConcurrentHashMap.newKeySet()).isEmpty()) {
        String name = fn.name();
        metrics.gauges(name, () -> shasByName.get(name).stream().mapToInt(this::queueSize).sum(),
            () -> shasByName.get(name).stream().mapToInt(this::runningCount).sum());
      }
      shasByName.get(fn.name()).add(k);
      return new Levels<>(admission.queued());
    });
    if (dispatcher.allEjected()) {
      // Waiting would only end in a 504 at the deadline: say at once that there is no capacity.
      metrics.rejected(fn.name(), "no_eligible_worker");
      fail(r, new NoWorkerAvailable("no eligible worker: every attached worker is ejected"));
      return;
    }
    String never = dispatcher.unplaceable(fn.spec().placement(), 1);
    if (never != null) {
      // No node the function may run on is there at all (its requires): say why at once.
      metrics.rejected(fn.name(), "unplaceable");
      fail(r, new NoWorkerAvailable(fn.ref() + ": " + never));
      return;
    }
    RuntimeException refused = admission.refuse("the queue of " + fn.ref(), q.size(), fn.spec().text().maxWaiting(),
        r.job.deadlineNanos());
    if (refused != null) {
      metrics.rejected(fn.name(), refused instanceof DeadlineExceeded ? "deadline" : "queue_full");
      fail(r, refused);
      return;
    }
    long remaining = r.job.deadlineNanos() - System.nanoTime();
    r.deadlineTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)),
        t -> end(r, new DeadlineExceeded("the " + what(r.job.kind()) + " did not finish within its deadline ("
            + fn.spec().timeoutMs() + " ms for " + fn.ref() + ")")));
    q.add(r.job.priority(), r);
    schedule(fn.modelSha256());
  }

  private static String what(WorkerCall.Kind kind) {
    return switch (kind) {
      case GENERATE -> "generation";
      case EMBED -> "embedding";
      case SCORE -> "scoring";
      case INFER -> "inference";
    };
  }

  // Read at scrape time from the metrics thread: sizes only, approximate by design.
  private int queueSize(String sha) {
    Levels<TextRequest> q = waiting.get(sha);
    return q == null ? 0 : q.size();
  }

  private int runningCount(String sha) {
    Map<String, Integer> perWorker = running.get(sha);
    return perWorker == null ? 0 : perWorker.values().stream().mapToInt(Integer::intValue).sum();
  }

  private void schedule(String sha) {
    Levels<TextRequest> q = waiting.get(sha);
    while (q != null && !q.isEmpty()) {
      TextRequest r = q.peek();
      Worker worker = pick(r.job);
      if (worker == null) {
        if (r.job.constrained()) {
          // Held back by its own constraints (its pinned worker, or those its siblings or its server took).
          scheduleBehind(q);
        }
        waitingForCapacity = true;
        armRetry();
        return;
      }
      q.remove(r.job.priority(), r);
      start(r, worker);
    }
  }

  /**
   * Starts, in service order, what can start behind a head that only its own constraints hold back, up to the first
   * unconstrained call that no worker can take now: an audit waiting for one particular operator's worker must not
   * keep a free worker from the calls queued behind it.
   */
  private void scheduleBehind(Levels<TextRequest> q) {
    for (TextRequest r : q.inOrder()) {
      Worker worker = pick(r.job);
      if (worker != null) {
        q.remove(r.job.priority(), r);
        start(r, worker);
      } else if (!r.job.constrained()) {
        return;
      }
    }
  }

  /**
   * The worker with the fewest running calls of this function among those below its running-set
   * limit (single-reply calls also below the worker's in-flight limit); loaded first.
   */
  private Worker pick(TextJob job) {
    FunctionRecord fn = job.fn();
    Map<String, Integer> perWorker = running.getOrDefault(fn.modelSha256(), Map.of());
    int limit = fn.spec().text().maxRunningSequences();
    boolean stream = job.kind() == WorkerCall.Kind.GENERATE;
    io.inferium.functions.Placement placement = fn.spec().placement();
    String pinned = job.pinned() == null ? null : job.pinned().current(dispatcher, placement).workerId();
    return dispatcher.workers().stream()
        .filter(w -> perWorker.getOrDefault(w.workerId(), 0) < limit && (stream || !w.saturated()))
        .filter(w -> Dispatcher.fits(w, placement))
        // A redundant run never shares a worker with its siblings: k runs, k distinct nodes.
        .filter(w -> job.avoid() == null || !job.avoid().contains(w.workerId()))
        .filter(w -> pinned == null || pinned.equals(w.workerId()))
        .min(Comparator.comparing((Worker w) -> !w.hasLoaded(fn.modelSha256()))
            .thenComparingInt(w -> perWorker.getOrDefault(w.workerId(), 0)))
        .orElse(null);
  }

  private void armRetry() {
    if (capacityTimer < 0) {
      capacityTimer = vertx.setTimer(CAPACITY_RETRY_MS, t -> {
        capacityTimer = -1;
        waitingForCapacity = false;
        List.copyOf(waiting.keySet()).forEach(this::schedule);
      });
    }
  }

  private void start(TextRequest r, Worker worker) {
    FunctionRecord fn = r.job.fn();
    String sha = fn.modelSha256();
    running.computeIfAbsent(sha, k -> new ConcurrentHashMap<>()).merge(worker.workerId(), 1, Integer::sum);
    if (r.job.avoid() != null) {
      r.job.avoid().add(worker.workerId());
      if (dispatcher.byOperator(fn.spec().placement())) {
        // Sibling runs go to other operators: one operator's nodes agreeing with each other prove nothing.
        dispatcher.workers().stream().filter(w -> w.operator().equals(worker.operator()))
            .forEach(w -> r.job.avoid().add(w.workerId()));
      }
    }
    r.attempts++;
    r.queueNanos = System.nanoTime() - r.enqueuedNanos;
    lastDispatchNanos = System.nanoTime();
    WorkerCall call = calls.start(worker, fn, r.job.kind(), r.job.meta(), List.of(),
        r.job.onChunk() == null ? null : token -> onToken(r, token));
    r.call = call;
    call.future().onComplete(ar -> onContext(() -> {
      running.get(sha).merge(worker.workerId(), -1, Integer::sum);
      if (r.call == call) {
        r.call = null;
      }
      if (ar.succeeded()) {
        succeed(r, ar.result());
      } else if (!r.done && Failover.again(ar.cause(), r.attempts, r.job.deadlineNanos(), r.chunks > 0)) {
        metrics.redispatched(fn.name());
        waiting.get(sha).addFirst(r.job.priority(), r);
      } else {
        end(r, ar.cause());
      }
      schedule(sha);
    }));
  }

  /** On the worker's context: forwards a token to the caller unless the call already ended. */
  private void onToken(TextRequest r, WorkerLink.Token token) {
    if (r.done) {
      return;
    }
    r.chunks++;
    r.offer(new Chunk(token.index(), token.id(), token.text(), token.promptTokens()));
  }

  static Finished finished(WorkerCall.Reply reply, long queueNanos) {
    JsonObject m = reply.meta();
    List<Choice> choices = new ArrayList<>();
    m.getJsonArray("choices").forEach(c -> {
      JsonObject o = (JsonObject) c;
      choices.add(new Choice(o.getInteger("index"), o.getString("finish_reason"), o.getInteger("completion_tokens")));
    });
    return new Finished(choices, m.getInteger("prompt_tokens", 0), m.getInteger("completion_tokens", 0),
        reply.computeMicros(), reply.workerId(), queueNanos, reply.coldStart(),
        m.containsKey("verification") ? m.getJsonObject("verification").getString("verdict") : null);
  }

  /** Ends a call early (deadline, client gone, failure) wherever it is. */
  private void end(TextRequest r, Throwable cause) {
    if (r.done) {
      return;
    }
    Levels<TextRequest> q = waiting.get(r.job.fn().modelSha256());
    boolean wasQueued = q != null && q.remove(r.job.priority(), r);
    if (cause instanceof DeadlineExceeded) {
      metrics.rejected(r.job.fn().name(), "deadline");
    } else if (cause instanceof ClientGone) {
      metrics.rejected(r.job.fn().name(), "client_gone");
    }
    WorkerCall running = wasQueued ? null : r.call;
    // Answered before the withdrawal: the call may fail at once, on this context, and must find it done.
    fail(r, cause);
    if (running != null) {
      // Only a deadline is the node's to honour; a client that hung up is nobody's fault on the worker's side.
      running.cancel(cause.getMessage(), cause instanceof DeadlineExceeded);
    }
  }

  private void succeed(TextRequest r, WorkerCall.Reply reply) {
    if (r.done) {
      return;
    }
    r.done = true;
    vertx.cancelTimer(r.deadlineTimer);
    r.caller.runOnContext(v -> r.result.tryComplete(reply));
  }

  private void fail(TextRequest r, Throwable cause) {
    if (r.done) {
      return;
    }
    r.done = true;
    if (r.deadlineTimer >= 0) {
      vertx.cancelTimer(r.deadlineTimer);
    }
    r.caller.runOnContext(v -> r.result.tryFail(cause));
  }

  @Override
  public int queued() {
    return admission.queued().get();
  }

  @Override
  public boolean waitingForCapacity() {
    return waitingForCapacity;
  }

  @Override
  public long lastDispatchNanos() {
    return lastDispatchNanos;
  }

  private void onContext(Runnable task) {
    if (Vertx.currentContext() == context) {
      task.run();
    } else {
      context.runOnContext(v -> task.run());
    }
  }
}
