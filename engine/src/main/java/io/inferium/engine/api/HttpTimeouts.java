package io.inferium.engine.api;

/**
 * How long an HTTP client may take, so that a connection that sends slowly or not at all cannot be
 * held open for ever (slowloris).
 *
 * @param headerTimeoutMs       a new connection must deliver its first request's complete headers within this
 * @param keepAliveTimeoutMs    after a response, the next request's complete headers must arrive within this, or the
 *                              connection is closed
 * @param bodyGraceMs           a request body may take this long, plus {@code bodyBytes / minBodyBytesPerSecond}; past
 *                              that the request is answered 408 and the connection closed
 * @param minBodyBytesPerSecond the slowest average rate at which a body may arrive after the grace
 * @param idleTimeoutS          a connection with no bytes in either direction for this long is closed (Vert.x's idle
 *                              timeout, which counts reads and writes); above the longest request deadline, so a quiet
 *                              but legitimate request is never cut, and SSE streams send a keepalive comment every 15 s
 * @param lingerMs              after an early answer (401, 403, 413, 429 before the body was read), how long the
 *                              server keeps discarding the rest of the body before it closes, so the client reads the answer
 */
public record HttpTimeouts(long headerTimeoutMs, long keepAliveTimeoutMs, long bodyGraceMs, long minBodyBytesPerSecond,
    int idleTimeoutS, long lingerMs) {

  public static final long DEFAULT_HEADER_TIMEOUT_MS = 10_000;
  public static final long DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
  public static final long DEFAULT_BODY_GRACE_MS = 30_000;
  public static final long DEFAULT_MIN_BODY_BYTES_PER_SECOND = 64 << 10;
  /** Longer than the longest function deadline ({@code timeout_ms} ≤ 600 s). */
  public static final int DEFAULT_IDLE_TIMEOUT_S = 660;
  public static final long DEFAULT_LINGER_MS = 2_000;

  public HttpTimeouts {
    if (headerTimeoutMs <= 0 || keepAliveTimeoutMs <= 0 || bodyGraceMs <= 0 || minBodyBytesPerSecond <= 0
        || idleTimeoutS < 0 || lingerMs < 0) {
      throw new IllegalArgumentException("HTTP timeouts must be positive");
    }
  }

  public static HttpTimeouts defaults() {
    return new HttpTimeouts(DEFAULT_HEADER_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_TIMEOUT_MS, DEFAULT_BODY_GRACE_MS,
        DEFAULT_MIN_BODY_BYTES_PER_SECOND, DEFAULT_IDLE_TIMEOUT_S, DEFAULT_LINGER_MS);
  }
}
