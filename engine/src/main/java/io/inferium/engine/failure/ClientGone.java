package io.inferium.engine.failure;

/** The client went away before its answer; nobody is left to answer. */
public class ClientGone extends RuntimeException {
  public ClientGone(String message) {
    super(message, null, false, false);
  }
}
