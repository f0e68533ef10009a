package io.inferium.engine.gateway;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of worker processes, read from {@code /proc}. Blocking: call it off the event loop. */
final class ProcessMemory {

  private ProcessMemory() {}

  /** {real uid, resident bytes} from {@code <proc>/status}; null when the process is gone. */
  static long[] uidAndRss(Path proc) {
    long uid = -1;
    long rss = 0;
    try {
      for (String line : Files.readAllLines(proc.resolve("status"))) {
        if (line.startsWith("Uid:")) {
          uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
        } else if (line.startsWith("VmRSS:")) {
          rss = kib(line);
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      return null; // exited meanwhile
    }
    return uid < 0 ? null : new long[] {uid, rss};
  }

  /** Resident memory of a process and its descendants; -1 when unknown. */
  static long tree(ProcessHandle process) {
    long total = rss(process.pid());
    if (total < 0) {
      return -1;
    }
    for (ProcessHandle child : (Iterable<ProcessHandle>) process.descendants()::iterator) {
      total += Math.max(0, rss(child.pid()));
    }
    return total;
  }

  /** The real uid of a process; -1 when it is gone. */
  static int uid(long pid) {
    for (String line : status(pid)) {
      if (line.startsWith("Uid:")) {
        return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
      }
    }
    return -1;
  }

  private static long rss(long pid) {
    for (String line : status(pid)) {
      if (line.startsWith("VmRSS:")) {
        return kib(line);
      }
    }
    return -1;
  }

  private static java.util.List<String> status(long pid) {
    try {
      return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"));
    } catch (IOException | RuntimeException e) {
      return java.util.List.of(); // exited meanwhile, or not Linux
    }
  }

  private static long kib(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
  }
}
