package io.inferium.engine.mempool;

import io.inferium.engine.gateway.WorkerCall;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests sent to one worker as one INFER: their inputs concatenated along dimension 0.
 *
 * @param reason why the batch closed: {@code full}, {@code preferred}, {@code delay}, {@code shape} or
 *               {@code unbatched}
 * @param calls  the worker calls running it (one per worker it runs on)
 */
record Batch(List<QueuedRequest> members, long rows, String reason, List<WorkerCall> calls) {

  Batch(List<QueuedRequest> members, long rows, String reason) {
    this(members, rows, reason, new ArrayList<>());
  }

  /**
   * Withdraws every call still running; {@code nodeAtFault} when a deadline passed (the worker must
   * then stop within its grace or be charged), false when the clients left.
   */
  void withdraw(String why, boolean nodeAtFault) {
    calls.forEach(c -> c.cancel(why, nodeAtFault));
  }

  boolean allDone() {
    return members.stream().allMatch(m -> m.state == QueuedRequest.State.DONE);
  }

  /** The members still waiting for an answer. */
  List<QueuedRequest> live() {
    return members.stream().filter(m -> m.state != QueuedRequest.State.DONE).toList();
  }

  /** Whether requests arriving later could still join it (it closed for no reason that holding it would change). */
  boolean couldGrow(BatchPolicy policy) {
    return policy.batching() && rows < policy.maxBatchSize() && !reason.equals("full") && !reason.equals("preferred")
        && !reason.equals("unbatched");
  }

  long[] rowsPerMember() {
    return members.stream().mapToLong(m -> m.rows).toArray();
  }
}
