package io.inferium.engine.text;

import io.inferium.engine.failure.BadRequest;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Agreement;
import io.inferium.verifier.EmbeddedText;
import io.inferium.verifier.TextOutput;
import io.inferium.verifier.Verifier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Text calls under {@code redundant(k)}: the call runs on k distinct workers (siblings in the text scheduler's
 * queue that never share a worker), and the verifier judges their outputs in a strict majority and records the
 * verdict in the node ledger, as tensor consensus does: embeddings by cosine against the function's
 * {@code threshold}, seeded generations by exact token ids and text. A generation's tokens are held back until a
 * strict majority agrees: the client then gets an agreed run's tokens, never a token of a run that was outvoted.
 * The cost is latency: the first token reaches the client when the majority-th run has finished
 * (docs/TEXT_MODELS.md, *Verification*); the others are still judged, and recorded, when they end.
 * An unseeded sampled generation cannot be compared token by token: it is compared by meaning when the function
 * names a similarity embedder (each run's text embedded by {@link SimilarityEmbedder}, {@code SemanticAgreement}
 * against the similarity threshold, the tokens held the same way), and refused otherwise (400, field {@code seed}).
 */
public final class RedundantText {

  /** How one kind of output is judged: the verifier (decides, records in the ledger) and how two outputs compare. */
  public record Judge<O>(Verifier<O> verifier, Agreement<O> agreement) {}

  private static final Logger log = LoggerFactory.getLogger(RedundantText.class);

  private final Generations scheduler;
  private final Verifier<TextOutput> tokens;
  private final Verifier<List<Tensor>> vectors;
  private final Agreement<TextOutput> sameTokens;
  private final Agreement<List<Tensor>> sameVectors;
  /** Unseeded generations by meaning; null (with {@link #embedder}) where no semantic judge is wired. */
  private final Verifier<EmbeddedText> meaning;
  private final Agreement<EmbeddedText> sameMeaning;
  private final SimilarityEmbedder embedder;
  /** Makes ledger task ids unique across restarts; {@link #tasks} within this process. */
  private final String instance = java.util.HexFormat.of().toHexDigits(new java.security.SecureRandom().nextLong());
  private final java.util.concurrent.atomic.AtomicLong tasks = new java.util.concurrent.atomic.AtomicLong();

  RedundantText(Generations scheduler, Judge<TextOutput> tokens, Judge<List<Tensor>> vectors,
      Judge<EmbeddedText> meaning, SimilarityEmbedder embedder) {
    this.scheduler = scheduler;
    this.tokens = tokens.verifier();
    this.vectors = vectors.verifier();
    this.sameTokens = tokens.agreement();
    this.sameVectors = vectors.agreement();
    this.meaning = meaning == null || embedder == null ? null : meaning.verifier();
    this.sameMeaning = this.meaning == null ? null : meaning.agreement();
    this.embedder = this.meaning == null ? null : embedder;
  }

  /** Whether a generation's runs can be compared token by token: a seed, or greedy decoding (temperature 0). */
  static boolean seeded(JsonObject work) {
    JsonObject params = work.getJsonObject("params", new JsonObject());
    return params.getValue("seed") != null || params.getDouble("temperature", 1.0) == 0.0;
  }

  /**
   * Completes when a strict majority of the k runs (⌊k/2⌋+1) have answered and agree, with their indexes, or
   * when every run has ended without that, with null. The runs outside an early majority go on: the ledger
   * judges them once they end ({@link #resolve}).
   */
  private <O> Future<List<Integer>> settle(List<Future<WorkerCall.Reply>> runs, IntFunction<O> output,
      Agreement<O> agreement, double threshold) {
    int k = runs.size();
    int majority = k / 2 + 1;
    Promise<List<Integer>> settled = Promise.promise();
    List<Integer> answered = new ArrayList<>();
    int[] ended = {0};
    for (int i = 0; i < k; i++) {
      int me = i;
      runs.get(i).onComplete(ar -> {
        List<Integer> agreeing = null;
        boolean all;
        // Siblings may complete on different contexts (each on its submitter's): one at a time here.
        synchronized (answered) {
          ended[0]++;
          all = ended[0] == k;
          if (ar.succeeded()) {
            O mine = output.apply(me);
            List<Integer> with = new ArrayList<>(List.of(me));
            for (int j : answered) {
              double sim = agreement.similarity(mine, output.apply(j));
              if (!Double.isNaN(sim) && sim >= threshold) {
                with.add(j);
              }
            }
            answered.add(me);
            agreeing = with.size() >= majority && k > 1 ? with : null;
          }
        }
        if (agreeing != null) {
          settled.tryComplete(agreeing);
        } else if (all) {
          settled.tryComplete(null);
        }
      });
    }
    return settled.future();
  }

  /** The run to serve and the verification report its answer carries. */
  private record Served(int index, JsonObject verification) {}

