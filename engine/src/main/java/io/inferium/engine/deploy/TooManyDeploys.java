package io.inferium.engine.deploy;

/** The verification queue is full; the client should retry later. */
public class TooManyDeploys extends RuntimeException {
  public TooManyDeploys(String message) {
    super(message, null, false, false);
  }
}
