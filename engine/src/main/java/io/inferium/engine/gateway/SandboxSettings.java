package io.inferium.engine.gateway;

import java.nio.file.Path;
import java.util.Locale;

/**
 * How worker processes are confined (see {@link WorkerSandbox} and docs/SECURITY.md).
 *
 * @param mode          {@link Mode#AUTO}: the file sandbox when the platform allows it, else only the
 *                      clean environment and the limits; {@link Mode#REQUIRED}: refuse to start without it;
 *                      {@link Mode#OFF}: clean environment and limits only
 * @param memoryBytes   resident memory (RSS) a worker may use; above it the worker is killed and named
 * @param cpus          CPU time a worker may use, in cores (cgroup v2 {@code cpu.max}); 0 = unlimited
 * @param uidBase       workers run as uid/gid {@code uidBase + n} (one uid per pool slot), never as the gateway's user
 * @param modelsDir     the model store, the only part of the data directory a worker can read
 * @param scratchRoot   each worker's private, writable directory ({@code HOME}, {@code TMPDIR}) lives under it
 * @param maxFileBytes  largest file a worker may write (RLIMIT_FSIZE)
 * @param maxOpenFiles  open files per worker (RLIMIT_NOFILE)
 * @param maxThreads    processes and threads per worker uid (RLIMIT_NPROC; applied only with a uid of its own)
 */
public record SandboxSettings(Mode mode, long memoryBytes, double cpus, int uidBase, Path modelsDir, Path scratchRoot,
    long maxFileBytes, int maxOpenFiles, int maxThreads) {

  /** Whether the file sandbox is used. */
  public enum Mode {
    AUTO, REQUIRED, OFF;

    public static Mode parse(String s) {
      return switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "auto" -> AUTO;
        case "required", "on" -> REQUIRED;
        case "off" -> OFF;
        default -> throw new IllegalArgumentException("worker sandbox: expected auto, required or off, got " + s);
      };
    }
  }

  public static final long DEFAULT_MEMORY_BYTES = 4L << 30;
  public static final int DEFAULT_UID_BASE = 61_000;
  public static final long DEFAULT_MAX_FILE_BYTES = 1L << 30;
  public static final int DEFAULT_MAX_OPEN_FILES = 4096;
  public static final int DEFAULT_MAX_THREADS = 1024;

  /** The defaults for a data directory. */
  public static SandboxSettings defaults(Path dataDir) {
    return new SandboxSettings(Mode.AUTO, DEFAULT_MEMORY_BYTES, 0, DEFAULT_UID_BASE, dataDir.resolve("models"),
        dataDir.resolve("workers"), DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_OPEN_FILES, DEFAULT_MAX_THREADS);
  }

  public SandboxSettings withMemoryBytes(long bytes) {
    return new SandboxSettings(mode, bytes, cpus, uidBase, modelsDir, scratchRoot, maxFileBytes, maxOpenFiles, maxThreads);
  }

  /** A size such as {@code 512m}, {@code 4g}, {@code 2GiB} or plain bytes. */
  public static long parseBytes(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT).replace("ib", "").replace("b", "");
    long unit = 1;
    char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
    switch (last) {
      case 'k' -> unit = 1L << 10;
      case 'm' -> unit = 1L << 20;
      case 'g' -> unit = 1L << 30;
      case 't' -> unit = 1L << 40;
      default -> { }
    }
    String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
    try {
      long v = Math.multiplyExact(Long.parseLong(digits.trim()), unit);
      if (v <= 0) {
        throw new IllegalArgumentException("a size must be positive, got " + s);
      }
      return v;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("not a size (e.g. 512m, 4g): " + s);
    }
  }

  /** Bytes as an operator reads them: {@code 2 GiB}, {@code 1.3 GiB}, {@code 512 MiB}. */
  public static String describe(long bytes) {
    if (bytes >= 1L << 30) {
      double g = bytes / (double) (1L << 30);
      return (g == Math.rint(g) ? String.valueOf((long) g) : String.format(Locale.ROOT, "%.1f", g)) + " GiB";
    }
    return Math.max(1, Math.round(bytes / (double) (1L << 20))) + " MiB";
  }
}
