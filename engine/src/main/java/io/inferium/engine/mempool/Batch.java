package io.inferium.engine.mempool;

import io.inferium.engine.protocol.Frame;
import io.vertx.core.Promise;
import java.util.List;

/**
 * Requests sent to one worker as one INFER: their inputs concatenated along dimension 0.
 *
 * @param reason why the batch closed: {@code full}, {@code preferred}, {@code delay}, {@code shape} or
 *               {@code unbatched}
 */
record Batch(List<QueuedRequest> members, long rows, String reason, List<Promise<Frame>> calls) {

  Batch(List<QueuedRequest> members, long rows, String reason) {
    this(members, rows, reason, new java.util.ArrayList<>());
  }

  /** A new worker call of this batch (one per worker it runs on). */
  Promise<Frame> newCall() {
    Promise<Frame> call = Promise.promise();
    calls.add(call);
    return call;
  }

  /**
   * Withdraws every call still running; {@code nodeAtFault} when a deadline passed (the worker must
   * then stop within its grace or be charged), false when the clients left.
   */
  void withdraw(String why, boolean nodeAtFault) {
    calls.forEach(c -> c.tryFail(new io.inferium.engine.gateway.WorkerLink.Cancelled(why, nodeAtFault)));
  }

  boolean allDone() {
    return members.stream().allMatch(m -> m.state == QueuedRequest.State.DONE);
  }

  long[] rowsPerMember() {
    return members.stream().mapToLong(m -> m.rows).toArray();
  }
}
