package io.inferium.engine.mempool;

import io.inferium.functions.FunctionRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The queue of one function version: a FIFO per priority level (lower number first), bounded in
 * total. Used only on the mempool's context.
 */
final class FunctionQueue {

  final FunctionRecord fn;
  BatchPolicy policy;
  private final TreeMap<Integer, ArrayDeque<QueuedRequest>> levels = new TreeMap<>();
  private int size;
  long delayTimer = -1;
  /** Decides which batches are audited; seeded by function, so a given request order audits the same batches. */
  final java.util.Random auditRandom;
  private final java.util.concurrent.atomic.AtomicInteger total;

  /** {@code total} counts queued requests across every queue of the mempool. */
  FunctionQueue(FunctionRecord fn, BatchPolicy policy, java.util.concurrent.atomic.AtomicInteger total) {
    this.fn = fn;
    this.policy = policy;
    this.total = total;
    this.auditRandom = new java.util.Random(fn.ref().hashCode());
  }

  FunctionQueue(FunctionRecord fn, BatchPolicy policy) {
    this(fn, policy, new java.util.concurrent.atomic.AtomicInteger());
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void add(QueuedRequest r) {
    levels.computeIfAbsent(r.priority, p -> new ArrayDeque<>()).addLast(r);
    size++;
    total.incrementAndGet();
  }

  /** Puts requests back at the front of their levels, keeping their order (after a lost worker). */
  void requeue(List<QueuedRequest> rs) {
    for (int i = rs.size() - 1; i >= 0; i--) {
      QueuedRequest r = rs.get(i);
      levels.computeIfAbsent(r.priority, p -> new ArrayDeque<>()).addFirst(r);
      size++;
      total.incrementAndGet();
    }
  }

  boolean remove(QueuedRequest r) {
    ArrayDeque<QueuedRequest> level = levels.get(r.priority);
    if (level != null && level.remove(r)) {
      size--;
      total.decrementAndGet();
      if (level.isEmpty()) {
        levels.remove(r.priority);
      }
      return true;
    }
    return false;
  }

  /** Queued requests in service order: by priority level, then arrival. */
  List<QueuedRequest> inOrder() {
    List<QueuedRequest> out = new ArrayList<>(size);
    for (ArrayDeque<QueuedRequest> level : levels.values()) {
      out.addAll(level);
    }
    return out;
  }

  QueuedRequest head() {
    Map.Entry<Integer, ArrayDeque<QueuedRequest>> first = levels.firstEntry();
    return first == null ? null : first.getValue().peekFirst();
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
