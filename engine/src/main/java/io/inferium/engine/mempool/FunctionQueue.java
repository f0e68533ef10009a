package io.inferium.engine.mempool;

import io.inferium.functions.FunctionRecord;
import io.inferium.engine.schedule.Levels;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The queue of one function version: a FIFO per priority level (lower number first), bounded in
 * total. Used only on the mempool's context.
 */
final class FunctionQueue {

  final FunctionRecord fn;
  BatchPolicy policy;
  private final Levels<QueuedRequest> levels;
  long delayTimer = -1;
  /** Decides which batches are audited; seeded by function, so a given request order audits the same batches. */

  /** {@code total} counts queued requests across every queue of the mempool. */
  FunctionQueue(FunctionRecord fn, BatchPolicy policy, java.util.concurrent.atomic.AtomicInteger total) {
    this.fn = fn;
    this.policy = policy;
    this.levels = new Levels<>(total);
  }

  FunctionQueue(FunctionRecord fn, BatchPolicy policy) {
    this(fn, policy, new java.util.concurrent.atomic.AtomicInteger());
  }

  int size() {
    return levels.size();
  }

  boolean isEmpty() {
    return levels.isEmpty();
  }

  void add(QueuedRequest r) {
    levels.add(r.priority, r);
  }

  /** Puts requests back at the front of their levels, keeping their order (after a lost worker). */
  void requeue(List<QueuedRequest> rs) {
    for (int i = rs.size() - 1; i >= 0; i--) {
      levels.addFirst(rs.get(i).priority, rs.get(i));
    }
  }

  boolean remove(QueuedRequest r) {
    return levels.remove(r.priority, r);
  }

  /** Queued requests in service order: by priority level, then arrival. */
  List<QueuedRequest> inOrder() {
    return levels.inOrder();
  }

  QueuedRequest head() {
    return levels.peek();
  }

  /**
   * The next batch, or null when it should wait for batch-mates (the caller sets a timer for
   * {@link #waitNanos}). Triton's rules: the delay counts from the oldest queued request; a batch
   * closes when full, at a preferred size, when the delay is spent, or when the next waiting request
   * has a different shape.
   */
  Batch form(long now) {
    QueuedRequest head = head();
    if (head == null) {
      return null;
    }
    if (!policy.batching() || head.solo) {
      return new Batch(List.of(head), Math.max(head.rows, 0), "unbatched");
    }
    List<QueuedRequest> members = new ArrayList<>();
    members.add(head);
    long rows = head.rows;
    long oldest = head.enqueuedNanos;
    boolean full = false;
    boolean otherShapes = false;
    Iterator<QueuedRequest> it = inOrder().iterator();
    while (it.hasNext() && !full) {
      QueuedRequest r = it.next();
      if (r == head) {
        continue;
      }
      if (r.solo || !r.shapeKey.equals(head.shapeKey)) {
        otherShapes = true;
        continue;
      }
      if (rows + r.rows > policy.maxBatchSize()) {
        full = true;
        continue;
      }
      members.add(r);
      rows += r.rows;
      oldest = Math.min(oldest, r.enqueuedNanos);
      full = rows == policy.maxBatchSize();
    }
    String reason;
    if (full) {
      reason = "full";
    } else if (policy.preferredSizes().contains((int) rows)) {
      reason = "preferred";
    } else if (now - oldest >= policy.maxQueueDelayNanos()) {
      reason = "delay";
    } else if (otherShapes) {
      reason = "shape";
    } else {
      return null;
    }
    return new Batch(List.copyOf(members), rows, reason);
  }

  /** How long until the oldest queued request has waited the full delay. */
  long waitNanos(long now) {
    long oldest = Long.MAX_VALUE;
    for (QueuedRequest r : inOrder()) {
      oldest = Math.min(oldest, r.enqueuedNanos);
    }
    return Math.max(0, oldest + policy.maxQueueDelayNanos() - now);
  }
}
