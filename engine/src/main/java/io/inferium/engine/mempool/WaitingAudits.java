package io.inferium.engine.mempool;

import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.Placement;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Verifier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The auditors owed to audits of answered tensor batches. An audit draws {@link Verifier#AUDITORS} workers at random
 * among those other than the one that served (on a networked gateway, of other operators), busy or not. Those that
 * are free start at once; for the rest it waits here, oldest audit first, and takes each the moment it frees, ahead of
 * client batches. Were it to take only workers that happen to be idle, a loaded gateway would skip audits exactly when
 * its workers are busy, and a lying node would go unaudited for as long as its peers were kept busy (by load, or by
 * anyone sending it). Audits are owed work whose share the function's policy sets ({@code audit(p)}: two runs for a fraction p of
 * batches), so running them first costs clients no more than that share.
 *
 * <p>Bounded: at most {@link #MAX_PER_FUNCTION} audits of one function version and {@link #MAX} in all wait at once,
 * holding at most {@link #MAX_BYTES} of inputs between them (a function's time limit can be ten minutes and a request
 * 64 MiB); one beyond a bound runs on whatever auditors are free now, or is skipped (and counted). Audits that callers
 * asked for ({@code parameters.verification}) may hold at most half of each bound, counted apart: a caller asking
 * for many audits fills only that half, and the audits the function's own policy owes (of every caller's answers)
 * keep the other half. An audit still short of auditors after the function's time limit gives up the missing ones:
 * with none at all it is skipped, with one the two runs are judged. No eligible worker at all (a lone worker) skips
 * it at once. All state lives on the mempool's context.
 */
final class WaitingAudits {

  /** Audits of one function version that may wait for auditors at once. */
  static final int MAX_PER_FUNCTION = 64;
  /** Audits that may wait for auditors at once, across functions. */
  static final int MAX = 256;
  /** Bytes of inputs the waiting audits may hold between them. */
  static final long MAX_BYTES = 256L << 20;

  private static final Logger log = LoggerFactory.getLogger(WaitingAudits.class);

  private final Mempool mempool;
  private final ArrayDeque<Owed> waiting = new ArrayDeque<>();
  private final Map<String, Integer> perFunction = new HashMap<>();
  /** Of those, the audits callers asked for: per function version, in all, and the bytes they hold. */
  private final Map<String, Integer> askedPerFunction = new HashMap<>();
  private int asked;
  private long askedBytes;
  /** {@code waiting.size()}, for the gauge read from another thread. */
  private volatile int count;
  private long bytes;
  private long maxBytes = MAX_BYTES;
  private long lastFullLog;

  WaitingAudits(Mempool mempool) {
    this.mempool = mempool;
  }

