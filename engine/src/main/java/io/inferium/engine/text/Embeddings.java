package io.inferium.engine.text;

import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Runs embedding requests: one EMBED call per request (the worker batches the request's inputs in
 * one run) on a worker with room, under the function's deadline, checking the worker's signature
 * over the vectors it returns. When every worker is at its in-flight limit the caller gets a fast
 * 503 with Retry-After rather than an unbounded wait.
 */
public final class Embeddings {

  /** The vectors (row-major float32, {@code count × dim}) and what they cost in tokens. */
  public record Result(Tensor vectors, int promptTokens, long computeMicros, String workerId) {}

  private final TextCalls calls;

  public Embeddings(Vertx vertx, Dispatcher dispatcher, TextLoad load) {
    this.calls = new TextCalls(vertx, dispatcher, load);
  }

  public Future<Result> embed(FunctionRecord fn, List<String> inputs, long deadlineNanos) {
    JsonObject meta = new JsonObject().put("input", new JsonArray(inputs))
        .put("pooling", fn.spec().text().pooling()).put("normalize", fn.spec().text().normalize());
    return calls.call(fn, FrameType.EMBED, meta, deadlineNanos, "the embedding")
        .map(r -> new Result(r.frame().tensors().get(0), r.frame().meta().getInteger("prompt_tokens", 0),
            r.frame().meta().getLong("compute_us", 0L), r.workerId()));
  }
}
