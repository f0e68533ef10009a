package io.inferium.engine.gateway;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;
import io.inferium.functions.Placement;
import io.vertx.core.json.JsonObject;

/**
 * Chooses workers: only attached workers the verification ledger has not ejected, under their
 * in-flight limit, that meet the function's {@link Placement} (tier, GPU, memory), those with the model
 * already loaded first, then the least reserved work, then lower recent latency and higher reputation
 * (each compared coarsely, so near-equals rotate). For {@code redundant(k)} on a gateway with a node port
 * the k copies go to nodes of k different operators (local workers count as the gateway's own), unless
 * the function allows distinct nodes of fewer operators. What runs on the chosen worker is a
 * {@link WorkerCall}.
 */
public final class Dispatcher {

  private final Supplier<List<? extends Worker>> attached;
  private final AtomicInteger rotation = new AtomicInteger();
  private final Predicate<String> ejected;
  private volatile java.util.function.ToDoubleFunction<String> reputation = id -> Double.NaN;
  /** Remote nodes of other operators may join: redundant copies must then span operators (by default). */
  private volatile boolean networked;

  /** {@code ejected} says which node ids the verification ledger has ejected: they get no work. */
  public Dispatcher(WorkerSupervisor supervisor, Predicate<String> ejected) {
    this(supervisor::workers, ejected);
  }

  /** Over any set of workers (the supervisor's, or fakes in a scheduler test). */
  public Dispatcher(Supplier<List<? extends Worker>> attached, Predicate<String> ejected) {
    this.attached = attached;
    this.ejected = ejected;
  }

  /**
   * Makes this a networked gateway's dispatcher (it has a node port): redundant copies go to distinct
   * operators unless a function allows otherwise; {@code reputation} ranks near-equal candidates.
   */
  public Dispatcher networked(java.util.function.ToDoubleFunction<String> reputation) {
    this.networked = true;
    this.reputation = reputation;
    return this;
  }

  /** Null when the worker meets the placement; otherwise what it lacks. */
  static String unmet(Worker w, Placement p) {
    if (!p.constrained()) {
      return null;
    }
    JsonObject caps = w.capabilities();
    if (p.gpu() && !(caps.getValue("gpu") instanceof JsonObject)) {
      return "no GPU";
    }
    if (p.tier() != null && NodeTier.of(caps).ordinal() > NodeTier.valueOf(p.tier().toUpperCase(java.util.Locale.ROOT)).ordinal()) {
      return "tier " + NodeTier.of(caps).label();
    }
    long memory = caps.getValue("memory_bytes") instanceof Number n ? n.longValue() : 0;
    if (p.memoryMb() > 0 && memory < (p.memoryMb() << 20)) {
      return (memory >> 20) + " MB of memory";
    }
    return null;
  }

  /**
   * Why no worker could ever take a call of this placement now, k copies at once (a 503 names it); null
   * when some can (perhaps once one is free).
   */
  public String unplaceable(Placement p, int k) {
    if (!p.constrained() && !(k > 1 && byOperator(p))) {
      return null; // the common case, on every wait for a free worker: nothing to check
    }
    List<Worker> all = eligible();
    if (all.isEmpty()) {
      return null; // nothing attached at all: the usual wait (workers start, nodes connect)
    }
    List<Worker> fit = all.stream().filter(w -> unmet(w, p) == null).toList();
    if (fit.isEmpty()) {
      java.util.Map<String, Long> why = new java.util.TreeMap<>();
      all.forEach(w -> why.merge(unmet(w, p), 1L, Long::sum));
      return "no eligible node meets the function's requires " + p.requiresJson().encode() + " (" + all.size()
          + " eligible: " + why.entrySet().stream().map(e -> e.getValue() + " with " + e.getKey())
              .collect(java.util.stream.Collectors.joining(", ")) + ")";
    }
    if (k > 1 && byOperator(p)) {
      long operators = fit.stream().map(Worker::operator).distinct().count();
      if (operators < k) {
        return "redundant(" + k + ") needs nodes of " + k + " different operators and " + operators
            + (operators == 1 ? " operator has" : " operators have") + " eligible nodes"
            + (p.constrained() ? " meeting requires " + p.requiresJson().encode() : "")
            + " (set verification.distinct_operators to false to allow distinct nodes of fewer operators)";
      }
    }
    return null;
  }

  /** Whether a worker meets a function's placement (tier, GPU, memory). */
  public static boolean fits(Worker w, Placement p) {
    return unmet(w, p) == null;
  }

