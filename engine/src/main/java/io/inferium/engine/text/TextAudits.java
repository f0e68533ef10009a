package io.inferium.engine.text;

import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.EmbeddedText;
import io.inferium.verifier.TextOutput;
import io.inferium.verifier.Verifier;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Text calls under {@code audit(p)} (optimistic verification, as tensor audits): one worker answers and the client
 * gets its answer as it streams; with probability p (drawn by the verifier from a {@code SecureRandom}, so a node
 * cannot tell which answers are audited) the call is then re-run on {@link Verifier#AUDITORS} workers of operators
 * other than the one that served, and the verifier lets the majority of the three judge the served answer: an
 * outvoted server is slashed with its output hash as evidence in {@code node_events}, like any outlier. Seeded (or
 * greedy) generations compare exactly; unseeded ones by meaning when the function names a similarity embedder,
 * and are not audited otherwise (nothing to compare them by); embeddings by cosine. An audit's two auditors are
 * drawn at random among the eligible workers other than the server, busy or not, of other operators where the
 * gateway counts operators (a networked one), as tensor audits' are, and each run is pinned to its auditor (drawn
 * again should it leave or be ejected before the run starts). They queue ahead of client calls (an audit is owed work
 * whose share the policy sets; behind client calls, sustained load would starve it, and a liar answering while its
 * peers are busy would never be audited) in the same
 * bounded queues, and a run its constraints hold back never holds back the calls behind it. Each run has the
 * function's own time limit, waiting included; no eligible worker means the audit is skipped, and so does one whose
 * runs all waited out that limit: both are counted.
 */
final class TextAudits {

  /** Ahead of client calls (priority 0) in the function's queue. */
  static final int AUDIT_PRIORITY = -1;

  private static final Logger log = LoggerFactory.getLogger(TextAudits.class);

  private final Generations scheduler;
  private final Verifier<TextOutput> tokens;
  private final Verifier<List<Tensor>> vectors;
  private final Verifier<EmbeddedText> meaning;
  private final SimilarityEmbedder embedder;
  private final TextMetrics metrics;
  private final String instance = java.util.HexFormat.of().toHexDigits(new java.security.SecureRandom().nextLong());
  private final java.util.concurrent.atomic.AtomicLong tasks = new java.util.concurrent.atomic.AtomicLong();

  TextAudits(Generations scheduler, Verifier<TextOutput> tokens, Verifier<List<Tensor>> vectors,
      Verifier<EmbeddedText> meaning, SimilarityEmbedder embedder, TextMetrics metrics) {
    this.scheduler = scheduler;
    this.tokens = tokens;
    this.vectors = vectors;
    this.meaning = embedder == null ? null : meaning;
    this.embedder = meaning == null ? null : embedder;
    this.metrics = metrics;
  }

  /** A generation served at once and, if drawn, audited once it has been answered. */
  Generations.Generation generate(FunctionRecord fn, JsonObject work, long deadlineNanos,
      Consumer<List<Generations.Chunk>> onChunk) {
    FunctionSpec.Verification policy = fn.spec().verification();
    boolean exact = RedundantText.seeded(work);
    boolean comparable = exact || (policy.similarity() != null && meaning != null);
    if (!comparable || !tokens.plan(policy).auditDue()) {
      return new Generations.Generation(scheduler.submit(
          new Generations.TextJob(fn, WorkerCall.Kind.GENERATE, work, 0, deadlineNanos, onChunk)));
    }
    List<Generations.Chunk> seen = new ArrayList<>();
    Generations.TextRequest served = scheduler.submit(new Generations.TextJob(fn, WorkerCall.Kind.GENERATE, work, 0,
        deadlineNanos, chunks -> {
          seen.addAll(chunks);
          onChunk.accept(chunks);
        }));
    // Chunks reach the caller's context before the answer does: when it is answered, seen is the whole stream.
    served.future().onSuccess(reply -> {
      String task = "generate:" + fn.name() + "@" + instance + "." + tasks.incrementAndGet() + "/audit";
      if (exact) {
        audit(task, fn, tokens, policy, WorkerCall.Kind.GENERATE, work, reply.workerId(),
            Future.succeededFuture(RedundantText.ids(seen)), (r, chunks) -> Future.succeededFuture(RedundantText.ids(chunks)));
      } else {
        long limit = auditDeadline(fn);
        FunctionSpec.Verification judged = policy.atThreshold(policy.similarity().threshold());
        audit(task, fn, meaning, judged, WorkerCall.Kind.GENERATE, work, reply.workerId(),
            embedder.embed(fn, RedundantText.ids(seen), limit),
            (r, chunks) -> embedder.embed(fn, RedundantText.ids(chunks), limit));
      }
    });
    return new Generations.Generation(served);
  }

