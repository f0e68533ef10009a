package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cgroup v2 files a worker's limits are written to. The project's machines have no delegated
 * cgroup v2 memory controller, so this runs against a directory laid out like one.
 */
class CgroupV2Test {

  @Test
  void aPopulatedGroupMovesTheGatewayToALeafEnablesControllersAndLimitsEachWorker(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
    Files.writeString(dir.resolve("cgroup.subtree_control"), "");
    Files.writeString(dir.resolve("cgroup.procs"), "4242\n");
    String[] why = {""};
    Optional<CgroupV2> cg = CgroupV2.at(dir, why);
    assertTrue(cg.isPresent(), why[0]);
    assertEquals("4242", Files.readString(dir.resolve("inferium-gateway/cgroup.procs")));
    assertEquals("+memory +cpu", Files.readString(dir.resolve("cgroup.subtree_control")));

    Path group = cg.get().create("w1-1", 640L << 20, 1.5);
    assertEquals(dir.resolve("inferium-w1-1"), group);
    assertEquals(Long.toString(640L << 20), Files.readString(group.resolve("memory.max")));
    assertEquals("150000 100000", Files.readString(group.resolve("cpu.max")));

    assertEquals(0, CgroupV2.oomKills(group));
    Files.writeString(group.resolve("memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    assertEquals(1, CgroupV2.oomKills(group));
  }

  @Test
  void withoutTheMemoryControllerThereIsNoCgroupLimit(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("cgroup.controllers"), "hugetlb\n");
    Files.writeString(dir.resolve("cgroup.subtree_control"), "");
    String[] why = {""};
    assertTrue(CgroupV2.at(dir, why).isEmpty());
    assertTrue(why[0].contains("no memory controller"), why[0]);
  }

  @Test
  void sizesParseAndPrintAsOperatorsWriteThem() {
    assertEquals(512L << 20, SandboxSettings.parseBytes("512m"));
    assertEquals(4L << 30, SandboxSettings.parseBytes("4GiB"));
    assertEquals(2L << 30, SandboxSettings.parseBytes("2g"));
    assertEquals(1000, SandboxSettings.parseBytes("1000"));
    assertEquals("2 GiB", SandboxSettings.describe(2L << 30));
    assertEquals("1.3 GiB", SandboxSettings.describe((long) (1.3 * (1L << 30))));
    assertEquals("640 MiB", SandboxSettings.describe(640L << 20));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> SandboxSettings.parseBytes("-1g"));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> SandboxSettings.parseBytes("99999999999t"));
  }
}
