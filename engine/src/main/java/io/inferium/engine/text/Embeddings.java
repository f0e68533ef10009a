package io.inferium.engine.text;

import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Runs embedding requests: one EMBED call per request (the worker batches the request's inputs in
 * one run), admitted and queued by the text scheduler ({@link Generations}) under the function's
 * deadline; the worker call checks the worker's signature over the vectors it returns. A momentarily
 * busy worker means a short wait in a bounded queue; a full queue means 429 with Retry-After.
 */
public final class Embeddings {

  /** The vectors (row-major float32, {@code count × dim}) and what they cost in tokens. */
  public record Result(Tensor vectors, int promptTokens, long computeMicros, String workerId, String verdict) {}

  private final Generations scheduler;

  /** Calls go through {@code scheduler}: queued (bounded, by deadline) like generations, not refused while a worker is busy. */
  public Embeddings(Generations scheduler) {
    this.scheduler = scheduler;
  }

  public Future<Result> embed(FunctionRecord fn, List<String> inputs, long deadlineNanos) {
    JsonObject meta = new JsonObject().put("input", new JsonArray(inputs))
        .put("pooling", fn.spec().text().pooling()).put("normalize", fn.spec().text().normalize());
    return scheduler.call(fn, WorkerCall.Kind.EMBED, meta, deadlineNanos)
        .map(r -> new Result(r.outputs().get(0), r.meta().getInteger("prompt_tokens", 0), r.computeMicros(),
            r.workerId(), r.meta().containsKey("verification") ? r.meta().getJsonObject("verification").getString("verdict")
            : null));
  }
}
