package io.inferium.engine.text;

import io.inferium.engine.failure.BadRequest;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Verifier;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Text calls under {@code redundant(k)}: the call runs on k distinct workers (siblings in the text scheduler's
 * queue that never share a worker), and the verifier judges their outputs in a strict majority and records the
 * verdict in the node ledger, as tensor consensus does: embeddings by cosine against the function's
 * {@code threshold}, seeded generations by exact token ids. A generation's tokens are held back until the
 * verdict: the client then gets the agreed run's tokens, never a token of a run that was outvoted. The cost is
 * latency: the first token reaches the client when the slowest of the k runs has finished (docs/TEXT_MODELS.md).
 * An unseeded sampled generation cannot be compared token by token and is refused (400, field {@code seed}).
 */
public final class RedundantText {

  /** How one kind of output is judged: the verifier (decides, records in the ledger) and how two outputs compare. */
  public record Judge<O>(Verifier<O> verifier, io.inferium.verifier.Agreement<O> agreement) {}

  private static final Logger log = LoggerFactory.getLogger(RedundantText.class);

  private final Generations scheduler;
  private final Verifier<io.inferium.verifier.TextOutput> tokens;
  private final Verifier<List<Tensor>> vectors;
  private final io.inferium.verifier.Agreement<io.inferium.verifier.TextOutput> sameTokens;
  private final io.inferium.verifier.Agreement<List<Tensor>> sameVectors;
  /** Makes ledger task ids unique across restarts; {@link #tasks} within this process. */
  private final String instance = java.util.HexFormat.of().toHexDigits(new java.security.SecureRandom().nextLong());
  private final java.util.concurrent.atomic.AtomicLong tasks = new java.util.concurrent.atomic.AtomicLong();

  RedundantText(Generations scheduler, Judge<io.inferium.verifier.TextOutput> tokens, Judge<List<Tensor>> vectors) {
    this.scheduler = scheduler;
    this.tokens = tokens.verifier();
    this.vectors = vectors.verifier();
    this.sameTokens = tokens.agreement();
    this.sameVectors = vectors.agreement();
  }

  /**
   * Completes when every run has ended, or as soon as a strict majority of the k runs agree (then the others
   * are withdrawn, uncharged and unrewarded: a late or stuck node does not hold the answer up to the deadline).
   */
  private <O> Future<Void> settle(List<Generations.TextRequest> requests, java.util.function.IntFunction<O> output,
      io.inferium.verifier.Agreement<O> agreement, double threshold) {
    int k = requests.size();
    int majority = k / 2 + 1;
    io.vertx.core.Promise<Void> settled = io.vertx.core.Promise.promise();
    List<Integer> answered = new ArrayList<>();
    int[] ended = {0};
    for (int i = 0; i < k; i++) {
      int me = i;
      requests.get(i).future().onComplete(ar -> {
        boolean early = false;
        boolean all;
        // Siblings may complete on different contexts (each on its submitter's): one at a time here.
        synchronized (answered) {
          ended[0]++;
          all = ended[0] == k;
          if (ar.succeeded() && !all) {
            O mine = output.apply(me);
            int agree = 1;
            for (int j : answered) {
              double s = agreement.similarity(mine, output.apply(j));
              agree += !Double.isNaN(s) && s >= threshold ? 1 : 0;
            }
            answered.add(me);
            early = agree >= majority;
          }
        }
        if ((early || all) && settled.tryComplete() && early) {
          for (Generations.TextRequest r : requests) {
            if (!r.future().isComplete()) {
              r.withdraw("a majority of the redundant runs already agree");
            }
          }
        }
      });
    }
    return settled.future();
  }

  private String taskId(FunctionRecord fn, String what) {
    return what + ":" + fn.name() + "@" + instance + "." + tasks.incrementAndGet();
  }

  /** How many runs: the policy's k, or fewer when fewer workers are eligible (then the verdict says so). */
  private int runs(FunctionSpec.Verification policy) {
    return Math.max(1, Math.min(policy.k(), scheduler.eligibleWorkers()));
  }

  Future<WorkerCall.Reply> embed(FunctionRecord fn, JsonObject meta, long deadlineNanos) {
    FunctionSpec.Verification policy = fn.spec().verification();
    Set<String> avoid = ConcurrentHashMap.newKeySet();
    List<Generations.TextRequest> requests = new ArrayList<>();
    for (int i = runs(policy); i > 0; i--) {
      requests.add(scheduler.submit(new Generations.TextJob(fn, WorkerCall.Kind.EMBED, meta, 0, deadlineNanos, null, avoid)));
    }
    List<Future<WorkerCall.Reply>> runs = requests.stream().map(Generations.TextRequest::future).toList();
    return settle(requests, i -> runs.get(i).result().outputs(), sameVectors, policy.threshold()).transform(done -> {
      List<Verifier.Run<List<Tensor>>> ok = new ArrayList<>();
      List<Verifier.Failure> failed = new ArrayList<>();
      List<WorkerCall.Reply> replies = new ArrayList<>();
      for (Future<WorkerCall.Reply> run : runs) {
        if (run.succeeded()) {
          ok.add(new Verifier.Run<>(run.result().workerId(), run.result().outputs()));
          replies.add(run.result());
        } else {
          failed.add(new Verifier.Failure("unknown", run.isComplete() ? run.cause() : new WorkerFailure("superseded", "withdrawn")));
        }
      }
      Verifier.Decision<List<Tensor>> d = vectors.decide(taskId(fn, "embed"), policy, ok, failed);
      return answer(d, d.chosen() == null ? null : replies.get(indexOf(ok, d.chosen())));
    });
  }

