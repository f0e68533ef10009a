package io.inferium.engine.failure;

/** A request's deadline passed before its result came back. */
public class DeadlineExceeded extends RuntimeException {
  public DeadlineExceeded(String message) {
    super(message, null, false, false);
  }
}
