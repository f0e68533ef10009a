package io.inferium.engine.mempool;

import io.inferium.engine.failure.BadRequest;
import io.inferium.engine.failure.ClientGone;
import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.engine.schedule.Admission;
import io.inferium.engine.schedule.Failover;
import io.inferium.engine.schedule.Scheduler;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Verifier;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tensor scheduler (Triton's dynamic batcher): one bounded queue per function version, priority
 * levels, a deadline per request, and batches formed by concatenating compatible requests along
 * dimension 0 and splitting the outputs back. All state lives on one context, so there are no locks;
 * answers hop back to each request's own context.
 *
 * <p>Nothing is lost: a batch whose worker dies is put back at the front of its queue and runs on
 * another worker (or the replacement) while its requests' deadlines allow ({@link Failover}); a batch
 * the runtime refuses as bad input is retried one request at a time, so a bad request fails alone.
 * Every request is answered exactly once.
 */
public final class Mempool implements Scheduler<Mempool.TensorJob, Mempool.Outcome> {

  private static final Logger log = LoggerFactory.getLogger(Mempool.class);
  /** Runs per request before a lost worker's failure is passed on. */
  static final int MAX_ATTEMPTS = Failover.MAX_ATTEMPTS;
  private static final long CAPACITY_RETRY_MS = 20;

  /**
   * One inference request. {@code deadlineNanos} is on the {@link System#nanoTime} clock;
   * {@code verification} overrides the function's policy when not null.
   */
  public record TensorJob(String requestId, FunctionRecord fn, List<Tensor> inputs, List<String> outputs, int priority,
      long deadlineNanos, FunctionSpec.Verification verification) {}

  /** What a request got back. */
  public record Outcome(List<Tensor> outputs, String workerId, long queueNanos, long computeMicros, boolean coldStart,
      long batchRows, int batchRequests, String verdict, double similarity, Operators operators) {}

  /** For a redundant batch: how many operators' nodes ran it, of how many nodes (null for a single run). */
  public record Operators(int operators, int nodes) {
    public boolean sameOperator() {
      return operators < nodes;
    }
  }

  final Vertx vertx;
  private final Context context;
  final Dispatcher dispatcher;
  final WorkerCall.Factory calls;
  final EngineMetrics metrics;
  private final Admission admission;
  private final Map<String, FunctionQueue> queues = new HashMap<>();
  private final Set<FunctionQueue> waitingForWorker = new LinkedHashSet<>();
  private final RedundantBatch redundant;
  private long capacityTimer = -1;
  private volatile boolean waitingForCapacity;
  private volatile long lastDispatchNanos = System.nanoTime();

  /** {@code verifier} plans, judges and records redundant batches and audits. */
  public Mempool(Vertx vertx, Dispatcher dispatcher, WorkerCall.Factory calls, EngineMetrics metrics,
      Verifier<List<Tensor>> verifier) {
    this(vertx, dispatcher, calls, metrics, verifier, new Admission(Admission.DEFAULT_GLOBAL_LIMIT));
  }

  /** With an explicit global bound ({@code admission}) over every function's queue. */
  public Mempool(Vertx vertx, Dispatcher dispatcher, WorkerCall.Factory calls, EngineMetrics metrics,
      Verifier<List<Tensor>> verifier, Admission admission) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.dispatcher = dispatcher;
    this.calls = calls;
    this.metrics = metrics;
    this.admission = admission;
    this.redundant = new RedundantBatch(this, verifier);
    metrics.auditsWaiting(redundant.waiting::waiting);
  }

  /**
   * Queues a request for a ready function. The answer (or a {@code QueueFull}, {@link DeadlineExceeded},
   * {@link WorkerFailure} or {@link BadRequest}) arrives on the calling context.
   */
  @Override
  public QueuedRequest submit(TensorJob job) {
    QueuedRequest r = new QueuedRequest(this, job.requestId(), job.fn(), job.inputs(), job.outputs(), job.priority(),
        job.deadlineNanos(), vertx.getOrCreateContext(), job.verification());
    onContext(() -> enqueue(r));
    return r;
  }

  /** Like {@link #submit(TensorJob)}, field by field. */
  public QueuedRequest submit(String requestId, FunctionRecord fn, List<Tensor> inputs, List<String> outputs,
      int priority, long deadlineNanos, FunctionSpec.Verification verification) {
    return submit(new TensorJob(requestId, fn, inputs, outputs, priority, deadlineNanos, verification));
  }

  private void enqueue(QueuedRequest r) {
    FunctionQueue q = queues.computeIfAbsent(r.fn.ref(), ref -> {
      FunctionQueue created = new FunctionQueue(r.fn, BatchPolicy.of(r.fn), admission.queued());
      metrics.queueDepth(r.fn.name(), r.fn.version(), created::size);
      return created;
    });
    BatchPolicy policy = q.policy;
    if (policy.batching() && r.rows > policy.maxBatchSize()) {
      metrics.rejected(r.fn.name(), "batch_too_large");
      r.fail(new BadRequest("the request has " + r.rows + " rows along dimension 0, more than "
          + r.fn.ref() + "'s max_batch_size of " + policy.maxBatchSize()));
      return;
    }
    RuntimeException refused = admission.refuse("the queue of " + r.fn.ref(), q.size(), policy.maxQueueSize(),
        r.deadlineNanos);
    if (refused != null) {
      metrics.rejected(r.fn.name(), refused instanceof DeadlineExceeded ? "deadline" : "queue_full");
      r.fail(refused);
      return;
    }
    q.add(r);
    long remaining = r.deadlineNanos - System.nanoTime();
    r.deadlineTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)), t -> expire(r));
    schedule(q);
  }

  /** Sends batches from this queue while workers have room. */
  void schedule(FunctionQueue q) {
    while (!q.isEmpty()) {
      FunctionSpec.Verification v = q.head().verification;
      io.inferium.functions.Placement placement = q.fn.spec().placement();
      List<Worker> workers = v.redundant() ? dispatcher.pickDistinct(v.k(), Set.of(), placement)
          : java.util.Optional.ofNullable(dispatcher.pick(q.fn.modelSha256(), placement)).map(List::of).orElse(List.of());
      if (workers.isEmpty()) {
        String never = dispatcher.unplaceable(placement, v.redundant() ? v.k() : 1);
        if (never != null) {
          // No node it may run on is there at all: say why at once instead of waiting out the deadline.
          QueuedRequest head = q.head();
          q.remove(head);
          metrics.rejected(q.fn.name(), "unplaceable");
          finish(head, new io.inferium.engine.failure.NoWorkerAvailable(q.fn.ref() + ": " + never));
          continue;
        }
        waitingForWorker.add(q);
        waitingForCapacity = true;
        armCapacityRetry();
        return;
      }
      if (redundant.waiting.pump()) {
        // An audit waiting for a worker took one of these first (owed work, older than this batch): pick again.
        continue;
      }
      long now = System.nanoTime();
      Batch batch = q.form(now);
      if (batch == null) {
        if (q.delayTimer < 0) {
          q.delayTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(q.waitNanos(now))), t -> {
            q.delayTimer = -1;
            schedule(q);
          });
        }
        return;
      }
      if (batch.couldGrow(q.policy) && workers.stream().anyMatch(Worker::slotsBusy)) {
        // It would only wait in the worker's queue: it waits here instead, and grows, until a slot frees
        // (finished() looks again) or it fills. Sent early, closed-loop callers split into many small
        // batches, and a small batch costs the runtime nearly what a full one does on a wide model.
        // Its requests wait for a free worker: autoscaling counts that as before, when they filled the
        // worker's in-flight limit instead.
        waitingForWorker.add(q);
        waitingForCapacity = true;
        armCapacityRetry();
        return;
      }
      run(q, batch, workers, now);
    }
  }

  /** The audits waiting for auditors (tests). */
  WaitingAudits waitingAudits() {
    return redundant.waiting;
  }

  /** Workers come back (restart, a slow batch ends elsewhere): look again shortly. */
  void armCapacityRetry() {
    if (capacityTimer < 0) {
      capacityTimer = vertx.setTimer(CAPACITY_RETRY_MS, t -> {
        capacityTimer = -1;
        capacityFreed();
      });
    }
  }

  void capacityFreed() {
    redundant.waiting.pump();
    List<FunctionQueue> waiting = new ArrayList<>(waitingForWorker);
    waitingForWorker.clear();
    waitingForCapacity = false;
    waiting.forEach(this::schedule);
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

  private void run(FunctionQueue q, Batch batch, List<Worker> workers, long now) {
    lastDispatchNanos = now;
    for (QueuedRequest m : batch.members()) {
      q.remove(m);
      m.state = QueuedRequest.State.RUNNING;
      m.batch = batch;
      m.attempts++;
      metrics.queued(q.fn.name(), now - m.enqueuedNanos);
    }
    metrics.batch(q.fn.name(), batch.rows(), batch.members().size(), batch.reason());
    QueuedRequest first = batch.members().get(0);
    List<Tensor> inputs = new ArrayList<>(first.inputs.size());
    for (Tensor t : first.inputs) {
      inputs.add(Batches.concat(t.name(), batch.members().stream()
          .map(m -> m.inputs.stream().filter(i -> i.name().equals(t.name())).findFirst().orElseThrow()).toList()));
    }
    if (workers.size() == 1) {
      Worker worker = workers.get(0);
      WorkerCall call = start(worker, q.fn, inputs, first.outputs);
      batch.calls().add(call);
      call.future().onComplete(ar -> onContext(() -> {
        finished(q, batch, ar);
        if (ar.succeeded() && first.verification.audit() && redundant.plan(first.verification).auditDue()) {
          redundant.audit(q, batch, inputs, first.outputs, worker.workerId(), ar.result());
        }
      }));
      return;
    }
    redundant.run(q, batch, workers, inputs, first.outputs);
  }

  /** One INFER of these (concatenated) inputs on {@code worker}. */
  WorkerCall start(Worker worker, FunctionRecord fn, List<Tensor> inputs, List<String> outputs) {
    JsonObject meta = new JsonObject().put("outputs", new JsonArray(outputs));
    if (fn.spec().media() != null) {
      meta.put("media", fn.spec().media().workerMeta(fn.signature()));
    }
    return calls.start(worker, fn, WorkerCall.Kind.INFER, meta, inputs, null);
  }

  void finished(FunctionQueue q, Batch batch, AsyncResult<WorkerCall.Reply> ar) {
    List<QueuedRequest> live = batch.live();
    if (ar.succeeded()) {
      deliver(q, batch, live, ar.result(), null, 1.0);
    } else {
      Throwable err = ar.cause();
      if (Failover.lost(err)) {
        retryOrFail(q, live, err);
      } else if (err instanceof WorkerFailure wf && "bad_input".equals(wf.code()) && batch.members().size() > 1) {
        // One of them is bad and the runtime cannot say which: run each alone so only that one fails.
        live.forEach(m -> m.solo = true);
        requeue(q, live);
      } else {
        live.forEach(m -> finish(m, err));
      }
    }
    schedule(q);
    capacityFreed();
  }

  void deliver(FunctionQueue q, Batch batch, List<QueuedRequest> live, WorkerCall.Reply result, String verdict,
      double similarity) {
    deliver(q, batch, live, result, verdict, similarity, null);
  }

  void deliver(FunctionQueue q, Batch batch, List<QueuedRequest> live, WorkerCall.Reply result, String verdict,
      double similarity, Operators operators) {
    int n = batch.members().size();
    List<List<Tensor>> perMember = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      perMember.add(new ArrayList<>(result.outputs().size()));
    }
    if (n == 1) {
      perMember.get(0).addAll(result.outputs());
    } else {
      try {
        long[] rows = batch.rowsPerMember();
        for (Tensor out : result.outputs()) {
          List<Tensor> parts = Batches.split(out, rows);
          for (int i = 0; i < n; i++) {
            perMember.get(i).add(parts.get(i));
          }
        }
      } catch (IllegalArgumentException e) {
        log.warn("{}: {}; batching turned off for this function", q.fn.ref(), e.getMessage());
        q.policy = q.policy.unbatched();
        requeue(q, live);
        return;
      }
    }
    long now = System.nanoTime();
    for (int i = 0; i < n; i++) {
      QueuedRequest m = batch.members().get(i);
      if (m.state == QueuedRequest.State.DONE) {
        continue;
      }
      vertx.cancelTimer(m.deadlineTimer);
      m.complete(new Outcome(perMember.get(i), result.workerId(), now - m.enqueuedNanos, result.computeMicros(),
          result.coldStart(), batch.rows(), n, verdict, similarity, operators));
    }
  }

  void retryOrFail(FunctionQueue q, List<QueuedRequest> live, Throwable err) {
    List<QueuedRequest> again = new ArrayList<>();
    for (QueuedRequest m : live) {
      if (Failover.again(m.attempts, m.deadlineNanos, false)) {
        again.add(m);
      } else {
        finish(m, err);
      }
    }
    if (!again.isEmpty()) {
      log.info("Re-dispatching {} request(s) of {} after: {}", again.size(), q.fn.ref(), err.getMessage());
      metrics.redispatched(q.fn.name(), again.size());
      requeue(q, again);
    }
  }

  private void requeue(FunctionQueue q, List<QueuedRequest> rs) {
    rs.forEach(m -> {
      m.state = QueuedRequest.State.QUEUED;
      m.batch = null;
    });
    q.requeue(rs);
  }

  private void finish(QueuedRequest r, Throwable err) {
    vertx.cancelTimer(r.deadlineTimer);
    r.fail(err);
  }

  private void expire(QueuedRequest r) {
    if (r.state == QueuedRequest.State.DONE) {
      return;
    }
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - r.enqueuedNanos);
    if (r.state == QueuedRequest.State.QUEUED) {
      queues.get(r.fn.ref()).remove(r);
      metrics.rejected(r.fn.name(), "deadline");
      r.fail(new DeadlineExceeded("deadline exceeded after " + waitedMs + " ms waiting in the queue of " + r.fn.ref()));
      return;
    }
    Batch batch = r.batch;
    r.fail(new DeadlineExceeded("deadline exceeded after " + waitedMs + " ms running " + r.fn.ref()));
    withdrawIfAbandoned(batch, true);
  }

  void cancel(QueuedRequest r) {
    onContext(() -> {
      if (r.state == QueuedRequest.State.DONE) {
        return;
      }
      metrics.rejected(r.fn.name(), "client_gone");
      vertx.cancelTimer(r.deadlineTimer);
      boolean queued = r.state == QueuedRequest.State.QUEUED;
      if (queued) {
        queues.get(r.fn.ref()).remove(r);
      }
      Batch batch = r.batch;
      r.fail(new ClientGone("the client closed the connection"));
      if (!queued) {
        withdrawIfAbandoned(batch, false);
      }
    });
  }

  /**
   * Nobody waits for this batch any more: withdraw it so the worker stops (or is replaced). The last
   * request's end decides the blame: its deadline ({@code nodeAtFault}) or its client leaving.
   */
  private void withdrawIfAbandoned(Batch batch, boolean nodeAtFault) {
    if (batch != null && batch.allDone()) {
      batch.withdraw("every request of the batch is answered or gone", nodeAtFault);
    }
  }

  void onContext(Runnable r) {
    if (Vertx.currentContext() == context) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }
}
