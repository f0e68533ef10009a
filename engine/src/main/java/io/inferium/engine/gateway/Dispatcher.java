package io.inferium.engine.gateway;

import io.inferium.engine.EngineMetrics;
import io.inferium.engine.protocol.Frame;
import io.inferium.engine.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends one request to one worker: picks the worker (model already loaded first, then least
 * outstanding work), loads the model there on first use (a measured cold start), runs it, and
 * enforces the deadline by cancelling the run. Results come back on the caller's context.
 */
public final class Dispatcher {

  /** What came back from a worker. */
  public record Outcome(List<Tensor> outputs, String workerId, long queueNanos, long computeMicros, boolean coldStart) {}

  private final Vertx vertx;
  private final WorkerSupervisor supervisor;
  private final ModelBlobs blobs;
  private final EngineMetrics metrics;
  private final AtomicInteger rotation = new AtomicInteger();

  public Dispatcher(Vertx vertx, WorkerSupervisor supervisor, ModelBlobs blobs, EngineMetrics metrics) {
    this.vertx = vertx;
    this.supervisor = supervisor;
    this.blobs = blobs;
    this.metrics = metrics;
  }

  /**
   * Runs a ready function on a worker. {@code deadlineNanos} is on the {@link System#nanoTime} clock.
   * Fails with {@link NoWorkerAvailable}, {@link DeadlineExceeded} or {@link WorkerFailure}.
   */
  public Future<Outcome> infer(FunctionRecord fn, List<Tensor> inputs, List<String> outputs, long deadlineNanos) {
    Context caller = vertx.getOrCreateContext();
    long accepted = System.nanoTime();
    WorkerLink link = pick(fn.modelSha256());
    if (link == null) {
      return Future.failedFuture(new NoWorkerAvailable(supervisor.workers().isEmpty()
          ? "no worker process is attached" : "every worker is at its in-flight limit"));
    }
    Promise<Outcome> result = Promise.promise();
    Promise<Frame> call = Promise.promise();
    long remainingMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - accepted));
    long timer = vertx.setTimer(remainingMs, t -> {
      String msg = "deadline of " + TimeUnit.NANOSECONDS.toMillis(deadlineNanos - accepted) + " ms exceeded running "
          + fn.ref() + " on worker " + link.workerId();
      call.tryFail(new WorkerLink.Cancelled(msg));
      result.tryFail(new DeadlineExceeded(msg));
    });
    boolean cold = link.needsLoad(fn.modelSha256());
    link.ensureLoaded(fn.modelSha256(), blobs.path(fn.modelSha256()))
        .compose(loaded -> {
          if (cold && loaded.loadMs() > 0) {
            metrics.coldStart(fn.name(), loaded.loadMs());
          }
          return link.attestation().checkModel(fn.modelSha256(), loaded.attestedSha256())
              .<Future<Void>>map(problem -> Future.failedFuture(new WorkerFailure("attestation_failed", problem)))
              .orElse(Future.succeededFuture());
        })
        .compose(v -> {
          long queued = System.nanoTime() - accepted;
          metrics.queued(fn.name(), queued);
          JsonObject meta = new JsonObject().put("sha256", fn.modelSha256()).put("outputs", new JsonArray(outputs));
          return link.call(FrameType.INFER, meta, inputs, call)
              .map(reply -> new Outcome(reply.tensors(), link.workerId(), queued,
                  reply.meta().getLong("compute_us", 0L), cold));
        })
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            metrics.compute(fn.name(), ar.result().computeMicros());
          }
          caller.runOnContext(x -> {
            if (ar.succeeded()) {
              result.tryComplete(ar.result());
            } else {
              result.tryFail(ar.cause());
            }
          });
        });
    return result.future();
  }

  /** Asks every worker to drop a model (after its last version was deleted). */
  public Future<Void> unloadEverywhere(String sha256) {
    List<Future<Frame>> calls = supervisor.workers().stream()
        .filter(w -> w.hasLoaded(sha256))
        .map(w -> w.unload(sha256))
        .toList();
    return Future.join(calls).otherwiseEmpty().mapEmpty();
  }

  private WorkerLink pick(String sha256) {
    List<WorkerLink> candidates = supervisor.workers().stream().filter(w -> !w.saturated()).toList();
    if (candidates.isEmpty()) {
      return null;
    }
    int offset = Math.floorMod(rotation.getAndIncrement(), candidates.size());
    Comparator<WorkerLink> order = Comparator
        .comparing((WorkerLink w) -> !w.hasLoaded(sha256))
        .thenComparingInt(WorkerLink::outstanding);
    WorkerLink best = null;
    for (int i = 0; i < candidates.size(); i++) {
      WorkerLink w = candidates.get((i + offset) % candidates.size());
      if (best == null || order.compare(w, best) < 0) {
        best = w;
      }
    }
    return best;
  }
}
