package io.inferium.engine.api;

/**
 * An error with the HTTP status it answers with. {@code retryAfterSeconds} > 0 adds a
 * {@code Retry-After} header (429, 503).
 */
public class ApiError extends RuntimeException {

  private final int status;
  private final int retryAfterSeconds;

  public ApiError(int status, String message) {
    this(status, message, 0);
  }

  public ApiError(int status, String message, int retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public int status() {
    return status;
  }

  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public static ApiError badRequest(String message) {
    return new ApiError(400, message);
  }

  public static ApiError notFound(String message) {
    return new ApiError(404, message);
  }
}
