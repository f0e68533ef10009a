package io.inferium.verifier.consensus;

import io.inferium.functions.FunctionSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Agreement;
import io.inferium.verifier.Consensus;
import io.inferium.verifier.NodeLedger;
import io.inferium.verifier.Verifier;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The majority rule of {@link Consensus} over one output kind, with every verdict recorded in the
 * {@link NodeLedger}. Holds no state of its own besides the random source, so one instance serves
 * every function and thread.
 *
 * @param <O> one run's outputs
 */
public final class ConsensusVerifier<O> implements Verifier<O> {

  private static final Logger log = LoggerFactory.getLogger(ConsensusVerifier.class);

  private final NodeLedger ledger;
  private final Agreement<O> agreement;
  private final Random random;

  /**
   * @param random draws audits and the served answer; production passes a {@link java.security.SecureRandom}
   *               so a worker cannot predict which of its answers get audited, tests a seeded one
   */
  public ConsensusVerifier(NodeLedger ledger, Agreement<O> agreement, Random random) {
    this.ledger = ledger;
    this.agreement = agreement;
    this.random = random;
  }

  /** The verifier for tensor outputs: cosine similarity of floats, exact equality otherwise. */
  public static Verifier<List<Tensor>> forTensors(NodeLedger ledger, Random random) {
    return new ConsensusVerifier<>(ledger, TensorAgreement.INSTANCE, random);
  }

  @Override
  public Plan plan(FunctionSpec.Verification policy) {
    if (policy.redundant()) {
      return new Plan(policy.k(), false, 0);
    }
    if (policy.audit() && random.nextDouble() < policy.auditFraction()) {
      return new Plan(1, true, AUDITORS);
    }
    return new Plan(1, false, 0);
  }

  @Override
  public Decision<O> decide(String taskId, FunctionSpec.Verification policy, List<Run<O>> runs, List<Failure> failures) {
    List<Run<O>> votes = onePerNode(taskId, runs);
    if (votes.isEmpty()) {
      Throwable cause = failures.isEmpty()
          ? new IllegalArgumentException("task " + taskId + " has neither a run nor a failure to decide on")
          : failures.get(0).cause();
      return new Decision<>(null, 0, null, List.of(), List.of(), null, cause, Future.succeededFuture());
    }
    double threshold = policy.threshold();
    Consensus.Verdict verdict = judge(votes, threshold);
    List<String> nodes = votes.stream().map(Run::nodeId).toList();
    Future<Void> recorded = record(taskId, verdict, votes, "verification");
    if (verdict.kind() == Consensus.Kind.DISPUTED) {
      String dispute = "verification disputed: the runs on workers " + nodes + " disagree (best similarity "
          + String.format(Locale.ROOT, "%.6f", verdict.similarity()) + ", threshold " + threshold + ")";
      return new Decision<>(verdict.kind(), verdict.similarity(), null, List.of(), List.of(), dispute, null, recorded);
    }
    // Any member of the agreeing group is as good as another; drawing one keeps a fast worker from always being served.
    Run<O> chosen = votes.get(verdict.agreeing().get(random.nextInt(verdict.agreeing().size())));
    return new Decision<>(verdict.kind(), verdict.similarity(), chosen, names(verdict.agreeing(), nodes),
        names(verdict.outliers(), nodes), null, null, recorded);
  }

  @Override
  public Future<Audit> audit(String taskId, FunctionSpec.Verification policy, Run<O> first, Runs<O> auditors) {
    List<Future<Run<O>>> started = auditors.start(AUDITORS, Set.of(first.nodeId()));
    if (started.isEmpty()) {
      return Future.succeededFuture(new Audit(Audit.Outcome.SKIPPED, List.of(), List.of(), Future.succeededFuture()));
    }
    return Future.join(started).transform(done -> {
      if (started.stream().allMatch(f -> f.failed() && f.cause() instanceof NoAuditor)) {
        return Future.succeededFuture(new Audit(Audit.Outcome.SKIPPED, List.of(), List.of(), Future.succeededFuture()));
      }
      List<Run<O>> runs = new ArrayList<>();
      runs.add(first);
      started.stream().filter(Future::succeeded).map(Future::result).forEach(runs::add);
      List<Run<O>> votes = onePerNode(taskId, runs);
      Consensus.Verdict verdict = judge(votes, policy.threshold());
      List<String> nodes = votes.stream().map(Run::nodeId).toList();
      Audit.Outcome outcome = verdict.kind() != Consensus.Kind.VERIFIED ? Audit.Outcome.INCONCLUSIVE
          : verdict.outliers().contains(0) ? Audit.Outcome.CAUGHT : Audit.Outcome.CLEAN;
      List<String> outvotedBy = outcome == Audit.Outcome.CAUGHT ? names(verdict.agreeing(), nodes) : List.of();
      if (outcome == Audit.Outcome.CAUGHT) {
        log.warn("Audit of {} caught worker {}: outvoted by {}", taskId, first.nodeId(), outvotedBy);
      }
      return Future.succeededFuture(new Audit(outcome, nodes, outvotedBy, record(taskId, verdict, votes, "audit")));
    });
  }

  private Consensus.Verdict judge(List<Run<O>> votes, double threshold) {
    return Consensus.decide(votes.stream().map(Run::outputs).toList(), threshold, agreement::similarity);
  }

  private Future<Void> record(String taskId, Consensus.Verdict verdict, List<Run<O>> votes, String what) {
    List<String> nodes = votes.stream().map(Run::nodeId).toList();
    List<String> hashes = votes.stream().map(r -> agreement.hash(r.outputs())).toList();
    return ledger.record(taskId, verdict, nodes, hashes)
        .onFailure(err -> log.error("Could not record {} of {}: {}", what, taskId, err.toString()));
  }

  /**
   * One vote per node: a node that appears twice (a scheduler bug, or a node answering for a slot it
   * was not given) must not outvote an honest one, so only its first run counts.
   */
  private List<Run<O>> onePerNode(String taskId, List<Run<O>> runs) {
    Set<String> seen = new HashSet<>();
    List<Run<O>> votes = new ArrayList<>(runs.size());
    for (Run<O> r : runs) {
      if (seen.add(r.nodeId())) {
        votes.add(r);
      } else {
        log.warn("Task {}: node {} answered more than once; only its first run counts", taskId, r.nodeId());
      }
    }
    return votes;
  }

  private static List<String> names(List<Integer> indexes, List<String> nodes) {
    return indexes.stream().map(nodes::get).toList();
  }
}
