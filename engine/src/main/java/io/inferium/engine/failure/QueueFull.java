package io.inferium.engine.failure;

/**
 * A queue is at its limit (a function's own bound or the scheduler's global one); the client should
 * retry after {@link #retryAfterSeconds()} (HTTP 429 with Retry-After, the same on every route).
 */
public class QueueFull extends RuntimeException {

  /** What every scheduler suggests when no better estimate exists: queues drain within about a second. */
  public static final int DEFAULT_RETRY_AFTER_SECONDS = 1;

  private final int retryAfterSeconds;

  public QueueFull(String message) {
    this(message, DEFAULT_RETRY_AFTER_SECONDS);
  }

  public QueueFull(String message, int retryAfterSeconds) {
    super(message, null, false, false);
    this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
  }

  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
