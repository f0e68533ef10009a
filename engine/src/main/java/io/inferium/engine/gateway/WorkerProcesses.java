package io.inferium.engine.gateway;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The machine's processes that run as worker uids (real uid from {@code base} on) and their resident
 * memory, scanned every memory tick. A process's real uid is read from its {@code /proc/<pid>/status} once,
 * when the process is first seen; later scans only {@code stat} its {@code /proc/<pid>} directory (one system
 * call, no text to build) and read the status again when that directory changed: another inode (the pid was
 * reused by a new process) or another owner (the directory shows the effective uid, also for a process that
 * turned its dumpable flag off, whose files inside show root: e.g. when the sandbox's launcher drops root). Processes already known to run as a worker uid are read every
 * scan, for their memory. A real uid leaves root only through a privileged {@code setuid}, which the launcher
 * follows with an {@code exec} (new owner); a worker process cannot hide behind another uid, and its children
 * are new pids. Every {@link #FULL_SCAN_EVERY}th scan reads every status again regardless.
 *
 * <p>Blocking and not thread-safe: one scan at a time, off the event loop.
 */
final class WorkerProcesses {

  static final int FULL_SCAN_EVERY = 20;
  private static final Path PROC = Path.of("/proc");

  /** What a pid's directory looked like when its status was read, and the real uid found there. */
  private record Seen(long inode, int owner, int uid) {
  }

  private final int minUid;
  private final Map<Long, Seen> seen = new HashMap<>();
  private int scans;
  private long statusReads;

  WorkerProcesses(int minUid) {
    this.minUid = minUid;
  }

  /** Resident bytes per worker uid, summed over every process running as it. */
  synchronized Map<Integer, Long> residentByUid() {
    boolean full = scans++ % FULL_SCAN_EVERY == 0;
    Map<Integer, Long> out = new HashMap<>();
    Set<Long> alive = new HashSet<>();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, p -> isPid(p.getFileName().toString()))) {
      for (Path proc : procs) {
        long pid = Long.parseLong(proc.getFileName().toString());
        long inode;
        int owner;
        try {
          Map<String, Object> attrs = Files.readAttributes(proc, "unix:ino,uid"); // one stat(2)
          inode = (Long) attrs.get("ino");
          owner = (Integer) attrs.get("uid");
        } catch (IOException | RuntimeException e) {
          continue; // exited meanwhile
        }
        alive.add(pid);
        Seen known = seen.get(pid);
        boolean same = !full && known != null && known.owner() == owner && known.inode() == inode;
        if (same && known.uid() < minUid) {
          continue;
        }
        long[] uidRss = ProcessMemory.uidAndRss(proc);
        statusReads++;
        if (uidRss == null) {
          seen.remove(pid);
          continue;
        }
        int uid = (int) uidRss[0];
        seen.put(pid, new Seen(inode, owner, uid));
        if (uid >= minUid) {
          out.merge(uid, uidRss[1], Long::sum);
        }
      }
    } catch (IOException e) {
      return out; // no /proc (not Linux): nothing to watch
    }
    seen.keySet().retainAll(alive);
    return out;
  }

  /** Status files read so far (for tests: a quiet machine costs one stat per process per scan). */
  synchronized long statusReads() {
    return statusReads;
  }

  private static boolean isPid(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (!Character.isDigit(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }
}
