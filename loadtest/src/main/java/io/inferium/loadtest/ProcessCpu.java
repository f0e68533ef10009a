package io.inferium.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * CPU time of this JVM and of the processes it started (the gateway's worker JVMs, the embedded
 * PostgreSQL), read from {@code /proc/<pid>/stat}: how the two cores were shared during a run.
 * Linux only; elsewhere the snapshots are empty.
 */
final class ProcessCpu {

  /** {@code USER_HZ}: the unit of {@code utime} and {@code stime}, 100 on every Linux this runs on. */
  static final double TICKS_PER_SECOND = 100;
  static final String THIS_JVM = "this JVM";
  static final String WORKERS = "workers";
  static final String POSTGRES = "postgres";

  /** CPU ticks per group of processes at {@code nanos}. */
  record Snapshot(long nanos, Map<String, Long> ticks) {}

  private ProcessCpu() {}

  static Snapshot snapshot() {
    Map<String, Long> ticks = new TreeMap<>();
    ProcessHandle self = ProcessHandle.current();
    ticks(self.pid()).ifPresent(t -> ticks.merge(THIS_JVM, t, Long::sum));
    self.descendants().forEach(p -> {
      String command = p.info().command().orElse("");
      String group = command.endsWith("java") ? WORKERS : command.contains("postgres") ? POSTGRES : "other";
      ticks(p.pid()).ifPresent(t -> ticks.merge(group, t, Long::sum));
    });
    return new Snapshot(System.nanoTime(), ticks);
  }

  /** Cores busy per group between two snapshots: CPU seconds over wall seconds. Processes that exited are lost. */
  static Map<String, Double> cores(Snapshot before, Snapshot after) {
    double wall = (after.nanos() - before.nanos()) / 1e9;
    Map<String, Double> out = new TreeMap<>();
    if (wall <= 0) {
      return out;
    }
    after.ticks().forEach((group, t) -> out.put(group,
        Math.max(0, t - before.ticks().getOrDefault(group, 0L)) / TICKS_PER_SECOND / wall));
    return out;
  }

  /** CPU time of this process (every thread, native ones too), or -1 where the platform does not say. */
  static long selfCpuNanos() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  private static Optional<Long> ticks(long pid) {
    try {
      return Optional.of(parseTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** utime + stime from a {@code /proc/<pid>/stat} line; the command name in parentheses may hold spaces. */
  static long parseTicks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
    // after ")": state(3) ppid(4) ... utime(14) stime(15), so indexes 11 and 12
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
