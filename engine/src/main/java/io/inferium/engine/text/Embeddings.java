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
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs embedding requests: one EMBED call per request (the worker batches the request's inputs in
 * one run) on a worker with room, under the function's deadline, checking the worker's signature
 * over the vectors it returns. When every worker is at its in-flight limit the caller gets a fast
 * 503 with Retry-After rather than an unbounded wait.
 */
public final class Embeddings {

  /** The vectors (row-major float32, {@code count × dim}) and what they cost in tokens. */
  public record Result(Tensor vectors, int promptTokens, long computeMicros, String workerId) {}

  private final Vertx vertx;
  private final Dispatcher dispatcher;
  private final ModelBlobs blobs;
  private final Map<String, Future<JsonObject>> loadMetas = new ConcurrentHashMap<>();

  public Embeddings(Vertx vertx, Dispatcher dispatcher, ModelBlobs blobs) {
    this.vertx = vertx;
    this.dispatcher = dispatcher;
    this.blobs = blobs;
  }

  public Future<Result> embed(FunctionRecord fn, List<String> inputs, long deadlineNanos) {
    String sha = fn.modelSha256();
    WorkerLink link = dispatcher.pick(sha);
    if (link == null) {
      return Future.failedFuture(new NoWorkerAvailable("every worker is at its in-flight limit"));
    }
    Promise<Frame> call = Promise.promise();
    long ms = Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000);
    long timer = vertx.setTimer(ms, t -> call.tryFail(new WorkerLink.Cancelled("the embedding did not finish within "
        + fn.spec().timeoutMs() + " ms")));
    link.reserve();
    link.beginUse(sha);
    JsonObject meta = new JsonObject().put("sha256", sha).put("input", new JsonArray(inputs))
        .put("pooling", fn.spec().text().pooling()).put("normalize", fn.spec().text().normalize());
    return loadMeta(fn)
        .compose(extra -> link.ensureLoaded(sha, blobs.path(sha), extra))
        .compose(loaded -> link.attestation().checkModel(sha, loaded.attestedSha256())
            .<Future<Frame>>map(problem -> Future.failedFuture(new WorkerFailure("attestation_failed", problem)))
            .orElseGet(() -> link.call(FrameType.EMBED, meta, List.of(), call)))
        .compose(reply -> link.attestation().checkResult(reply.correlationId(), sha, reply.tensors(),
                reply.meta().getString("signature"))
            .<Future<Frame>>map(problem -> Future.failedFuture(new WorkerFailure("bad_signature", problem)))
            .orElse(Future.succeededFuture(reply)))
        .map(reply -> new Result(reply.tensors().get(0), reply.meta().getInteger("prompt_tokens", 0),
            reply.meta().getLong("compute_us", 0L), link.workerId()))
        .recover(err -> Future.failedFuture(err instanceof WorkerLink.Cancelled c ? new DeadlineExceeded(c.getMessage()) : err))
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          link.endUse(sha);
          link.release();
        });
  }

  /** The LOAD fields of a text bundle: its kind and where each of its files is. */
  Future<JsonObject> loadMeta(FunctionRecord fn) {
    return loadMetas.computeIfAbsent(fn.modelSha256(), sha -> vertx.<JsonObject>executeBlocking(() -> TextLoad.meta(blobs, fn), false)
        .onFailure(err -> loadMetas.remove(sha)));
  }
}
