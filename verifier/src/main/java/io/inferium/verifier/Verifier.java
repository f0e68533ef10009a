package io.inferium.verifier;

import io.inferium.functions.FunctionSpec;
import io.vertx.core.Future;
import java.util.List;
import java.util.Set;

/**
 * What the scheduler asks about a batch under a verification policy ({@link FunctionSpec.Verification}):
 * how to run it ({@link #plan}), what the runs decided ({@link #decide}), and, for optimistic
 * verification, whether a served answer survives a re-run ({@link #audit}). Every verdict is recorded in
 * the {@link NodeLedger} (rewards, slashes, ejection), at most once per task id.
 *
 * <p>The verifier never runs work itself: the scheduler runs the batch and hands over the results, or,
 * for an audit, lends a {@link Runs} that starts runs on spare workers. {@code O} is what one run
 * produced (tensors for tensor functions); how two outputs compare is an {@link Agreement}, so a text
 * verifier is another {@code Agreement} behind the same interface. The implementation is
 * {@code io.inferium.verifier.consensus.ConsensusVerifier} (built with {@code ConsensusVerifier.forTensors});
 * it depends on this package, never the reverse.
 *
 * @param <O> one run's outputs
 */
public interface Verifier<O> {

  /** Workers an audit re-runs a batch on: with the first answer, three runs, so a majority exists. */
  int AUDITORS = 2;

  /**
   * How a batch runs now: on {@link Plan#workers} distinct workers, and whether an audit is due once
   * its single answer is served (sampled at the policy's audit fraction).
   */
  Plan plan(FunctionSpec.Verification policy);

  /**
   * Compares the runs of one batch and records the verdict. {@code runs} are those that answered,
   * {@code failures} those that did not; with no answer at all the decision carries the first failure.
   * Calling it again for the same {@code taskId} decides again but records nothing more.
   */
  Decision<O> decide(String taskId, FunctionSpec.Verification policy, List<Run<O>> runs, List<Failure> failures);

  /**
   * Re-runs an answered batch on {@link #AUDITORS} other workers borrowed from {@code auditors} and
   * lets the majority of the three judge the first answer; an outvoted first worker is slashed like
   * any outlier. With no auditor at all (none started, or every one it was promised gave up waiting for a
   * spare worker with {@link NoAuditor}) the audit is {@link Audit.Outcome#SKIPPED}. Never fails: a lost
   * auditor makes the audit {@link Audit.Outcome#INCONCLUSIVE} at worst.
   */
  Future<Audit> audit(String taskId, FunctionSpec.Verification policy, Run<O> first, Runs<O> auditors);

  /**
   * @param workers  distinct workers the batch runs on now (1, or k for redundant)
   * @param auditDue whether the answer, once served, is audited
   * @param auditors workers an audit takes (0 when none is due)
   */
  record Plan(int workers, boolean auditDue, int auditors) {}

  /**
   * One run's result: the node that ran it and what it produced. The evidence a slash cites is the
   * {@link Agreement#hash} of the outputs, computed by the verifier rather than taken from the worker.
   */
  record Run<O>(String nodeId, O outputs) {}

  /** A run that produced nothing: the node and why (lost, timed out, refused). */
  record Failure(String nodeId, Throwable cause) {}

  /** Starts runs of the batch under audit on spare workers; the scheduler's side of an audit. */
  @FunctionalInterface
  interface Runs<O> {

    /**
     * Starts the batch on up to {@code k} distinct eligible workers, none of them in {@code exclude}; an empty
     * list when no worker could audit it. A run may first wait, bounded, for a busy worker to free: one that
     * never got a worker fails with {@link NoAuditor}. Each future ends within the function's time limit
     * (twice it, counting the wait).
     */
    List<Future<Run<O>>> start(int k, Set<String> exclude);
  }

  /** An audit's run that never started: no eligible worker was free before it gave up waiting. */
  final class NoAuditor extends RuntimeException {

    public NoAuditor(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * What a batch's runs decided.
   *
   * @param kind       verified, unverified (one answer) or disputed; null when no run answered
   * @param similarity the least similarity in the agreeing group; for a dispute the best seen
   * @param chosen     the answer to serve: a random one of the agreeing group (null if disputed or failed)
   * @param agreeing   nodes in the agreeing group
   * @param outliers   nodes outvoted (and slashed)
   * @param dispute    for a dispute, which workers disagreed, the best similarity and the threshold
   * @param failure    when no run answered, the first failure
   * @param recorded   completes when the ledger has stored the verdict
   */
  record Decision<O>(Consensus.Kind kind, double similarity, Run<O> chosen, List<String> agreeing, List<String> outliers,
      String dispute, Throwable failure, Future<Void> recorded) {

    /** The verdict's wire name ({@code verified}, {@code unverified}, {@code disputed}). */
    public String verdict() {
      return kind == null ? null : kind.wire();
    }

    public boolean disputed() {
      return kind == Consensus.Kind.DISPUTED;
    }

    public boolean failed() {
      return kind == null;
    }
  }

  /**
   * How an audit ended.
   *
   * @param outcome    clean, caught, inconclusive or skipped
   * @param nodes      the first worker then the auditors that answered (empty when skipped)
   * @param outvotedBy when caught, the nodes whose agreement outvoted the first worker
   * @param recorded   completes when the ledger has stored the verdict
   */
  record Audit(Outcome outcome, List<String> nodes, List<String> outvotedBy, Future<Void> recorded) {

    /** An audit's outcome; its wire name tags the {@code inferium.audits} metric. */
    public enum Outcome { CLEAN, CAUGHT, INCONCLUSIVE, SKIPPED;

      public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
      }
    }
  }
}
