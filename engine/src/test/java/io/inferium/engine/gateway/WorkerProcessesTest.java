package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The memory watch's scan of worker-uid processes: a process is found however it was started, including one
 * that hides its {@code /proc} files behind root's ownership, while a quiet machine costs a stat per process,
 * not a status file. Real processes under a real uid (needs root and util-linux's setpriv).
 */
class WorkerProcessesTest {

  // A uid range no real worker uses: the processes here are this test's own.
  private static final int BASE = 3_500_000 + (int) (ProcessHandle.current().pid() % 100_000) * 10;

  @Test
  void aProcessUnderAWorkerUidIsCountedEvenWhenItMakesItselfUndumpable() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/setpriv")),
        "needs root and setpriv");
    String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    WorkerProcesses scan = new WorkerProcesses(BASE);
    assertTrue(scan.residentByUid().isEmpty(), "nothing runs as the test's uids yet");

    // The attack: a process of a worker uid turns its dumpable flag off, so the kernel shows its /proc files as
    // root's (a scan that trusted file owners would skip it); it then takes 64 MiB. It was not running at the last
    // scan, so the scan reads its status, which names its real uid.
    int uid = BASE + 1;
    Process p = new ProcessBuilder("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", python, "-c",
        "import ctypes, sys, time\n"
            + "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"
            + "b = bytearray(64 << 20)\n"
            + "for i in range(0, len(b), 4096): b[i] = 1\n"
            + "print('ready', flush=True)\n"
            + "sys.stdin.read()\n").redirectErrorStream(true).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      assertEquals("ready", out.readLine());
      assertEquals(0, (Integer) Files.getAttribute(Path.of("/proc", Long.toString(p.pid()), "status"), "unix:uid"),
          "an undumpable process's /proc files belong to root");
      Map<Integer, Long> found = scan.residentByUid();
      assertTrue(found.getOrDefault(uid, 0L) >= 64L << 20, "the hidden process's memory: " + found);

      // Steady state: processes seen before and unchanged cost a stat, not a status read; the worker-uid one is
      // read again (its memory changes). Other processes the machine starts meanwhile are read once each.
      long processes;
      try (var s = Files.list(Path.of("/proc"))) {
        processes = s.filter(f -> f.getFileName().toString().chars().allMatch(Character::isDigit)).count();
      }
      long before = scan.statusReads();
      Map<Integer, Long> again = scan.residentByUid();
      long reads = scan.statusReads() - before;
      assertTrue(again.getOrDefault(uid, 0L) >= 64L << 20, again.toString());
      assertTrue(reads >= 1 && reads < processes / 2, reads + " status reads for " + processes + " processes");
    } finally {
      p.destroyForcibly().waitFor();
    }
    // Gone: the next scan no longer counts it.
    assertTrue(scan.residentByUid().getOrDefault(uid, 0L) == 0L, "an exited process is not counted");
  }
}
