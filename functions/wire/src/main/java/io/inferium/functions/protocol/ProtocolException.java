package io.inferium.functions.protocol;

/** A peer sent bytes that are not a valid frame; the connection is closed. */
public class ProtocolException extends RuntimeException {
  public ProtocolException(String message) {
    super(message);
  }
}
