package io.inferium.engine.failure;

/**
 * A scheduler refused a request because of the request itself (more rows than the function's batch
 * limit, say): the routes answer 400 with this message, which names what was wrong.
 */
public class BadRequest extends RuntimeException {
  public BadRequest(String message) {
    super(message, null, false, false);
  }
}
