package io.inferium.engine.mempool;

import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Consensus;
import io.inferium.verifier.NodeLedger;
import io.inferium.verifier.OutputHash;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verification of tensor batches by running them more than once: redundant batches (k workers, the
 * agreeing majority answers) and optimistic audits (two more workers re-run an answered batch). Kept
 * together, apart from the scheduler, so the verifier module's interface can replace it whole; its
 * runs are ordinary {@link WorkerCall}s.
 */
final class RedundantBatch {

  private static final Logger log = LoggerFactory.getLogger(RedundantBatch.class);

  private final Mempool mempool;
  private final NodeLedger ledger;

  RedundantBatch(Mempool mempool, NodeLedger ledger) {
    this.mempool = mempool;
    this.ledger = ledger;
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
   * Optimistic verification: the batch was answered by one worker; now two others run it again and
   * the majority of the three decides. An outvoted first worker is slashed like any outlier. Audits
   * take spare capacity only; one that finds no free workers is skipped and counted.
   */
  void audit(FunctionQueue q, Batch batch, List<Tensor> inputs, List<String> outputs, String answeredBy,
      WorkerCall.Reply answer) {
    List<Worker> auditors = mempool.dispatcher.pickDistinct(2, Set.of(answeredBy));
    if (auditors.isEmpty()) {
      mempool.metrics.audited(q.fn.name(), "skipped");
      return;
    }
    List<WorkerCall> calls = new ArrayList<>();
    List<Future<WorkerCall.Reply>> runs = new ArrayList<>();
    for (Worker w : auditors) {
      WorkerCall call = mempool.start(w, q.fn, inputs, outputs);
      calls.add(call);
      runs.add(call.future());
    }
    // An audit has the function's own time limit: an auditor that hangs is withdrawn (and replaced if stuck).
    long limit = mempool.vertx.setTimer(q.fn.spec().timeoutMs(), t -> calls.forEach(c ->
        c.cancel("audit exceeded " + q.fn.spec().timeoutMs() + " ms", true)));
    String task = batch.members().get(0).id + "/audit";
    Future.join(runs).onComplete(done -> mempool.onContext(() -> {
      mempool.vertx.cancelTimer(limit);
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
      mempool.metrics.audited(q.fn.name(), outcome);
      if (outcome.equals("caught")) {
        log.warn("Audit of {} caught worker {}: outvoted by {}", task, answeredBy,
            verdict.agreeing().stream().map(nodes::get).toList());
      }
      ledger.record(task, verdict, nodes, results.stream().map(OutputHash::of).toList())
          .onFailure(err -> log.error("Could not record audit {}: {}", task, err.toString()));
      mempool.capacityFreed();
    }));
  }

  /** Compares the runs of a redundant batch and answers from the agreeing majority. */
  private void finished(FunctionQueue q, Batch batch, List<Worker> workers, List<Future<WorkerCall.Reply>> runs) {
    List<WorkerCall.Reply> ok = new ArrayList<>();
    List<String> nodes = new ArrayList<>();
    Throwable firstError = null;
    for (int i = 0; i < runs.size(); i++) {
      if (runs.get(i).succeeded()) {
        ok.add(runs.get(i).result());
        nodes.add(workers.get(i).workerId());
      } else if (firstError == null) {
        firstError = runs.get(i).cause();
      }
    }
    if (ok.isEmpty()) {
      mempool.finished(q, batch, Future.failedFuture(firstError));
      return;
    }
    double threshold = batch.members().get(0).verification.threshold();
    Consensus.Verdict verdict = Consensus.decide(ok.stream().map(WorkerCall.Reply::outputs).toList(), threshold);
    mempool.metrics.verified(q.fn.name(), verdict.kind().wire(), verdict.similarity());
    List<String> hashes = ok.stream().map(r -> OutputHash.of(r.outputs())).toList();
    String task = batch.members().get(0).id + (batch.members().size() > 1 ? "+" + (batch.members().size() - 1) : "");
    ledger.record(task, verdict, nodes, hashes)
        .onFailure(err -> log.error("Could not record verification of {}: {}", task, err.toString()));
    List<QueuedRequest> live = batch.live();
    if (verdict.kind() == Consensus.Kind.DISPUTED) {
      WorkerFailure disputed = new WorkerFailure("disputed", "verification disputed: the runs on workers " + nodes
          + " disagree (best similarity " + String.format(java.util.Locale.ROOT, "%.6f", verdict.similarity())
          + ", threshold " + threshold + ")");
      mempool.retryOrFail(q, live, disputed);
    } else {
      int chosen = verdict.agreeing().get(java.util.concurrent.ThreadLocalRandom.current().nextInt(verdict.agreeing().size()));
      mempool.deliver(q, batch, live, ok.get(chosen), verdict.kind().wire(), verdict.similarity());
    }
    mempool.schedule(q);
    mempool.capacityFreed();
  }
}