  /** The chosen reply, its meta carrying the verdict; a failure when there is none to serve. */
  private static <O> Future<WorkerCall.Reply> answer(Verifier.Decision<O> d, WorkerCall.Reply chosen) {
    if (d.failed()) {
      return Future.failedFuture(d.failure());
    }
    if (d.disputed()) {
      return Future.failedFuture(new WorkerFailure("disputed", d.dispute()));
    }
    JsonObject meta = chosen.meta().copy().put("verification", new JsonObject().put("verdict", d.verdict())
        .put("similarity", d.similarity()).put("agreeing", new JsonArray(d.agreeing()))
        .put("outliers", new JsonArray(d.outliers())));
    return Future.succeededFuture(new WorkerCall.Reply(meta, chosen.outputs(), chosen.workerId(), chosen.computeMicros(),
        chosen.coldStart()));
  }

  Generations.Generation generate(FunctionRecord fn, JsonObject work, long deadlineNanos,
      Consumer<List<Generations.Chunk>> onChunk) {
    FunctionSpec.Verification policy = fn.spec().verification();
    JsonObject params = work.getJsonObject("params", new JsonObject());
    if (params.getValue("seed") == null && params.getDouble("temperature", 1.0) != 0.0) {
      BadRequest refused = new BadRequest("field 'seed': " + fn.ref() + " is verified by redundant(" + policy.k()
          + "), which compares generations token by token; a sampled generation needs a seed (or temperature 0)");
      return new Generations.Generation(Future.failedFuture(refused), () -> { }, () -> 0);
    }
    int k = runs(policy);
    Set<String> avoid = ConcurrentHashMap.newKeySet();
    List<List<Generations.Chunk>> held = new ArrayList<>();
    List<Generations.TextRequest> requests = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      List<Generations.Chunk> mine = new ArrayList<>();
      held.add(mine);
      // Tokens are held, not streamed: a run's text reaches the client only if the majority agrees with it.
      requests.add(scheduler.submit(new Generations.TextJob(fn, WorkerCall.Kind.GENERATE, work, 0, deadlineNanos,
          mine::addAll, avoid)));
    }
    int[] streamed = new int[1];
    List<Future<WorkerCall.Reply>> runs = requests.stream().map(Generations.TextRequest::future).toList();
    Future<Generations.Finished> finished = settle(requests, i -> ids(held.get(i)), sameTokens, policy.threshold())
        .transform(done -> {
      List<Verifier.Run<io.inferium.verifier.TextOutput>> ok = new ArrayList<>();
      List<Verifier.Failure> failed = new ArrayList<>();
      List<Integer> index = new ArrayList<>();
      for (int i = 0; i < runs.size(); i++) {
        Future<WorkerCall.Reply> run = runs.get(i);
        if (run.succeeded()) {
          ok.add(new Verifier.Run<>(run.result().workerId(), ids(held.get(i))));
          index.add(i);
        } else {
          failed.add(new Verifier.Failure("unknown", run.isComplete() ? run.cause() : new WorkerFailure("superseded", "withdrawn")));
        }
      }
      Verifier.Decision<io.inferium.verifier.TextOutput> d = tokens.decide(taskId(fn, "generate"), policy, ok, failed);
      int chosen = d.chosen() == null ? -1 : index.get(indexOf(ok, d.chosen()));
      if (!d.outliers().isEmpty()) {
        log.warn("Generation of {} verified {}: outvoted {}", fn.ref(), d.verdict(), d.outliers());
      }
      return answer(d, chosen < 0 ? null : runs.get(chosen).result()).map(reply -> {
        List<Generations.Chunk> agreed = held.get(chosen);
        if (!agreed.isEmpty()) {
          streamed[0] = agreed.size();
          onChunk.accept(agreed);
        }
        Generations.TextRequest r = requests.get(chosen);
        return Generations.finished(reply, r.queueNanos);
      });
    });
    return new Generations.Generation(finished, () -> requests.forEach(Generations.TextRequest::cancel), () -> streamed[0]);
  }

  /** The position of {@code run} itself (not an equal one) in {@code runs}. */
  private static <O> int indexOf(List<Verifier.Run<O>> runs, Verifier.Run<O> run) {
    for (int i = 0; i < runs.size(); i++) {
      if (runs.get(i) == run) {
        return i;
      }
    }
    throw new IllegalStateException("the verifier chose a run it was not given");
  }

  /** Token ids and streamed text per choice, in choice order, from the chunks a run streamed. */
  private static io.inferium.verifier.TextOutput ids(List<Generations.Chunk> chunks) {
    int choices = chunks.stream().mapToInt(Generations.Chunk::index).max().orElse(-1) + 1;
    List<List<Integer>> byChoice = new ArrayList<>();
    List<StringBuilder> texts = new ArrayList<>();
    for (int i = 0; i < choices; i++) {
      byChoice.add(new ArrayList<>());
      texts.add(new StringBuilder());
    }
    chunks.forEach(c -> {
      byChoice.get(c.index()).add(c.tokenId());
      texts.get(c.index()).append(c.text());
    });
    return new io.inferium.verifier.TextOutput(
        byChoice.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList(),
        texts.stream().map(StringBuilder::toString).toList());
  }
}
