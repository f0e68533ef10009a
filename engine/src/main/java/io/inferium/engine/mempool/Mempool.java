package io.inferium.engine.mempool;

import io.inferium.engine.failure.QueueFull;

import io.inferium.engine.failure.ClientGone;

import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.engine.failure.BadRequest;
import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.inferium.verifier.Consensus;
import io.inferium.verifier.NodeLedger;
import io.inferium.verifier.OutputHash;
import io.vertx.core.Vertx;
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
 * Where requests wait for a worker: one bounded queue per function version, priority levels, a
 * deadline per request, and a dynamic batcher that concatenates compatible requests along dimension 0
 * and splits the outputs back. All state lives on one context, so there are no locks; answers hop
 * back to each request's own context.
 *
 * <p>Nothing is lost: a batch whose worker dies is put back at the front of its queue and runs on
 * another worker (or the replacement) while its requests' deadlines allow; a batch the runtime refuses
 * as bad input is retried one request at a time, so a bad request fails alone. Every request is
 * answered exactly once.
 */
public final class Mempool {

  private static final Logger log = LoggerFactory.getLogger(Mempool.class);
  /** Runs per request before a lost worker's failure is passed on. */
  static final int MAX_ATTEMPTS = 3;
  private static final long CAPACITY_RETRY_MS = 20;

  /** What a request got back. */
  public record Outcome(List<Tensor> outputs, String workerId, long queueNanos, long computeMicros, boolean coldStart,
      long batchRows, int batchRequests, String verdict, double similarity) {}

  private final Vertx vertx;
  private final Context context;
  private final Dispatcher dispatcher;
  private final EngineMetrics metrics;
  private final Map<String, FunctionQueue> queues = new HashMap<>();
  private final Set<FunctionQueue> waitingForWorker = new LinkedHashSet<>();
  private long capacityTimer = -1;
  private final java.util.concurrent.atomic.AtomicInteger queuedTotal = new java.util.concurrent.atomic.AtomicInteger();
  private volatile boolean waitingForCapacity;
  private volatile long lastDispatchNanos = System.nanoTime();

  private final NodeLedger ledger;

  public Mempool(Vertx vertx, Dispatcher dispatcher, EngineMetrics metrics, NodeLedger ledger) {
    this.ledger = ledger;
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.dispatcher = dispatcher;
    this.metrics = metrics;
  }

  /**
   * Queues a request for a ready function. {@code deadlineNanos} is on the {@link System#nanoTime}
   * clock; the answer (or a {@link QueueFull}, {@link DeadlineExceeded}, {@link WorkerFailure} or
   * {@link BadRequest}) arrives on the calling context.
   */
  public QueuedRequest submit(String requestId, FunctionRecord fn, List<Tensor> inputs, List<String> outputs,
      int priority, long deadlineNanos, FunctionSpec.Verification verification) {
    QueuedRequest r = new QueuedRequest(this, requestId, fn, inputs, outputs, priority, deadlineNanos,
        vertx.getOrCreateContext(), verification);
    onContext(() -> enqueue(r));
    return r;
  }