  /** Whether redundant copies of this placement must run on distinct operators here. */
  public boolean byOperator(Placement p) {
    return networked && p.distinctOperators();
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

  /**
   * Workers for one redundant batch of a function placed by {@code p}: on a networked gateway (unless the
   * function allows otherwise) k workers of k different operators, one per operator chosen at random among
   * its free nodes; else as {@link #pickDistinct(int, Set)}, among the workers meeting {@code p}. Empty when
   * not enough are free now ({@link #unplaceable} tells whether they ever could be).
   */
  public List<Worker> pickDistinct(int k, Set<String> exclude, Placement p) {
    if (!p.constrained() && !byOperator(p)) {
      return pickDistinct(k, exclude);
    }
    List<Worker> all = eligible().stream().filter(w -> !exclude.contains(w.workerId()) && unmet(w, p) == null).toList();
    if (!byOperator(p)) {
      int target = Math.min(k, all.size());
      List<Worker> free = new ArrayList<>(all.stream().filter(w -> !w.saturated()).toList());
      if (target == 0 || free.size() < target) {
        return List.of();
      }
      Collections.shuffle(free, ThreadLocalRandom.current());
      return List.copyOf(free.subList(0, target));
    }
    List<Worker> free = new ArrayList<>(all.stream().filter(w -> !w.saturated()).toList());
    Collections.shuffle(free, ThreadLocalRandom.current());
    java.util.Map<String, Worker> perOperator = new java.util.LinkedHashMap<>();
    for (Worker w : free) {
      perOperator.putIfAbsent(w.operator(), w);
    }
    if (perOperator.size() < k) {
      return List.of();
    }
    return List.copyOf(new ArrayList<>(perOperator.values()).subList(0, k));
  }

  /**
   * Auditors for an answer that a worker in {@code exclude} served: up to {@code k} distinct workers meeting {@code p},
   * none in {@code exclude}; on a networked gateway (unless the function allows otherwise) each of a different
   * operator and none of an operator in {@code avoidOperators} (the server's, and earlier auditors'), so an operator
   * never audits its own node's answer, and cannot outvote an honest auditor with a second node of its own and get that
   * auditor slashed. Drawn at random among every such worker, busy or not (the caller waits for each to free), so how
   * quickly a node frees does not make it audit more often. Empty when there is none.
   */
  public List<Worker> drawAuditors(int k, Set<String> exclude, Set<String> avoidOperators, Placement p) {
    boolean byOperator = byOperator(p);
    List<Worker> all = auditCandidates(exclude, avoidOperators, p, byOperator);
    Collections.shuffle(all, ThreadLocalRandom.current());
    List<Worker> out = new ArrayList<>();
    Set<String> operators = new java.util.HashSet<>();
    for (Worker w : all) {
      if (out.size() < k && (!byOperator || operators.add(w.operator()))) {
        out.add(w);
      }
    }
    return out;
  }

  /**
   * One more auditor for an audit whose drawn auditor left: drawn as {@link #drawAuditors} draws, outside
   * {@code exclude} and (where operators count) {@code avoidOperators}, and added to both so no later redraw of the
   * same audit picks it or its operator again. Null when no eligible worker is left.
   */
  public Worker redrawAuditor(Set<String> exclude, Set<String> avoidOperators, Placement p) {
    List<Worker> again = drawAuditors(1, exclude, avoidOperators, p);
    if (again.isEmpty()) {
      return null;
    }
    Worker w = again.get(0);
    exclude.add(w.workerId());
    avoidOperators.add(w.operator());
    return w;
  }

  /** Whether {@code w} is still attached, not ejected, and meets {@code p}. */
  public boolean eligible(Worker w, Placement p) {
    return !ejected.test(w.workerId()) && unmet(w, p) == null && attached.get().contains(w);
  }

  private List<Worker> auditCandidates(Set<String> exclude, Set<String> avoidOperators, Placement p,
      boolean byOperator) {
    List<Worker> all = new ArrayList<>();
    for (Worker w : eligible()) {
      if (!exclude.contains(w.workerId()) && unmet(w, p) == null
          && !(byOperator && avoidOperators.contains(w.operator()))) {
        all.add(w);
      }
    }
    return all;
  }

  /** Whether any eligible worker has room for another call now. */
  public boolean anyFree() {
    for (Worker w : attached.get()) {
      if (!w.saturated() && !ejected.test(w.workerId())) {
        return true;
      }
    }
    return false;
  }

  /** The operators of the attached workers named in {@code workerIds} (those still attached). */
  public Set<String> operatorsOf(Set<String> workerIds) {
    Set<String> out = new java.util.HashSet<>();
    for (Worker w : attached.get()) {
      if (workerIds.contains(w.workerId())) {
        out.add(w.operator());
      }
    }
    return out;
  }

  /** A worker meeting {@code p} that can take a batch for this model now, or null if none can. */
  public Worker pick(String sha256, Placement p) {
    return p.constrained() ? pick(sha256, w -> unmet(w, p) == null) : pick(sha256);
  }

  /** A worker that can take a batch for this model now, or null if none can. */
  public Worker pick(String sha256) {
    return pick(sha256, (Predicate<Worker>) null);
  }

  private Worker pick(String sha256, Predicate<Worker> fits) {
    // Called for every batch: one pass into an array, no stream, comparator or list copies.
    List<? extends Worker> all = attached.get();
    Worker[] candidates = new Worker[all.size()];
    int n = 0;
    for (Worker w : all) {
      if (!ejected.test(w.workerId()) && !w.saturated() && (fits == null || fits.test(w))) {
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
    int bestRank = 0;
    for (int i = 0; i < n; i++) {
      Worker w = candidates[(i + offset) % n];
      boolean loaded = w.hasLoaded(sha256);
      int reserved = w.reserved();
      // Workers that have the model loaded first, then the fewest reserved slots, then the better rank
      // (latency, reputation); ties go to rotation order.
      boolean better = best == null || (loaded && !bestLoaded) || (loaded == bestLoaded && reserved < bestReserved);
      if (!better && loaded == bestLoaded && reserved == bestReserved && networked) {
        better = rank(w) < bestRank;
      }
      if (better) {
        best = w;
        bestLoaded = loaded;
        bestReserved = reserved;
        bestRank = networked ? rank(w) : 0;
      }
    }
    return best;
  }

  /**
   * Lower is better: recent latency in doublings (so workers within a factor of two tie), then reputation
   * in tenths, higher first. A worker not yet timed ranks with the fastest, so it gets tried.
   */
  private int rank(Worker w) {
    long micros = w.recentLatencyMicros();
    int latency = micros <= 0 ? 0 : 64 - Long.numberOfLeadingZeros(micros);
    double rep = reputation.applyAsDouble(w.workerId());
    int reputationTenths = Double.isNaN(rep) ? 10 : (int) Math.round(Math.max(0, Math.min(1, rep)) * 10);
    return latency * 16 + (10 - reputationTenths);
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
