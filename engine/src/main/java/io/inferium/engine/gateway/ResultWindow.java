package io.inferium.engine.gateway;

import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.seal.OutputHash;
import io.inferium.functions.seal.ResultSeal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The gateway's record of one link's results between seals ({@link ResultSeal}). Each RESULT is
 * noted on arrival (on the link's context: a reference to its outputs, no hashing) and answered at
 * once; each SEAL takes the results it covers and has them hashed and its signature verified off
 * the event loop, one seal after the other, on {@link #CHECKS}. A seal that does not match what the
 * gateway received, that does not verify, or that is overdue ({@link #overdue}) is reported to
 * {@code onFailure}, once.
 */
final class ResultWindow {

  /** Results a worker may send before it must seal them (told to it in WELCOME). */
  static final int SEAL_EVERY = ResultSeal.DEFAULT_EVERY;
  /** How long a worker may hold a result unsealed (told to it in WELCOME; why 50 ms: {@link ResultSeal#DEFAULT_MS}). */
  static final long SEAL_MS = ResultSeal.DEFAULT_MS;
  /** Unsealed results past which the link fails attestation: a worker that stops sealing is cut off. */
  static final int MAX_UNSEALED = 4 * SEAL_EVERY;
  /**
   * Age of the oldest unsealed result past which the link fails attestation: twenty times the
   * window, so that an honest worker starved of CPU for a moment (a GC pause, a loaded host) is not
   * cut off; a worker that withholds seals is caught within it, or sooner by {@link #MAX_UNSEALED}.
   */
  static final long MAX_UNSEALED_MS = 1000;
  /** Seals received and not yet checked, per link, past which the link is cut off (a flood of tiny seals). */
  static final int MAX_UNCHECKED_SEALS = 1024;

  /**
   * Checks seals off the event loop: one daemon thread for the gateway (a check costs tens of
   * microseconds and covers up to {@link #SEAL_EVERY} results); each link has at most one task queued
   * at a time, so the queue bounds at the number of links.
   */
  static final Executor CHECKS = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(4096), r -> {
    Thread t = new Thread(r, "inferium-seal-check");
    t.setDaemon(true);
    return t;
  });

  /** A result as the gateway received it: the model it asked for and the outputs (or streamed token ids) it got. */
  record Received(long correlationId, String modelSha256, List<Tensor> outputs, List<int[]> tokens, long nanos) {
    byte[] leaf() {
      String hash = tokens != null ? OutputHash.ofTokens(tokens) : OutputHash.of(outputs);
      return ResultSeal.leaf(correlationId, modelSha256 == null ? "" : modelSha256, hash);
    }
  }

  private record Job(ResultSeal.Sealed seal, List<Received> results) {}

  private final ResultSeal.Checker checker;
  private final Executor executor;
  private final Consumer<String> onFailure;
  private final ArrayDeque<Received> unsealed = new ArrayDeque<>();
  private final ConcurrentLinkedQueue<Job> jobs = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicBoolean failed = new AtomicBoolean();
  private final AtomicInteger checkedSeals = new AtomicInteger();

  /** {@code onFailure} may be called on any thread, at most once. */
  ResultWindow(String publicKey, String nodeId, String nonce, Executor executor, Consumer<String> onFailure) {
    this.checker = new ResultSeal.Checker(NodeKeys.Verifier.of(publicKey), nodeId, nonce);
    this.executor = executor;
    this.onFailure = onFailure;
  }

  /** Notes a RESULT as received (the link's context). */
  void received(Received r) {
    unsealed.addLast(r);
    if (unsealed.size() > MAX_UNSEALED) {
      fail(unsealed.size() + " results without a seal (a seal is due every " + SEAL_EVERY + " results)");
    }
  }

  /** A SEAL arrived (the link's context): its results go to be checked. */
  void sealed(ResultSeal.Sealed seal) {
    if (seal.count() < 1 || seal.count() > unsealed.size()) {
      fail("seal " + seal.seq() + " covers " + seal.count() + " results; the gateway received " + unsealed.size()
          + " since the last seal");
      return;
    }
    List<Received> covered = new ArrayList<>(seal.count());
    for (int i = 0; i < seal.count(); i++) {
      covered.add(unsealed.pollFirst());
    }
    if (queued.incrementAndGet() > MAX_UNCHECKED_SEALS) {
      fail("more than " + MAX_UNCHECKED_SEALS + " seals wait to be checked");
      return;
    }
    jobs.add(new Job(seal, covered));
    drain();
  }

  /**
   * Fails the link (and says why) when its oldest unsealed result is past the bound; empty otherwise,
   * and once the link has failed. Called periodically on the link's context.
   */
  Optional<String> overdue(long nowNanos) {
    Received oldest = unsealed.peekFirst();
    if (failed.get() || oldest == null || nowNanos - oldest.nanos() <= TimeUnit.MILLISECONDS.toNanos(MAX_UNSEALED_MS)) {
      return Optional.empty();
    }
    String why = "result " + oldest.correlationId() + " still unsealed after "
        + TimeUnit.NANOSECONDS.toMillis(nowNanos - oldest.nanos()) + " ms (bound " + MAX_UNSEALED_MS + " ms)";
    fail(why);
    return Optional.of(why);
  }

  /** Results received and not yet covered by a seal. */
  int unsealed() {
    return unsealed.size();
  }

  /** Seals checked and found good. */
  int checked() {
    return checkedSeals.get();
  }

  private void drain() {
    if (!draining.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(this::checkAll);
    } catch (RejectedExecutionException e) {
      draining.set(false);
      fail("the gateway's seal checks are saturated");
    }
  }

  // Off the event loop, one link's seals strictly in order.
  private void checkAll() {
    do {
      Job job;
      while ((job = jobs.poll()) != null) {
        queued.decrementAndGet();
        if (failed.get()) {
          continue;
        }
        List<byte[]> leaves = new ArrayList<>(job.results().size());
        for (Received r : job.results()) {
          leaves.add(r.leaf());
        }
        Optional<String> problem = checker.check(job.seal(), leaves);
        if (problem.isPresent()) {
          fail(problem.get() + "; results " + ids(job.results()) + ", seal root " + job.seal().root() + ", signature "
              + job.seal().signature());
        } else {
          checkedSeals.incrementAndGet();
        }
      }
      draining.set(false);
    } while (!jobs.isEmpty() && draining.compareAndSet(false, true));
  }

  private static String ids(List<Received> results) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < results.size(); i++) {
      sb.append(i == 0 ? "" : ",").append(results.get(i).correlationId());
    }
    return sb.append(']').toString();
  }

  private void fail(String why) {
    if (failed.compareAndSet(false, true)) {
      onFailure.accept(why);
    }
  }
}