  /** For tests: a smaller budget of input bytes. */
  void maxBytes(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Audits now waiting for at least one auditor. */
  int waiting() {
    return count;
  }

  /**
   * The runs of one audit of a batch of {@code q} (with these inputs and outputs) that a worker in {@code exclude}
   * served: up to {@code k} auditors, none in {@code exclude} and, where operators count, none of an operator in
   * {@code servedOperators} or of each other's. {@code askedByCaller}: the batch's callers asked for the audit (their
   * own policy), rather than the function's policy owing it. Empty when no worker could audit it.
   */
  List<Future<Verifier.Run<List<Tensor>>>> owe(FunctionQueue q, List<Tensor> inputs, List<String> outputs, int k,
      Set<String> exclude, Set<String> servedOperators, boolean askedByCaller) {
    Set<String> avoid = new HashSet<>(servedOperators);
    avoid.addAll(mempool.dispatcher.operatorsOf(exclude));
    Placement placement = q.fn.spec().placement();
    List<Worker> drawn = mempool.dispatcher.drawAuditors(k, exclude, avoid, placement);
    if (drawn.isEmpty()) {
      return List.of();
    }
    Owed owed = new Owed(q, inputs, outputs, new HashSet<>(exclude), avoid, drawn, askedByCaller);
    owed.startFree();
    if (!owed.lacking()) {
      return owed.runs();
    }
    String ref = q.fn.ref();
    int mine = perFunction.getOrDefault(ref, 0);
    String full = askedByCaller ? askedFull(ref, owed.bytes) : null;
    if (full == null) {
      full = mine >= MAX_PER_FUNCTION ? MAX_PER_FUNCTION + " audits of " + ref + " were already waiting"
          : waiting.size() >= MAX ? MAX + " audits were already waiting"
          : bytes + owed.bytes > maxBytes ? "the waiting audits already held " + bytes + " bytes of inputs" : null;
    }
    if (full != null) {
      long now = System.nanoTime();
      if (now - lastFullLog > 1_000_000_000L) {
        lastFullLog = now;
        log.warn("An audit of {} found its auditors busy and cannot wait ({}): it runs on the {} it found free", ref,
            full, owed.started);
      }
      owed.giveUp("no auditor was free, and " + full);
      return owed.runs();
    }
    perFunction.put(ref, mine + 1);
    bytes += owed.bytes;
    if (askedByCaller) {
      askedPerFunction.merge(ref, 1, Integer::sum);
      asked++;
      askedBytes += owed.bytes;
    }
    waiting.add(owed);
    count = waiting.size();
    int limitMs = q.fn.spec().timeoutMs();
    owed.timer = mempool.vertx.setTimer(limitMs, t -> {
      owed.timer = -1;
      if (waiting.remove(owed)) {
        forget(owed);
        owed.giveUp("no auditor was free within " + limitMs + " ms");
      }
    });
    mempool.armCapacityRetry();
    return owed.runs();
  }

  /**
   * Hands workers that are free now to the waiting audits, oldest first: the scheduler calls it before it sends a
   * client batch to a free worker, and whenever capacity frees. Whether it started any auditor.
   */
  boolean pump() {
    if (waiting.isEmpty()) {
      return false;
    }
    if (!mempool.dispatcher.anyFree()) {
      // A worker can also free without a batch of this scheduler ending (a text call, a worker attaching).
      mempool.armCapacityRetry();
      return false;
    }
    boolean startedAny = false;
    for (Iterator<Owed> it = waiting.iterator(); it.hasNext();) {
      Owed owed = it.next();
      int before = owed.started;
      owed.startFree();
      startedAny |= owed.started > before;
      if (!owed.lacking()) {
        it.remove();
        forget(owed);
        mempool.vertx.cancelTimer(owed.timer);
      }
    }
    count = waiting.size();
    if (!waiting.isEmpty()) {
      mempool.armCapacityRetry();
    }
    return startedAny;
  }

  /**
   * Why an audit its callers asked for cannot wait, or null: such audits hold at most half of each bound, so that
   * however many a caller asks for, the audits the function's policy owes still find room.
   */
  private String askedFull(String ref, long more) {
    int half = MAX_PER_FUNCTION / 2;
    if (askedPerFunction.getOrDefault(ref, 0) >= half) {
      return half + " audits callers asked for of " + ref + " were already waiting";
    }
    if (asked >= MAX / 2) {
      return MAX / 2 + " audits callers asked for were already waiting";
    }
    if (askedBytes + more > maxBytes / 2) {
      return "the waiting audits callers asked for already held " + askedBytes + " bytes of inputs";
    }
    return null;
  }

  private void forget(Owed owed) {
    perFunction.computeIfPresent(owed.q.fn.ref(), (ref, n) -> n > 1 ? n - 1 : null);
    bytes -= owed.bytes;
    if (owed.askedByCaller) {
      askedPerFunction.computeIfPresent(owed.q.fn.ref(), (ref, n) -> n > 1 ? n - 1 : null);
      asked--;
      askedBytes -= owed.bytes;
    }
    count = waiting.size();
  }

  /**
   * One audit's auditors: drawn at random among every eligible worker when the audit is due, busy or not, and each
   * seat waits for its own drawn worker. Taking whichever worker frees first instead would let a node that answers
   * fast (or lies fast) audit more often than its share, and two colluding operators' fast nodes outvote an honest
   * server. A drawn worker that leaves or is ejected before its seat starts is replaced by another draw.
   */
  private final class Owed {
    final FunctionQueue q;
    final List<Tensor> inputs;
    final List<String> outputs;
    /** The server and every worker drawn so far: none of them is drawn again. */
    final Set<String> exclude;
    /** Their operators, where operators count. */
    final Set<String> avoid;
    final List<Promise<Verifier.Run<List<Tensor>>>> seats = new ArrayList<>();
    final Worker[] drawn;
    final boolean[] begun;
    final long bytes;
    final boolean askedByCaller;
    int started;
    long timer = -1;

    Owed(FunctionQueue q, List<Tensor> inputs, List<String> outputs, Set<String> exclude, Set<String> avoid,
        List<Worker> drawn, boolean askedByCaller) {
      this.q = q;
      this.askedByCaller = askedByCaller;
      this.inputs = inputs;
      this.outputs = outputs;
      this.exclude = exclude;
      this.avoid = avoid;
      this.drawn = drawn.toArray(Worker[]::new);
      this.begun = new boolean[this.drawn.length];
      for (Worker w : drawn) {
        seats.add(Promise.promise());
        exclude.add(w.workerId());
        avoid.add(w.operator());
      }
      long held = 0;
      for (Tensor t : inputs) {
        held += t.byteSize();
      }
      this.bytes = held;
    }

    List<Future<Verifier.Run<List<Tensor>>>> runs() {
      return seats.stream().map(Promise::future).toList();
    }

    boolean lacking() {
      return started < seats.size();
    }

    /** Starts each seat whose drawn worker is free now. */
    void startFree() {
      Placement placement = q.fn.spec().placement();
      for (int i = 0; i < drawn.length; i++) {
        if (begun[i]) {
          continue;
        }
        if (!mempool.dispatcher.eligible(drawn[i], placement)) {
          Worker again = mempool.dispatcher.redrawAuditor(exclude, avoid, placement);
          if (again == null) {
            continue;
          }
          drawn[i] = again;
        }
        if (!drawn[i].saturated()) {
          begun[i] = true;
          started++;
          start(drawn[i], seats.get(i));
        }
      }
    }

    private void start(Worker w, Promise<Verifier.Run<List<Tensor>>> seat) {
      WorkerCall call = mempool.start(w, q.fn, inputs, outputs);
      // An auditor that hangs is withdrawn (and replaced if stuck), like any batch over its time.
      int limitMs = q.fn.spec().timeoutMs();
      long limit = mempool.vertx.setTimer(limitMs, t -> call.cancel("audit exceeded " + limitMs + " ms", true));
      call.future().onComplete(done -> mempool.vertx.cancelTimer(limit));
      call.future().map(r -> new Verifier.Run<>(w.workerId(), r.outputs())).onComplete(seat);
    }

    /** The seats not started by now never will be. */
    void giveUp(String why) {
      if (timer >= 0) {
        mempool.vertx.cancelTimer(timer);
        timer = -1;
      }
      for (int i = 0; i < drawn.length; i++) {
        if (!begun[i]) {
          begun[i] = true;
          seats.get(i).tryFail(new Verifier.NoAuditor(why));
        }
      }
      started = seats.size();
    }
  }
}
