package io.inferium.engine.failure;

/** No attached worker can take the request now (none alive, or all at their in-flight limit). */
public class NoWorkerAvailable extends RuntimeException {
  public NoWorkerAvailable(String message) {
    super(message, null, false, false);
  }
}
