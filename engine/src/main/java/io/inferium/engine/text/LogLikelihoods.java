package io.inferium.engine.text;

import io.inferium.engine.gateway.WorkerCall;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Log-likelihoods of continuations after a context from a text-generation function (multiple-choice
 * scoring): one SCORE call to a worker with room, run on that function's decode thread between
 * steps, under a deadline, the worker's signature over the returned values checked. Like
 * {@link Embeddings}, queued by the text scheduler while no worker has room.
 */
public final class LogLikelihoods {

  /** Per continuation: total log-probability, tokens, whether greedy decoding yields it; and the cost in tokens. */
  public record Result(double[] logLikelihoods, int[] tokens, boolean[] greedy, int promptTokens, long computeMicros) {}

  private final Generations scheduler;

  /** Calls go through {@code scheduler}: queued (bounded, by deadline) like generations, not refused while a worker is busy. */
  public LogLikelihoods(Generations scheduler) {
    this.scheduler = scheduler;
  }

  public Future<Result> score(FunctionRecord fn, String context, List<String> continuations, long deadlineNanos) {
    JsonObject meta = new JsonObject().put("context", context).put("continuations", new JsonArray(continuations));
    return scheduler.call(fn, WorkerCall.Kind.SCORE, meta, deadlineNanos)
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
          return new Result(Tensors.toDoubleArray(reply.outputs().get(0)), t, g, reply.meta().getInteger("prompt_tokens", 0),
              reply.computeMicros());
        });
  }
}
