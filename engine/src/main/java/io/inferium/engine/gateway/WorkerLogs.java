package io.inferium.engine.gateway;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Keeps each worker's log file (its stdout and stderr, appended) under a size: past {@code maxBytes} the file is
 * copied to {@code <name>.1} (replacing the previous one) and truncated in place. The worker writes with
 * {@code O_APPEND}, so it goes on writing at the new end without being told; what it writes between the copy and
 * the truncation is lost (logrotate's {@code copytruncate} has the same window). So a chatty or hostile worker
 * holds at most twice the limit on disk, and never reaches its file-size rlimit (which would kill it).
 */
public final class WorkerLogs {

  /** Environment variable: the size in MiB past which a worker log is rotated. */
  public static final String MAX_MB_ENV = "INFERIUM_WORKER_LOG_MB";
  public static final long DEFAULT_MAX_BYTES = 16L << 20;
  /** How often the sizes are checked. */
  public static final long CHECK_MS = 5_000;

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

  /** Rotates {@code file} when it is larger than {@code maxBytes}; returns whether it did. Blocking: a worker thread's. */
  public static boolean rotateIfLarger(Path file, long maxBytes) throws IOException {
    if (!Files.isRegularFile(file) || Files.size(file) <= maxBytes) {
      return false;
    }
    Path previous = file.resolveSibling(file.getFileName() + ".1");
    Files.copy(file, previous, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(0);
    }
    return true;
  }
}
