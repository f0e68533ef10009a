package io.inferium.engine.gateway;

import io.inferium.engine.EngineMetrics;
import io.inferium.engine.protocol.Frame;
import io.inferium.engine.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses workers and runs batches on them: only attached workers under their in-flight limit,
 * those with the model already loaded first, then the least outstanding work, rotating among equals.
 * A worker without the model loads it first (a measured cold start) and must attest its hash.
 */
public final class Dispatcher {

  /** What a worker returned for one batch. */
  public record Result(List<Tensor> outputs, String workerId, long computeMicros, boolean coldStart) {}

  private final WorkerSupervisor supervisor;
  private final ModelBlobs blobs;
  private final EngineMetrics metrics;
  private final AtomicInteger rotation = new AtomicInteger();
  private final java.util.function.Predicate<String> ejected;

  /** {@code ejected} says which node ids the verification ledger has ejected: they get no work. */
  public Dispatcher(WorkerSupervisor supervisor, ModelBlobs blobs, EngineMetrics metrics,
      java.util.function.Predicate<String> ejected) {
    this.supervisor = supervisor;
    this.blobs = blobs;
    this.metrics = metrics;
    this.ejected = ejected;
  }

  private List<WorkerLink> eligible() {
    return supervisor.workers().stream().filter(w -> !ejected.test(w.workerId())).toList();
  }

  /**
   * Up to {@code k} distinct workers for one redundant batch, chosen at random among those eligible;
   * empty when fewer than {@code min(k, eligible workers)} have room now (wait and try again).
   */
  public List<WorkerLink> pickDistinct(int k) {
    return pickDistinct(k, java.util.Set.of());
  }

  /** Like {@link #pickDistinct(int)}, never choosing the workers named in {@code exclude}. */
  public List<WorkerLink> pickDistinct(int k, java.util.Set<String> exclude) {
    List<WorkerLink> all = eligible().stream().filter(w -> !exclude.contains(w.workerId())).toList();
    int target = Math.min(k, all.size());
    List<WorkerLink> free = new java.util.ArrayList<>(all.stream().filter(w -> !w.saturated()).toList());
    if (target == 0 || free.size() < target) {
      return List.of();
    }
    java.util.Collections.shuffle(free, java.util.concurrent.ThreadLocalRandom.current());
    return List.copyOf(free.subList(0, target));
  }

  /** A worker that can take a batch for this model now, or null if none can. */
  public WorkerLink pick(String sha256) {
    List<WorkerLink> candidates = eligible().stream().filter(w -> !w.saturated()).toList();
    if (candidates.isEmpty()) {
      return null;
    }
    int offset = Math.floorMod(rotation.getAndIncrement(), candidates.size());
    Comparator<WorkerLink> order = Comparator
        .comparing((WorkerLink w) -> !w.hasLoaded(sha256))
        .thenComparingInt(WorkerLink::reserved);
    WorkerLink best = null;
    for (int i = 0; i < candidates.size(); i++) {
      WorkerLink w = candidates.get((i + offset) % candidates.size());
      if (best == null || order.compare(w, best) < 0) {
        best = w;
      }
    }
    return best;
  }

  /** The workers that may get work now (attached, not ejected by the ledger). */
  public List<WorkerLink> workers() {
    return eligible();
  }

  /** Whether workers are attached but the ledger has ejected every one of them (no capacity until reinstated or replaced). */
  public boolean allEjected() {
    return !supervisor.workers().isEmpty() && eligible().isEmpty();
  }

  /** Whether any worker is attached at all (to tell "busy" from "none"). */
  public boolean anyWorker() {
    return !eligible().isEmpty();
  }

  /**
   * Runs one batch on {@code link}, loading the model there first if needed. Failing {@code call}
   * with {@link WorkerLink.Cancelled} withdraws it. The batch counts against the worker's in-flight
   * limit from this call until it completes (on the link's context).
   */
  public Future<Result> run(WorkerLink link, FunctionRecord fn, List<Tensor> inputs, List<String> outputs,
      Promise<Frame> call) {
    boolean cold = link.needsLoad(fn.modelSha256());
    link.reserve();
    link.beginUse(fn.modelSha256());
    return link.ensureLoaded(fn.modelSha256(), blobs.path(fn.modelSha256()))
        .compose(loaded -> {
          if (cold && loaded.loadMs() > 0) {
            metrics.coldStart(fn.name(), loaded.loadMs());
          }
          return link.attestation().checkModel(fn.modelSha256(), loaded.attestedSha256())
              .<Future<Void>>map(problem -> Future.failedFuture(new WorkerFailure("attestation_failed", problem)))
              .orElse(Future.succeededFuture());
        })
        .compose(v -> link.call(FrameType.INFER,
            new JsonObject().put("sha256", fn.modelSha256()).put("outputs", new JsonArray(outputs)), inputs, call))
        .map(reply -> {
          long computeUs = reply.meta().getLong("compute_us", 0L);
          metrics.compute(fn.name(), computeUs);
          return new Result(reply.tensors(), link.workerId(), computeUs, cold);
        })
        .onComplete(ar -> {
          link.endUse(fn.modelSha256());
          link.release();
        });
  }

  /** Asks every worker to drop a model (after its last version was deleted). */
  public Future<Void> unloadEverywhere(String sha256) {
    List<Future<Frame>> calls = supervisor.workers().stream()
        .filter(w -> w.hasLoaded(sha256))
        .map(w -> w.unload(sha256))
        .toList();
    return Future.join(calls).otherwiseEmpty().mapEmpty();
  }
}
