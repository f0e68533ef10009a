package io.inferium.engine.schedule;

import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.failure.QueueFull;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The admission rules every scheduler applies the same way: a deadline already passed fails at once,
 * a full function queue or a full scheduler answers {@link QueueFull} (429 with Retry-After). The
 * global count is shared by every queue of one scheduler and readable from any thread.
 *
 * @param globalLimit jobs one scheduler holds queued, over all its functions
 */
public record Admission(int globalLimit, AtomicInteger queued) {

  /** The default global bound: far above any one function's default, so it only stops a flood over many functions. */
  public static final int DEFAULT_GLOBAL_LIMIT = 16_384;

  public Admission(int globalLimit) {
    this(globalLimit, new AtomicInteger());
  }

  /**
   * Why a job may not join a queue now, or null when it may. {@code what} names the queue ("the queue
   * of f:1"), {@code size} and {@code limit} are that queue's.
   */
  public RuntimeException refuse(String what, int size, int limit, long deadlineNanos) {
    if (deadlineNanos - System.nanoTime() <= 0) {
      return new DeadlineExceeded("the request's deadline passed before it was queued");
    }
    if (size >= limit) {
      return new QueueFull(what + " is full: " + size + " requests are already waiting");
    }
    if (queued.get() >= globalLimit) {
      return new QueueFull("the gateway holds " + queued.get() + " queued requests, its limit");
    }
    return null;
  }
}
