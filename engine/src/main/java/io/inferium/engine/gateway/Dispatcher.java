package io.inferium.engine.gateway;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Chooses workers: only attached workers the verification ledger has not ejected, under their
 * in-flight limit, those with the model already loaded first, then the least reserved work, rotating
 * among equals. What runs on the chosen worker is a {@link WorkerCall}.
 */
public final class Dispatcher {

  private final Supplier<List<? extends Worker>> attached;
  private final AtomicInteger rotation = new AtomicInteger();
  private final Predicate<String> ejected;

  /** {@code ejected} says which node ids the verification ledger has ejected: they get no work. */
  public Dispatcher(WorkerSupervisor supervisor, Predicate<String> ejected) {
    this(supervisor::workers, ejected);
  }

  /** Over any set of workers (the supervisor's, or fakes in a scheduler test). */
  public Dispatcher(Supplier<List<? extends Worker>> attached, Predicate<String> ejected) {
    this.attached = attached;
    this.ejected = ejected;
  }

  private List<Worker> eligible() {
    List<Worker> out = new ArrayList<>();
    for (Worker w : attached.get()) {
      if (!ejected.test(w.workerId())) {
        out.add(w);
      }
    }
    return out;
  }

  /**
   * Up to {@code k} distinct workers for one redundant batch, chosen at random among those eligible;
   * empty when fewer than {@code min(k, eligible workers)} have room now (wait and try again).
   */
  public List<Worker> pickDistinct(int k) {
    return pickDistinct(k, Set.of());
  }

  /** Like {@link #pickDistinct(int)}, never choosing the workers named in {@code exclude}. */
  public List<Worker> pickDistinct(int k, Set<String> exclude) {
    List<Worker> all = eligible().stream().filter(w -> !exclude.contains(w.workerId())).toList();
    int target = Math.min(k, all.size());
    List<Worker> free = new ArrayList<>(all.stream().filter(w -> !w.saturated()).toList());
    if (target == 0 || free.size() < target) {
      return List.of();
    }
    Collections.shuffle(free, ThreadLocalRandom.current());
    return List.copyOf(free.subList(0, target));
  }

  /** A worker that can take a batch for this model now, or null if none can. */
  public Worker pick(String sha256) {
    // Called for every batch: one pass into an array, no stream, comparator or list copies.
    List<? extends Worker> all = attached.get();
    Worker[] candidates = new Worker[all.size()];
    int n = 0;
    for (Worker w : all) {
      if (!ejected.test(w.workerId()) && !w.saturated()) {
        candidates[n++] = w;
      }
    }
    if (n == 0) {
      return null;
    }
    int offset = Math.floorMod(rotation.getAndIncrement(), n);
    Worker best = null;
    boolean bestLoaded = false;
    int bestReserved = 0;
    for (int i = 0; i < n; i++) {
      Worker w = candidates[(i + offset) % n];
      boolean loaded = w.hasLoaded(sha256);
      int reserved = w.reserved();
      // Workers that have the model loaded first, then the fewest reserved slots; ties go to rotation order.
      if (best == null || (loaded && !bestLoaded) || (loaded == bestLoaded && reserved < bestReserved)) {
        best = w;
        bestLoaded = loaded;
        bestReserved = reserved;
      }
    }
    return best;
  }

  /** The workers that may get work now (attached, not ejected by the ledger). */
  public List<Worker> workers() {
    return eligible();
  }

  /** Whether workers are attached but the ledger has ejected every one of them (no capacity until reinstated or replaced). */
  public boolean allEjected() {
    return !attached.get().isEmpty() && eligible().isEmpty();
  }

  /** Whether any worker is attached at all (to tell "busy" from "none"). */
  public boolean anyWorker() {
    return !eligible().isEmpty();
  }

  /** Asks every worker to drop a model (after its last version was deleted). */
  public io.vertx.core.Future<Void> unloadEverywhere(String sha256) {
    List<io.vertx.core.Future<Void>> calls = attached.get().stream()
        .filter(w -> w.hasLoaded(sha256))
        .map(w -> w.unload(sha256))
        .toList();
    return io.vertx.core.Future.join(calls).otherwiseEmpty().mapEmpty();
  }
}
