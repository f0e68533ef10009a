package io.inferium.functions;

/** A deploy spec the client got wrong; the message names the field, what was expected and what came. */
public class InvalidSpecException extends IllegalArgumentException {
  public InvalidSpecException(String message) {
    super(message);
  }
}
