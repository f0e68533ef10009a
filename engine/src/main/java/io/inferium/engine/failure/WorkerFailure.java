package io.inferium.engine.failure;

/**
 * A worker answered a request with an error frame ({@code code} as the worker sent it), or the
 * worker was lost while holding the request ({@code code} {@code worker_lost}).
 */
public class WorkerFailure extends RuntimeException {

  public static final String LOST = "worker_lost";

  private final String code;

  public WorkerFailure(String code, String message) {
    super(message);
    this.code = code;
  }

  public String code() {
    return code;
  }

  public boolean lost() {
    return LOST.equals(code);
  }
}
