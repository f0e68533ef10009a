package io.inferium.functions;

/** A request that clashes with the store's state, e.g. deploying a version that already exists. */
public class FunctionConflictException extends RuntimeException {
  public FunctionConflictException(String message) {
    super(message);
  }
}
