package io.inferium.engine.mempool;

import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Verifier;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tensor scheduler's side of verification: it runs the copies ({@link WorkerCall}s, so they are
 * reserved, attested and cancellable like any batch) and hands their results to the {@link Verifier},
 * which plans, judges and records. Redundant batches answer from the agreeing majority; optimistic
 * audits re-run an answered batch on spare workers only.
 */
final class RedundantBatch {

  private static final Logger log = LoggerFactory.getLogger(RedundantBatch.class);

  private final Mempool mempool;
  private final Verifier<List<Tensor>> verifier;
  final WaitingAudits waiting;
  /** Makes task ids unique across restarts; {@link #tasks} makes them unique within this process. */
  private final String instance = java.util.HexFormat.of().toHexDigits(new java.security.SecureRandom().nextLong());
  private long tasks;

  RedundantBatch(Mempool mempool, Verifier<List<Tensor>> verifier) {
    this.mempool = mempool;
    this.verifier = verifier;
    this.waiting = new WaitingAudits(mempool);
  }

  /** How many workers a batch under {@code policy} runs on now, and whether an audit follows. */
  Verifier.Plan plan(FunctionSpec.Verification policy) {
    return verifier.plan(policy);
  }

  /**
   * The ledger's id of a verification task: the first request's id (and how many more shared the batch)
   * for the operator, then a suffix unique to this batch, since the ledger records a task id once and
   * request ids come from clients.
   */
  private String taskId(Batch batch) {
    int more = batch.members().size() - 1;
    return batch.members().get(0).id + (more > 0 ? "+" + more : "") + "@" + instance + "." + (++tasks);
  }

  /** Runs {@code batch} on every one of {@code workers} and answers from the agreeing majority. */
  void run(FunctionQueue q, Batch batch, List<Worker> workers, List<Tensor> inputs, List<String> outputs) {
    List<Future<WorkerCall.Reply>> runs = new ArrayList<>();
    for (Worker w : workers) {
      WorkerCall call = mempool.start(w, q.fn, inputs, outputs);
      batch.calls().add(call);
      runs.add(call.future());
    }
    Future.join(runs).onComplete(ar -> mempool.onContext(() -> finished(q, batch, workers, runs)));
  }

  /**
   * Optimistic verification: the batch was answered by one worker; up to two others run it again, waiting
   * (bounded) for busy ones to free ({@link WaitingAudits}), each under the function's own time limit, and the
   * verifier judges the three.
   */
  void audit(FunctionQueue q, Batch batch, List<Tensor> inputs, List<String> outputs, String answeredBy,
      WorkerCall.Reply answer) {
    // The server's operator as of its answer (it may leave before the auditors start): never one of its auditors'.
    Set<String> served = mempool.dispatcher.operatorsOf(Set.of(answeredBy));
    // A batch shares one policy (it is part of the batch key): the function's, or the one its callers asked for.
    FunctionSpec.Verification policy = batch.members().get(0).verification;
    boolean asked = !policy.equals(q.fn.spec().verification());
    Verifier.Runs<List<Tensor>> spare = (k, exclude) -> waiting.owe(q, inputs, outputs, k, exclude, served, asked);
    verifier.audit(taskId(batch) + "/audit", policy,
            new Verifier.Run<>(answeredBy, answer.outputs()), spare)
        .onComplete(done -> mempool.onContext(() -> {
          if (done.failed()) {
            log.error("Audit of a batch of {} could not be judged: {}", q.fn.ref(), done.cause().toString());
          }
          Verifier.Audit.Outcome outcome = done.succeeded() ? done.result().outcome() : Verifier.Audit.Outcome.INCONCLUSIVE;
          mempool.metrics.audited(q.fn.name(), outcome.wire());
          if (outcome != Verifier.Audit.Outcome.SKIPPED) {
            mempool.capacityFreed();
          }
        }));
  }

  /** Hands the runs of a redundant batch to the verifier and answers from the agreeing majority. */
  private void finished(FunctionQueue q, Batch batch, List<Worker> workers, List<Future<WorkerCall.Reply>> runs) {
    List<Verifier.Run<List<Tensor>>> ok = new ArrayList<>();
    List<Verifier.Failure> failed = new ArrayList<>();
    Map<Verifier.Run<List<Tensor>>, WorkerCall.Reply> replies = new IdentityHashMap<>();
    for (int i = 0; i < runs.size(); i++) {
      if (runs.get(i).succeeded()) {
        Verifier.Run<List<Tensor>> run = new Verifier.Run<>(workers.get(i).workerId(), runs.get(i).result().outputs());
        ok.add(run);
        replies.put(run, runs.get(i).result());
      } else {
        failed.add(new Verifier.Failure(workers.get(i).workerId(), runs.get(i).cause()));
      }
    }
    Verifier.Decision<List<Tensor>> decision = verifier.decide(taskId(batch), batch.members().get(0).verification, ok, failed);
    if (decision.failed()) {
      mempool.finished(q, batch, Future.failedFuture(decision.failure()));
      return;
    }
    mempool.metrics.verified(q.fn.name(), decision.verdict(), decision.similarity());
    List<QueuedRequest> live = batch.live();
    if (decision.disputed()) {
      mempool.retryOrFail(q, live, new WorkerFailure("disputed", decision.dispute()));
    } else {
      mempool.deliver(q, batch, live, replies.get(decision.chosen()), decision.verdict(), decision.similarity(),
          new Mempool.Operators((int) workers.stream().map(Worker::operator).distinct().count(), workers.size()));
    }
    mempool.schedule(q);
    mempool.capacityFreed();
  }
}