  /** An embedding answered at once and, if drawn, audited by cosine once answered. */
  Future<WorkerCall.Reply> embed(FunctionRecord fn, JsonObject meta, long deadlineNanos) {
    FunctionSpec.Verification policy = fn.spec().verification();
    Future<WorkerCall.Reply> answer = scheduler.submit(
        new Generations.TextJob(fn, WorkerCall.Kind.EMBED, meta, 0, deadlineNanos, null)).future();
    if (vectors.plan(policy).auditDue()) {
      answer.onSuccess(reply -> audit("embed:" + fn.name() + "@" + instance + "." + tasks.incrementAndGet() + "/audit",
          fn, vectors, policy, WorkerCall.Kind.EMBED, meta, reply.workerId(), Future.succeededFuture(reply.outputs()),
          (r, chunks) -> Future.succeededFuture(r.outputs())));
    }
    return answer;
  }

  private static long auditDeadline(FunctionRecord fn) {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
  }

  /**
   * Re-runs the call on auditors of other operators and lets the verifier judge the served answer
   * ({@code firstOutput}, what {@code servedBy} produced); {@code output} makes an auditor's reply and streamed
   * chunks into what is compared.
   */
  private <O> void audit(String task, FunctionRecord fn, Verifier<O> verifier, FunctionSpec.Verification policy,
      WorkerCall.Kind kind, JsonObject work, String servedBy, Future<O> firstOutput,
      BiFunction<WorkerCall.Reply, List<Generations.Chunk>, Future<O>> output) {
    // The server's operator as of its answer: it may have left by the time the auditors start.
    String servedOperator = scheduler.workers().stream().filter(w -> w.workerId().equals(servedBy)).map(Worker::operator)
        .findFirst().orElse(null);
    io.inferium.functions.Placement placement = fn.spec().placement();
    Verifier.Runs<O> auditors = (k, exclude) -> {
      // Drawn at random among the eligible workers, busy or not, as tensor auditors are (none of the server's
      // operator where operators count): how fast a node frees does not make it audit more often.
      Set<String> operators = scheduler.workers().stream().filter(w -> exclude.contains(w.workerId()))
          .map(Worker::operator).collect(Collectors.toCollection(java.util.HashSet::new));
      if (servedOperator != null) {
        operators.add(servedOperator);
      }
      List<Worker> drawn = scheduler.drawAuditors(k, exclude, operators, placement);
      // Every worker drawn for this audit so far (and its operator): a redraw never picks one of them again.
      Set<String> taken = new java.util.HashSet<>(exclude);
      for (Worker w : drawn) {
        taken.add(w.workerId());
        operators.add(w.operator());
      }
      java.util.function.Supplier<Worker> redraw = () -> scheduler.redrawAuditor(taken, operators, placement);
      long limit = auditDeadline(fn);
      List<Future<Verifier.Run<O>>> runs = new ArrayList<>();
      for (Worker auditor : drawn) {
        List<Generations.Chunk> mine = new ArrayList<>();
        Generations.TextRequest r = scheduler.submit(new Generations.TextJob(fn, kind, work, AUDIT_PRIORITY, limit,
            kind == WorkerCall.Kind.GENERATE ? mine::addAll : null, null, new Generations.Pin(auditor, redraw)));
        runs.add(r.future().recover(err -> Future.failedFuture(r.attempts == 0
                // It waited for its auditor until its deadline and never ran: nothing was audited.
                ? new Verifier.NoAuditor("its auditor did not take the audit within " + fn.spec().timeoutMs() + " ms")
                : err))
            .compose(reply -> output.apply(reply, mine).map(o -> new Verifier.Run<>(reply.workerId(), o))));
      }
      return runs;
    };
    firstOutput
        .compose(first -> verifier.audit(task, policy, new Verifier.Run<>(servedBy, first), auditors))
        .onComplete(done -> {
          Verifier.Audit.Outcome outcome = done.succeeded() ? done.result().outcome() : Verifier.Audit.Outcome.INCONCLUSIVE;
          if (done.failed()) {
            log.warn("Audit {} of {} could not be judged: {}", task, fn.ref(), done.cause().toString());
          } else if (outcome == Verifier.Audit.Outcome.CAUGHT) {
            log.warn("Audit {} of {} caught {}: outvoted by {}", task, fn.ref(), servedBy, done.result().outvotedBy());
          }
          metrics.audited(fn.name(), outcome.wire());
        });
  }
}
