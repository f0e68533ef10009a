package io.inferium.engine.text;

import io.inferium.engine.gateway.DeadlineExceeded;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.NoWorkerAvailable;
import io.inferium.engine.gateway.WorkerFailure;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.engine.protocol.Frame;
import io.inferium.engine.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Log-likelihoods of continuations after a context from a text-generation function (multiple-choice
 * scoring): one SCORE call to a worker with room, run on that function's decode thread between
 * steps, under a deadline, the worker's signature over the returned values checked. Like
 * {@link Embeddings}, a fast "no worker available" when every worker is at its in-flight limit.
 */
public final class LogLikelihoods {

  /** Per continuation: total log-probability, tokens, whether greedy decoding yields it; and the cost in tokens. */
  public record Result(double[] logLikelihoods, int[] tokens, boolean[] greedy, int promptTokens, long computeMicros) {}

  private final Vertx vertx;
  private final Dispatcher dispatcher;
  private final ModelBlobs blobs;
  private final Map<String, Future<JsonObject>> loadMetas = new ConcurrentHashMap<>();

  public LogLikelihoods(Vertx vertx, Dispatcher dispatcher, ModelBlobs blobs) {
    this.vertx = vertx;
    this.dispatcher = dispatcher;
    this.blobs = blobs;
  }

  public Future<Result> score(FunctionRecord fn, String context, List<String> continuations, long deadlineNanos) {
    String sha = fn.modelSha256();
    WorkerLink link = dispatcher.pick(sha);
    if (link == null) {
      return Future.failedFuture(new NoWorkerAvailable("every worker is at its in-flight limit"));
    }
    Promise<Frame> call = Promise.promise();
    long ms = Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000);
    long timer = vertx.setTimer(ms, t -> call.tryFail(new WorkerLink.Cancelled("scoring did not finish within "
        + fn.spec().timeoutMs() + " ms")));
    link.reserve();
    link.beginUse(sha);
    JsonObject meta = new JsonObject().put("sha256", sha).put("context", context)
        .put("continuations", new JsonArray(continuations));
    return loadMetas.computeIfAbsent(sha, k -> vertx.<JsonObject>executeBlocking(() -> TextLoad.meta(blobs, fn), false)
            .onFailure(err -> loadMetas.remove(k)))
        .compose(extra -> link.ensureLoaded(sha, blobs.path(sha), extra))
        .compose(loaded -> link.attestation().checkModel(sha, loaded.attestedSha256())
            .<Future<Frame>>map(problem -> Future.failedFuture(new WorkerFailure("attestation_failed", problem)))
            .orElseGet(() -> link.call(FrameType.SCORE, meta, List.of(), call)))
        .compose(reply -> link.attestation().checkResult(reply.correlationId(), sha, reply.tensors(),
                reply.meta().getString("signature"))
            .<Future<Frame>>map(problem -> Future.failedFuture(new WorkerFailure("bad_signature", problem)))
            .orElse(Future.succeededFuture(reply)))
        .map(reply -> {
          JsonArray tokens = reply.meta().getJsonArray("tokens", new JsonArray());
          JsonArray greedy = reply.meta().getJsonArray("greedy", new JsonArray());
          int[] t = new int[tokens.size()];
          boolean[] g = new boolean[greedy.size()];
          for (int i = 0; i < t.length; i++) {
            t[i] = tokens.getInteger(i);
          }
          for (int i = 0; i < g.length; i++) {
            g[i] = greedy.getBoolean(i);
          }
          return new Result(Tensors.toDoubleArray(reply.tensors().get(0)), t, g, reply.meta().getInteger("prompt_tokens", 0),
              reply.meta().getLong("compute_us", 0L));
        })
        .recover(err -> Future.failedFuture(err instanceof WorkerLink.Cancelled c ? new DeadlineExceeded(c.getMessage()) : err))
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          link.endUse(sha);
          link.release();
        });
  }
}