  /**
   * Decides which run to serve. With an early majority, one of it at once (drawn, so the fastest node is not
   * always the one served), and the verifier judges every run, late ones included, and records the verdict
   * once all have ended (or hit the deadline). Without one, every run has ended: the verifier's verdict now.
   */
  private <O> Future<Served> resolve(String task, Verifier<O> verifier, FunctionSpec.Verification policy,
      List<Future<WorkerCall.Reply>> runs, IntFunction<O> output, List<Integer> early) {
    Future<Served> all = Future.join(runs).transform(x -> {
      List<Verifier.Run<O>> ok = new ArrayList<>();
      List<Integer> index = new ArrayList<>();
      List<Verifier.Failure> failed = new ArrayList<>();
      for (int i = 0; i < runs.size(); i++) {
        if (runs.get(i).succeeded()) {
          ok.add(new Verifier.Run<>(runs.get(i).result().workerId(), output.apply(i)));
          index.add(i);
        } else {
          failed.add(new Verifier.Failure("unknown", runs.get(i).cause()));
        }
      }
      Verifier.Decision<O> d = verifier.decide(task, policy, ok, failed);
      if (!d.outliers().isEmpty()) {
        log.warn("Task {} verified {}: outvoted {}", task, d.verdict(), d.outliers());
      }
      if (d.failed()) {
        return Future.failedFuture(d.failure());
      }
      if (d.disputed()) {
        return Future.failedFuture(new WorkerFailure("disputed", d.dispute()));
      }
      return Future.succeededFuture(new Served(index.get(indexOf(ok, d.chosen())), new JsonObject()
          .put("verdict", d.verdict()).put("similarity", d.similarity()).put("agreeing", new JsonArray(d.agreeing()))
          .put("outliers", new JsonArray(d.outliers()))));
    });
    if (early == null) {
      return all;
    }
    all.onFailure(err -> log.warn("Task {}: the runs after its majority answered could not be judged: {}", task,
        err.toString()));
    int pick = early.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(early.size()));
    return Future.succeededFuture(new Served(pick, new JsonObject().put("verdict", "verified").put("similarity", 1.0)
        .put("agreeing", new JsonArray(early.stream().map(i -> runs.get(i).result().workerId()).toList()))
        .put("outliers", new JsonArray()).put("early", true)));
  }

  private static WorkerCall.Reply withReport(WorkerCall.Reply chosen, JsonObject verification) {
    return new WorkerCall.Reply(chosen.meta().copy().put("verification", verification), chosen.outputs(),
        chosen.workerId(), chosen.computeMicros(), chosen.coldStart());
  }

  private String taskId(FunctionRecord fn, String what) {
    return what + ":" + fn.name() + "@" + instance + "." + tasks.incrementAndGet();
  }

  /**
   * How many runs: the policy's k, or fewer when fewer distinct places are eligible (workers meeting the function's
   * placement; operators, where runs must span them), and then the verdict says so.
   */
  private int runs(FunctionRecord fn) {
    return Math.max(1, Math.min(fn.spec().verification().k(), scheduler.distinctPlaces(fn)));
  }

  Future<WorkerCall.Reply> embed(FunctionRecord fn, JsonObject meta, long deadlineNanos) {
    FunctionSpec.Verification policy = fn.spec().verification();
    Set<String> avoid = ConcurrentHashMap.newKeySet();
    List<Future<WorkerCall.Reply>> runs = new ArrayList<>();
    for (int i = runs(fn); i > 0; i--) {
      runs.add(scheduler.submit(new Generations.TextJob(fn, WorkerCall.Kind.EMBED, meta, 0, deadlineNanos, null, avoid))
          .future());
    }
    IntFunction<List<Tensor>> output = i -> runs.get(i).result().outputs();
    String task = taskId(fn, "embed");
    return settle(runs, output, sameVectors, policy.threshold())
        .compose(early -> resolve(task, vectors, policy, runs, output, early))
        .map(served -> withReport(runs.get(served.index()).result(), served.verification()));
  }

  Generations.Generation generate(FunctionRecord fn, JsonObject work, long deadlineNanos,
      Consumer<List<Generations.Chunk>> onChunk) {
    FunctionSpec.Verification policy = fn.spec().verification();
    boolean byMeaning = !seeded(work);
    if (byMeaning && (policy.similarity() == null || embedder == null)) {
      BadRequest refused = new BadRequest("field 'seed': " + fn.ref() + " is verified by redundant(" + policy.k()
          + "), which compares generations token by token; a sampled generation needs a seed (or temperature 0), "
          + "unless the function's verification names a similarity embedder");
      return new Generations.Generation(Future.failedFuture(refused), () -> { }, () -> 0);
    }
    int k = runs(fn);
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
    List<Future<WorkerCall.Reply>> runs = requests.stream().map(Generations.TextRequest::future).toList();
    String task = taskId(fn, "generate");
    Future<Served> served;
    if (byMeaning) {
      // A run counts once its text is embedded too: the embedder's answer is part of what the run is judged by.
      AtomicReferenceArray<EmbeddedText> meant = new AtomicReferenceArray<>(k);
      List<Future<WorkerCall.Reply>> judged = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        int me = i;
        judged.add(runs.get(i).compose(reply -> embedder.embed(fn, ids(held.get(me)), deadlineNanos)
            .map(e -> {
              meant.set(me, e);
              return reply;
            })));
      }
      double threshold = policy.similarity().threshold();
      served = settle(judged, meant::get, sameMeaning, threshold)
          .compose(early -> resolve(task, meaning, policy.atThreshold(threshold), judged, meant::get, early));
    } else {
      IntFunction<TextOutput> output = i -> ids(held.get(i));
      served = settle(runs, output, sameTokens, policy.threshold())
          .compose(early -> resolve(task, tokens, policy, runs, output, early));
    }
    int[] streamed = new int[1];
    Future<Generations.Finished> finished = served.map(chosen -> {
      List<Generations.Chunk> agreed = held.get(chosen.index());
      if (!agreed.isEmpty()) {
        streamed[0] = agreed.size();
        onChunk.accept(agreed);
      }
      return Generations.finished(withReport(runs.get(chosen.index()).result(), chosen.verification()),
          requests.get(chosen.index()).queueNanos);
    });
    // The client going away stops every run; the verdict over what ended is still recorded.
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
  static TextOutput ids(List<Generations.Chunk> chunks) {
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
    return new TextOutput(
        byChoice.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList(),
        texts.stream().map(StringBuilder::toString).toList());
  }
}
