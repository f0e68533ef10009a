package io.inferium.engine.schedule;

import io.inferium.engine.failure.WorkerFailure;

/**
 * When a job goes back to its queue after a failed run: only when its worker was lost (any other
 * failure would repeat on another worker), fewer than {@link #MAX_ATTEMPTS} runs so far, its deadline
 * not passed, and nothing of it streamed to the client yet (who already holds part of an answer).
 */
public final class Failover {

  /** Runs per job before a lost worker's failure is passed on. */
  public static final int MAX_ATTEMPTS = 3;

  private Failover() {}

  /** Whether to run the job again after {@code cause}. */
  public static boolean again(Throwable cause, int attempts, long deadlineNanos, boolean streamedAnything) {
    return lost(cause) && again(attempts, deadlineNanos, streamedAnything);
  }

  /**
   * Whether a job that must run again (its worker lost, or a redundant run disputed) still may: the
   * attempt, deadline and streaming bounds without the cause.
   */
  public static boolean again(int attempts, long deadlineNanos, boolean streamedAnything) {
    return attempts < MAX_ATTEMPTS && deadlineNanos - System.nanoTime() > 0 && !streamedAnything;
  }

  /** Whether {@code cause} says the worker went away (so another worker may well succeed). */
  public static boolean lost(Throwable cause) {
    return cause instanceof WorkerFailure wf && wf.lost();
  }
}
