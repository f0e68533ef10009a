package io.inferium.engine.gateway;

import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One call of a function on one worker, from reservation to checked result: the worker is reserved
 * and its model marked in use for the call's whole life (released on every path), the model loaded
 * with the fields its kind needs, the loaded hash attested, and the request sent. The worker's
 * signatures are the link's concern: it seals its results in windows and {@link WorkerLink} checks
 * each seal off the event loop against what it received, cutting off a worker whose seal does not
 * match (docs/PROTOCOL.md, "Result seals"). Tensor batches, redundant runs, audits, generations,
 * embeddings and scoring all run through it; only the schedulers around it differ.
 *
 * <p>The handle withdraws the call ({@link #cancel}) wherever it is: before it is sent the worker
 * never hears of it, after that the worker is told to stop (and charged if it does not and the cancel
 * was its fault).
 */
public final class WorkerCall {

  /** What the worker is asked to do: one protocol request each. */
  public enum Kind {
    /** Tensors in, tensors out (a batch). */
    INFER(FrameType.INFER),
    /** Token frames, then a final reply with the finish reasons (a generation). */
    GENERATE(FrameType.GENERATE),
    /** Texts in, one vector each. */
    EMBED(FrameType.EMBED),
    /** Log-likelihoods of continuations after a context. */
    SCORE(FrameType.SCORE);

    final FrameType frame;

    Kind(FrameType frame) {
      this.frame = frame;
    }
  }

  /** A checked result: the reply's fields and tensors, who computed it, how long, and whether it loaded the model first. */
  public record Reply(JsonObject meta, List<Tensor> outputs, String workerId, long computeMicros, boolean coldStart) {}

  /**
   * Where a text call (generate, embed, score) gets the extra LOAD fields of its function's bundle
   * (its kind, files and options); a tensor model needs none.
   */
  @FunctionalInterface
  public interface LoadFields {
    Future<JsonObject> of(FunctionRecord fn);
  }

  /** Starts calls: the blobs, load fields and metrics every call shares. */
  public static final class Factory {
    private final ModelBlobs blobs;
    private final LoadFields loadFields;
    private final EngineMetrics metrics;

    public Factory(ModelBlobs blobs, LoadFields loadFields, EngineMetrics metrics) {
      this.blobs = blobs;
      this.loadFields = loadFields;
      this.metrics = metrics;
    }

    /**
     * Starts {@code kind} of {@code fn} on {@code worker} now. {@code onToken} (generations only; null
     * otherwise) sees each streamed token on the worker's context, before the reply.
     */
    public WorkerCall start(Worker worker, FunctionRecord fn, Kind kind, JsonObject meta, List<Tensor> inputs,
        Consumer<WorkerLink.Token> onToken) {
      WorkerCall call = new WorkerCall(worker, fn, kind, onToken);
      call.begin(this, meta, inputs);
      return call;
    }
  }

  private final Worker worker;
  private final FunctionRecord fn;
  private final String sha;
  private final Kind kind;
  private final Consumer<WorkerLink.Token> onToken;
  private final Promise<Reply> result = Promise.promise();
  private Worker.Sent sent;
  private String cancelled;
  private boolean nodeAtFault;

  private WorkerCall(Worker worker, FunctionRecord fn, Kind kind, Consumer<WorkerLink.Token> onToken) {
    this.worker = worker;
    this.fn = fn;
    this.sha = fn.modelSha256();
    this.kind = kind;
    this.onToken = onToken;
  }

  private void begin(Factory f, JsonObject meta, List<Tensor> inputs) {
    boolean cold = worker.needsLoad(sha);
    if (kind == Kind.GENERATE) {
      worker.reserveGeneration();
    } else {
      worker.reserve();
    }
    worker.beginUse(sha);
    Future<JsonObject> fields;
    try {
      fields = kind == Kind.INFER ? Future.succeededFuture(new JsonObject()) : f.loadFields.of(fn);
    } catch (RuntimeException e) {
      fields = Future.failedFuture(e);
    }
    fields.compose(extra -> worker.ensureLoaded(sha, f.blobs.path(sha), extra))
        .compose(loaded -> {
          if (cold && loaded.loadMs() > 0) {
            f.metrics.coldStart(fn.name(), loaded.loadMs());
          }
          return worker.attestation().checkModel(sha, loaded.attestedSha256())
              .<Future<Frame>>map(problem -> Future.failedFuture(new WorkerFailure("attestation_failed", problem)))
              .orElseGet(() -> send(meta, inputs));
        })
        .map(reply -> {
          long computeUs = reply.meta().getLong("compute_us", 0L);
          f.metrics.compute(fn.name(), computeUs);
          return new Reply(reply.meta(), reply.tensors(), worker.workerId(), computeUs, cold);
        })
        .onComplete(ar -> {
          worker.endUse(sha);
          if (kind == Kind.GENERATE) {
            worker.releaseGeneration();
          } else {
            worker.release();
          }
          result.handle(ar);
        });
  }

  private synchronized Future<Frame> send(JsonObject meta, List<Tensor> inputs) {
    if (cancelled != null) {
      // Withdrawn while the model loaded: the worker never hears of it.
      return Future.failedFuture(new WorkerLink.Cancelled(cancelled, nodeAtFault));
    }
    JsonObject m = meta.copy().put("sha256", sha);
    if (kind == Kind.GENERATE) {
      m.put("token_window_ms", fn.spec().text().tokenWindowMs());
    }
    sent = worker.send(kind.frame, m, inputs, onToken);
    return sent.reply();
  }

  /** The checked result (or the failure), on the worker's context. */
  public Future<Reply> future() {
    return result.future();
  }

  /** The worker this call runs on. */
  public Worker worker() {
    return worker;
  }

  /**
   * Withdraws the call. {@code nodeAtFault}: a deadline passed (the node must stop within its grace or
   * be charged); false when nobody waits any more for a reason not the node's (the client left).
   */
  public synchronized void cancel(String why, boolean nodeAtFault) {
    if (cancelled != null || result.future().isComplete()) {
      return;
    }
    this.cancelled = why;
    this.nodeAtFault = nodeAtFault;
    if (sent != null) {
      sent.cancel(why, nodeAtFault);
    }
  }
}