  private void enqueue(QueuedRequest r) {
    FunctionQueue q = queues.computeIfAbsent(r.fn.ref(), ref -> {
      FunctionQueue created = new FunctionQueue(r.fn, BatchPolicy.of(r.fn), queuedTotal);
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
    if (q.size() >= policy.maxQueueSize()) {
      metrics.rejected(r.fn.name(), "queue_full");
      r.fail(new QueueFull("the queue of " + r.fn.ref() + " is full (" + q.size() + " requests)"));
      return;
    }
    long remaining = r.deadlineNanos - System.nanoTime();
    if (remaining <= 0) {
      metrics.rejected(r.fn.name(), "deadline");
      r.fail(new DeadlineExceeded("the request's deadline passed before it was queued"));
      return;
    }
    q.add(r);
    r.deadlineTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)), t -> expire(r));
    schedule(q);
  }

  /** Sends batches from this queue while workers have room. */
  private void schedule(FunctionQueue q) {
    while (!q.isEmpty()) {
      FunctionSpec.Verification v = q.head().verification;
      List<WorkerLink> links = v.redundant() ? dispatcher.pickDistinct(v.k())
          : java.util.Optional.ofNullable(dispatcher.pick(q.fn.modelSha256())).map(List::of).orElse(List.of());
      if (links.isEmpty()) {
        waitingForWorker.add(q);
        waitingForCapacity = true;
        armCapacityRetry();
        return;
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
      run(q, batch, links, now);
    }
  }

  /** Workers come back (restart, a slow batch ends elsewhere): look again shortly. */
  private void armCapacityRetry() {
    if (capacityTimer < 0) {
      capacityTimer = vertx.setTimer(CAPACITY_RETRY_MS, t -> {
        capacityTimer = -1;
        capacityFreed();
      });
    }
  }

  private void capacityFreed() {
    List<FunctionQueue> waiting = new ArrayList<>(waitingForWorker);
    waitingForWorker.clear();
    waitingForCapacity = false;
    waiting.forEach(this::schedule);
  }

  /** Requests waiting in every queue (readable from any thread, for the autoscaler). */
  public int queued() {
    return queuedTotal.get();
  }

  /** Whether requests are waiting because every worker is at its in-flight limit. */
  public boolean waitingForCapacity() {
    return waitingForCapacity;
  }

  /** {@link System#nanoTime} of the last batch sent to a worker. */
  public long lastDispatchNanos() {
    return lastDispatchNanos;
  }

  private void run(FunctionQueue q, Batch batch, List<WorkerLink> links, long now) {
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
    if (links.size() == 1) {
      WorkerLink link = links.get(0);
      dispatcher.run(link, q.fn, inputs, first.outputs, batch.newCall())
          .onComplete(ar -> onContext(() -> {
            finished(q, batch, ar);
            FunctionSpec.Verification v = first.verification;
            if (ar.succeeded() && v.audit() && q.auditRandom.nextDouble() < v.auditFraction()) {
              audit(q, batch, inputs, first.outputs, link.workerId(), ar.result());
            }
          }));
      return;
    }
    List<Future<Dispatcher.Result>> runs = new ArrayList<>();
    for (WorkerLink link : links) {
      runs.add(dispatcher.run(link, q.fn, inputs, first.outputs, batch.newCall()));
    }
    Future.join(runs).onComplete(ar -> onContext(() -> finishedRedundant(q, batch, links, runs)));
  }

  /**
   * Optimistic verification: the batch was answered by one worker; now two others run it again and
   * the majority of the three decides. An outvoted first worker is slashed like any outlier. Audits
   * take spare capacity only; one that finds no free workers is skipped and counted.
   */
  private void audit(FunctionQueue q, Batch batch, List<Tensor> inputs, List<String> outputs, String answeredBy,
      Dispatcher.Result answer) {
    List<WorkerLink> auditors = dispatcher.pickDistinct(2, java.util.Set.of(answeredBy));
    if (auditors.isEmpty()) {
      metrics.audited(q.fn.name(), "skipped");
      return;
    }
    List<Future<Dispatcher.Result>> runs = new ArrayList<>();
    List<io.vertx.core.Promise<io.inferium.engine.protocol.Frame>> calls = new ArrayList<>();
    for (WorkerLink w : auditors) {
      io.vertx.core.Promise<io.inferium.engine.protocol.Frame> call = io.vertx.core.Promise.promise();
      calls.add(call);
      runs.add(dispatcher.run(w, q.fn, inputs, outputs, call));
    }
    // An audit has the function's own time limit: an auditor that hangs is withdrawn (and replaced if stuck).
    long limit = vertx.setTimer(q.fn.spec().timeoutMs(), t -> calls.forEach(c ->
        c.tryFail(new WorkerLink.Cancelled("audit exceeded " + q.fn.spec().timeoutMs() + " ms"))));
    runs.forEach(r -> r.onComplete(ar -> {
      if (runs.stream().allMatch(Future::isComplete)) {
        vertx.cancelTimer(limit);
      }
    }));
    String task = batch.members().get(0).id + "/audit";
    Future.join(runs).onComplete(done -> onContext(() -> {
      List<List<Tensor>> results = new ArrayList<>();
      List<String> nodes = new ArrayList<>();
      results.add(answer.outputs());
      nodes.add(answeredBy);
      for (int i = 0; i < runs.size(); i++) {
        if (runs.get(i).succeeded()) {
          results.add(runs.get(i).result().outputs());
          nodes.add(auditors.get(i).workerId());
        }
      }
      Consensus.Verdict verdict = Consensus.decide(results, batch.members().get(0).verification.threshold());
      String outcome = verdict.kind() != Consensus.Kind.VERIFIED ? "inconclusive"
          : verdict.outliers().contains(0) ? "caught" : "clean";
      metrics.audited(q.fn.name(), outcome);
      if (outcome.equals("caught")) {
        log.warn("Audit of {} caught worker {}: outvoted by {}", task, answeredBy,
            verdict.agreeing().stream().map(nodes::get).toList());
      }
      ledger.record(task, verdict, nodes, results.stream().map(OutputHash::of).toList())
          .onFailure(err -> log.error("Could not record audit {}: {}", task, err.toString()));
      capacityFreed();
    }));
  }

  /** Compares the runs of a redundant batch and answers from the agreeing majority. */
  private void finishedRedundant(FunctionQueue q, Batch batch, List<WorkerLink> links, List<Future<Dispatcher.Result>> runs) {
    List<Dispatcher.Result> ok = new ArrayList<>();
    List<String> nodes = new ArrayList<>();
    Throwable firstError = null;
    for (int i = 0; i < runs.size(); i++) {
      if (runs.get(i).succeeded()) {
        ok.add(runs.get(i).result());
        nodes.add(links.get(i).workerId());
      } else if (firstError == null) {
        firstError = runs.get(i).cause();
      }
    }
    if (ok.isEmpty()) {
      finished(q, batch, Future.failedFuture(firstError));
      return;
    }
    double threshold = batch.members().get(0).verification.threshold();
    Consensus.Verdict verdict = Consensus.decide(ok.stream().map(Dispatcher.Result::outputs).toList(), threshold);
    metrics.verified(q.fn.name(), verdict.kind().wire(), verdict.similarity());
    List<String> hashes = ok.stream().map(r -> OutputHash.of(r.outputs())).toList();
    String task = batch.members().get(0).id + (batch.members().size() > 1 ? "+" + (batch.members().size() - 1) : "");
    ledger.record(task, verdict, nodes, hashes)
        .onFailure(err -> log.error("Could not record verification of {}: {}", task, err.toString()));
    List<QueuedRequest> live = batch.members().stream().filter(m -> m.state != QueuedRequest.State.DONE).toList();
    if (verdict.kind() == Consensus.Kind.DISPUTED) {
      WorkerFailure disputed = new WorkerFailure("disputed", "verification disputed: the runs on workers " + nodes
          + " disagree (best similarity " + String.format(java.util.Locale.ROOT, "%.6f", verdict.similarity())
          + ", threshold " + threshold + ")");
      retryOrFail(q, live, disputed);
    } else {
      int chosen = verdict.agreeing().get(java.util.concurrent.ThreadLocalRandom.current().nextInt(verdict.agreeing().size()));
      deliver(q, batch, live, ok.get(chosen), verdict.kind().wire(), verdict.similarity());
    }
    schedule(q);
    capacityFreed();
  }

  private void finished(FunctionQueue q, Batch batch, AsyncResult<Dispatcher.Result> ar) {
    List<QueuedRequest> live = batch.members().stream().filter(m -> m.state != QueuedRequest.State.DONE).toList();
    if (ar.succeeded()) {
      deliver(q, batch, live, ar.result(), null, 1.0);
    } else {
      Throwable err = ar.cause();
      if (err instanceof WorkerFailure wf && wf.lost()) {
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

  private void deliver(FunctionQueue q, Batch batch, List<QueuedRequest> live, Dispatcher.Result result, String verdict,
      double similarity) {
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
          result.coldStart(), batch.rows(), n, verdict, similarity));
    }
  }

  private void retryOrFail(FunctionQueue q, List<QueuedRequest> live, Throwable err) {
    List<QueuedRequest> again = new ArrayList<>();
    for (QueuedRequest m : live) {
      if (m.attempts < MAX_ATTEMPTS && m.deadlineNanos > System.nanoTime()) {
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

  private void onContext(Runnable r) {
    if (Vertx.currentContext() == context) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }
}
