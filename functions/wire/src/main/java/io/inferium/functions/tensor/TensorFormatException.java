package io.inferium.functions.tensor;

/**
 * A tensor the client described wrongly: a missing or mistyped field, a shape that does not match
 * the data, a value outside its datatype. The message names the tensor and says what was expected
 * and what was got, so the HTTP edge can return it as a 400 body as is.
 */
public class TensorFormatException extends RuntimeException {

  TensorFormatException(String message) {
    super(message);
  }
}
