package io.inferium.engine.gateway;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands out worker slots: each live worker gets its own slot n, hence its own uid {@code base + n}
 * and scratch directory, also while a predecessor of the same pool position still exits. Worker uids
 * are shared by every gateway on the machine, so a uid is this gateway's only while it holds the
 * uid's lock file (the kernel releases it when the gateway dies, even by kill -9); processes left
 * running as a uid are killed when it is claimed and when its worker exits. Blocking: call it off
 * the event loop.
 */
final class WorkerUids {

  private static final Logger log = LoggerFactory.getLogger(WorkerUids.class);
  private static final Path LOCKS = Path.of(Files.isDirectory(Path.of("/run")) ? "/run" : System.getProperty("java.io.tmpdir"),
      "inferium-worker-uids");
  private static final int MAX_SLOTS = 4000;
  /**
   * Uids whose lock file a gateway in this JVM holds (tests run several gateways in one JVM). A second channel on
   * such a file must never be opened: closing it would release the JVM's lock on the file (POSIX record locks belong
   * to the process, and closing any descriptor of the file drops them), and a gateway in another process could then
   * claim the uid and kill the workers running as it.
   */
  private static final java.util.Set<Integer> HELD_IN_JVM = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final int base;
  private final boolean ownUids;
  private final BitSet inUse = new BitSet();
  private final Map<Integer, FileChannel> locks = new HashMap<>();

  /** {@code ownUids}: slots map to uids that must be exclusive (the file sandbox); otherwise they only name scratch directories. */
  WorkerUids(int base, boolean ownUids) {
    this.base = base;
    this.ownUids = ownUids;
  }

  /** The lowest slot that no live worker of any gateway here holds. */
  synchronized int claim() throws IOException {
    if (!ownUids) {
      int slot = inUse.nextClearBit(1);
      inUse.set(slot);
      return slot;
    }
    Files.createDirectories(LOCKS);
    for (int slot = inUse.nextClearBit(1); slot < MAX_SLOTS; slot = inUse.nextClearBit(slot + 1)) {
      if (!HELD_IN_JVM.add(base + slot)) {
        continue; // another gateway in this JVM (tests) holds it
      }
      FileChannel ch;
      boolean ours;
      try {
        ch = FileChannel.open(LOCKS.resolve((base + slot) + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      } catch (IOException | RuntimeException e) {
        HELD_IN_JVM.remove(base + slot);
        throw e;
      }
      try {
        ours = ch.tryLock() != null;
      } catch (OverlappingFileLockException e) {
        ours = false;
      }
      if (!ours) {
        ch.close(); // no other channel of this JVM is open on the file, so no lock of ours goes with it
        HELD_IN_JVM.remove(base + slot);
        continue;
      }
      inUse.set(slot);
      locks.put(slot, ch);
      killAll(base + slot, "a gateway that died");
      return slot;
    }
    throw new IOException("all " + MAX_SLOTS + " worker uids from " + base + " are taken");
  }

  int uid(int slot) {
    return ownUids ? base + slot : -1;
  }

  /** Once its worker exited: kills whatever still runs as the slot's uid. */
  void stopLeftovers(int slot, String workerId) {
    if (ownUids) {
      killAll(base + slot, "worker " + workerId);
    }
  }

  /** Frees a slot (after {@link #stopLeftovers} and the scratch directory's removal). */
  synchronized void release(int slot) {
    inUse.clear(slot);
    FileChannel lock = locks.remove(slot);
    if (lock != null) {
      try {
        lock.close();
      } catch (IOException e) {
        // closing releases the lock either way
      }
      HELD_IN_JVM.remove(base + slot);
    }
  }

  /** Kills every process running as {@code uid} (one that detached from its worker, say). */
  private static void killAll(int uid, String owner) {
    ProcessHandle.allProcesses().forEach(p -> {
      if (ProcessMemory.uid(p.pid()) == uid) {
        log.warn("Killing process {} (uid {}) left behind by {}", p.pid(), uid, owner);
        p.destroyForcibly();
      }
    });
  }
}
