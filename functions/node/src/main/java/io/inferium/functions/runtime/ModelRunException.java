package io.inferium.functions.runtime;

/**
 * The runtime refused or failed a load or a run; the message is ONNX Runtime's, prefixed with what
 * Inferium was doing. {@code clientError} marks failures caused by the request's tensors.
 */
public class ModelRunException extends Exception {
  private final boolean clientError;

  public ModelRunException(String message, boolean clientError, Throwable cause) {
    super(message, cause);
    this.clientError = clientError;
  }

  public boolean clientError() {
    return clientError;
  }
}
