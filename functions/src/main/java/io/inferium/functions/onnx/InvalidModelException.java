package io.inferium.functions.onnx;

/**
 * The bytes are not a readable ONNX model. The message says what is wrong and, for wire-format
 * errors, where: {@code "not an ONNX model: truncated message at byte 1234"}.
 */
public class InvalidModelException extends Exception {

  public InvalidModelException(String message) {
    super(message);
  }

  public InvalidModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
