package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** Two gateways on one machine never hand the same worker uid to two live workers. */
class WorkerUidsTest {

  // A base no real worker uses, so claiming kills nothing.
  private static final int BASE = 3_000_000 + (int) (ProcessHandle.current().pid() % 100_000) * 10;

  @Test
  void aUidHeldByOneGatewayIsSkippedByAnotherAndReusedOnceReleased() throws Exception {
    WorkerUids one = new WorkerUids(BASE, true);
    WorkerUids other = new WorkerUids(BASE, true);
    int a = one.claim();
    int b = other.claim();
    assertEquals(1, a);
    assertNotEquals(a, b, "the second gateway must not get the first one's uid");
    assertEquals(BASE + b, other.uid(b));
    int c = one.claim();
    assertNotEquals(b, c);
    one.stopLeftovers(a, "w1");
    one.release(a);
    assertEquals(a, other.claim(), "a released uid is free again");
    other.release(b);
    one.release(c);
  }

  @Test
  void anotherProcessCannotTakeAUidWhileAGatewayOfThisJvmHoldsIt() throws Exception {
    // The second gateway of this JVM looks past the first one's uid without touching its lock file: closing a
    // channel on it would drop this process's lock (POSIX record locks), and another process could claim the uid.
    WorkerUids one = new WorkerUids(BASE + 5_000, true);
    WorkerUids other = new WorkerUids(BASE + 5_000, true);
    int a = one.claim();
    int b = other.claim();
    assertNotEquals(a, b);
    java.nio.file.Path file = java.nio.file.Path.of(java.nio.file.Files.isDirectory(java.nio.file.Path.of("/run"))
        ? "/run" : System.getProperty("java.io.tmpdir"), "inferium-worker-uids", (BASE + 5_000 + a) + ".lock");
    Process probe = new ProcessBuilder("python3", "-c", "import fcntl, sys\n"
        + "f = open(sys.argv[1], 'w')\n"
        + "try:\n    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('taken')\n"
        + "except OSError:\n    print('held')\n", file.toString()).redirectErrorStream(true).start();
    String said = new String(probe.getInputStream().readAllBytes()).strip();
    probe.waitFor();
    assertEquals("held", said, "another process must find the uid's lock held");
    one.release(a);
    other.release(b);
  }

  @Test
  void withoutUidsOfTheirOwnSlotsOnlyNameScratchDirectories() throws Exception {
    WorkerUids plain = new WorkerUids(BASE, false);
    assertEquals(1, plain.claim());
    assertEquals(2, plain.claim());
    assertEquals(-1, plain.uid(1));
  }
}
