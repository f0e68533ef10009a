package io.inferium.engine.text;

import io.inferium.engine.gateway.DeadlineExceeded;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.NoWorkerAvailable;
import io.inferium.engine.gateway.WorkerFailure;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.engine.protocol.Frame;
import io.inferium.engine.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One request-reply call to a text function on a worker (EMBED, SCORE): a worker with room (a fast
 * {@link NoWorkerAvailable} when all are at their in-flight limit, never an unbounded wait), the
 * bundle loaded and its hash attested, the call made under the request's deadline, and the worker's
 * signature over the returned tensors checked. The worker counts as in use until the reply.
 */
final class TextCalls {

  /** A verified reply and the worker that gave it. */
  record Reply(Frame frame, String workerId) {}

  private final Vertx vertx;
  private final Dispatcher dispatcher;
  private final TextLoad load;

  TextCalls(Vertx vertx, Dispatcher dispatcher, TextLoad load) {
    this.vertx = vertx;
    this.dispatcher = dispatcher;
    this.load = load;
  }

  /** {@code what} names the work in the deadline error ("the embedding", "scoring"). */
  Future<Reply> call(FunctionRecord fn, FrameType type, JsonObject meta, long deadlineNanos, String what) {
    String sha = fn.modelSha256();
    WorkerLink link = dispatcher.pick(sha);
    if (link == null) {
      return Future.failedFuture(new NoWorkerAvailable("every worker is at its in-flight limit"));
    }
    Promise<Frame> call = Promise.promise();
    long ms = Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000);
    long timer = vertx.setTimer(ms, t -> call.tryFail(new WorkerLink.Cancelled(what + " did not finish within "
        + fn.spec().timeoutMs() + " ms")));
    link.reserve();
    link.beginUse(sha);
    return load.metaOf(fn)
        .compose(extra -> link.ensureLoaded(sha, load.blobs().path(sha), extra))
        .compose(loaded -> link.attestation().checkModel(sha, loaded.attestedSha256())
            .<Future<Frame>>map(problem -> Future.failedFuture(new WorkerFailure("attestation_failed", problem)))
            .orElseGet(() -> link.call(type, meta.copy().put("sha256", sha), List.of(), call)))
        .map(reply -> new Reply(reply, link.workerId()))
        .recover(err -> Future.failedFuture(err instanceof WorkerLink.Cancelled c ? new DeadlineExceeded(c.getMessage()) : err))
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          link.endUse(sha);
          link.release();
        });
  }
}
