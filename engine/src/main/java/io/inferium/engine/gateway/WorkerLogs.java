package io.inferium.engine.gateway;

/**
 * The size of each worker's output file ({@link WorkerOutput} writes it and, past the limit, moves it to
 * {@code <name>.1} and starts a new one), so a chatty or hostile worker holds at most twice the limit on disk.
 */
public final class WorkerLogs {

  /** Environment variable: the size in MiB past which a worker log is rotated. */
  public static final String MAX_MB_ENV = "INFERIUM_WORKER_LOG_MB";
  public static final long DEFAULT_MAX_BYTES = 16L << 20;

  private WorkerLogs() {
  }

  /** The limit from the environment, or the default; refuses a value that is not a positive number of MiB. */
  public static long maxBytes(java.util.Map<String, String> env) {
    String v = env.get(MAX_MB_ENV);
    if (v == null || v.isBlank()) {
      return DEFAULT_MAX_BYTES;
    }
    try {
      long mb = Long.parseLong(v.strip());
      if (mb > 0) {
        return mb << 20;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException(MAX_MB_ENV + " must be a positive number of MiB, got '" + v + "'");
  }
}
