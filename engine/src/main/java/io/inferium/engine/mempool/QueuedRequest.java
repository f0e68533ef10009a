package io.inferium.engine.mempool;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Comparator;
import java.util.List;

/**
 * One inference request from acceptance to answer. Its state changes only on the mempool's context;
 * its answer is delivered on the caller's context, exactly once.
 */
public final class QueuedRequest implements io.inferium.engine.schedule.Ticket<Mempool.Outcome> {

  enum State { QUEUED, RUNNING, DONE }

  final String id;
  final FunctionRecord fn;
  final List<Tensor> inputs;
  final List<String> outputs;
  final int priority;
  final long deadlineNanos;
  final long enqueuedNanos;
  final long rows;
  final String shapeKey;
  /** This request's verification policy: the function's unless the request overrode it. */
  final io.inferium.functions.FunctionSpec.Verification verification;
  private final Context caller;
  private final Promise<Mempool.Outcome> promise = Promise.promise();
  private final Mempool mempool;
  State state = State.QUEUED;
  long deadlineTimer = -1;
  int attempts;
  boolean solo;
  Batch batch;

  QueuedRequest(Mempool mempool, FunctionRecord fn, List<Tensor> inputs, List<String> outputs, int priority,
      long deadlineNanos, Context caller) {
    this(mempool, null, fn, inputs, outputs, priority, deadlineNanos, caller, null);
  }

  QueuedRequest(Mempool mempool, String id, FunctionRecord fn, List<Tensor> inputs, List<String> outputs, int priority,
      long deadlineNanos, Context caller, io.inferium.functions.FunctionSpec.Verification override) {
    this.verification = override != null ? override : fn.spec().verification();
    this.id = id != null ? id : java.util.UUID.randomUUID().toString();
    this.mempool = mempool;
    this.fn = fn;
    this.inputs = inputs;
    this.outputs = outputs;
    this.priority = priority;
    this.deadlineNanos = deadlineNanos;
    this.enqueuedNanos = System.nanoTime();
    this.caller = caller;
    this.rows = commonRows(inputs);
    this.solo = rows < 0;
    this.shapeKey = shapeKey(inputs, outputs, verification);
  }

  /** Rows along dimension 0 shared by every input, or -1 when they differ (such a request runs alone). */
  private static long commonRows(List<Tensor> inputs) {
    long rows = -1;
    for (Tensor t : inputs) {
      if (t.shape().length == 0 || (rows >= 0 && t.shape()[0] != rows)) {
        return -1;
      }
      rows = t.shape()[0];
    }
    return rows;
  }

  /**
   * Requests with equal keys can share a batch: same inputs, dtypes, trailing dimensions, outputs and verification
   * policy. Built per request, so without streams or a record's {@code toString} (doubles formatted) for the usual
   * policy {@code none}.
   */
  private static String shapeKey(List<Tensor> inputs, List<String> outputs,
      io.inferium.functions.FunctionSpec.Verification verification) {
    List<Tensor> sorted = inputs;
    for (int i = 1; i < inputs.size(); i++) {
      if (inputs.get(i - 1).name().compareTo(inputs.get(i).name()) > 0) {
        sorted = new java.util.ArrayList<>(inputs);
        sorted.sort(Comparator.comparing(Tensor::name));
        break;
      }
    }
    StringBuilder key = new StringBuilder(64);
    for (Tensor t : sorted) {
      key.append(t.name()).append(':').append(t.type()).append('[');
      long[] shape = t.shape();
      for (int d = shape.length > 0 ? 1 : 0; d < shape.length; d++) {
        key.append(shape[d]).append(',');
      }
      key.append("];");
    }
    key.append("->").append(outputs).append('|');
    return "none".equals(verification.policy()) ? key.append("none").toString() : key.append(verification).toString();
  }

  /** The answer, on the context that submitted the request. */
  @Override
  public Future<Mempool.Outcome> future() {
    return promise.future();
  }

  /** The client is gone: drop the request if queued, or stop waiting for it if running. */
  @Override
  public void cancel() {
    mempool.cancel(this);
  }

  void complete(Mempool.Outcome outcome) {
    state = State.DONE;
    caller.runOnContext(v -> promise.tryComplete(outcome));
  }

  void fail(Throwable error) {
    state = State.DONE;
    caller.runOnContext(v -> promise.tryFail(error));
  }
}
