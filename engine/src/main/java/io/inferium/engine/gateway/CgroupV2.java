package io.inferium.engine.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Memory and CPU limits of worker processes through a cgroup v2 subtree the gateway may write to
 * (a systemd unit with {@code Delegate=yes}, a container with a private cgroup namespace). Each
 * worker gets a child group with {@code memory.max}, {@code memory.swap.max = 0} and, when asked,
 * {@code cpu.max}; the worker's launcher moves itself into it before the JVM starts. Blocking file
 * I/O: call it off the event loop.
 */
final class CgroupV2 {

  private final Path parent;
  private final boolean cpu;

  private CgroupV2(Path parent, boolean cpu) {
    this.parent = parent;
    this.cpu = cpu;
  }

  /**
   * The gateway's own cgroup if it is a cgroup v2 group whose children can have the memory
   * controller; otherwise empty, with the reason in {@code why[0]}. To enable controllers for
   * children a group must hold no processes itself, so the gateway first moves into a leaf of its own.
   */
  static Optional<CgroupV2> detect(String[] why) {
    try {
      Path mount = null;
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] sides = line.split(" - ", 2);
        if (sides.length == 2 && sides[1].startsWith("cgroup2 ")) {
          mount = Path.of(sides[0].split(" ")[4]);
          break;
        }
      }
      String own = null;
      for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
        if (line.startsWith("0::")) {
          own = line.substring(3);
        }
      }
      if (mount == null || own == null) {
        why[0] = "no cgroup v2 hierarchy";
        return Optional.empty();
      }
      return at(mount.resolve(own.startsWith("/") ? own.substring(1) : own), why);
    } catch (IOException | RuntimeException e) {
      why[0] = "cgroup v2 not usable: " + e.getMessage();
      return Optional.empty();
    }
  }

  /** The cgroup at {@code dir} (the gateway's own), prepared for worker children. */
  static Optional<CgroupV2> at(Path dir, String[] why) throws IOException {
    String controllers = read(dir.resolve("cgroup.controllers"));
    if (!List.of(controllers.split("\\s+")).contains("memory")) {
      why[0] = "the cgroup v2 group " + dir + " has no memory controller (controllers: " + controllers.trim() + ")";
      return Optional.empty();
    }
    if (!Files.isWritable(dir.resolve("cgroup.subtree_control"))) {
      why[0] = "cannot write " + dir.resolve("cgroup.subtree_control");
      return Optional.empty();
    }
    boolean cpu = List.of(controllers.split("\\s+")).contains("cpu");
    String enabled = read(dir.resolve("cgroup.subtree_control"));
    if (!enabled.contains("memory") || (cpu && !enabled.contains("cpu"))) {
      String procs = read(dir.resolve("cgroup.procs")).trim();
      if (!procs.isEmpty()) {
        Path leaf = dir.resolve("inferium-gateway");
        Files.createDirectories(leaf);
        for (String pid : procs.split("\\s+")) {
          write(leaf.resolve("cgroup.procs"), pid);
        }
      }
      write(dir.resolve("cgroup.subtree_control"), cpu ? "+memory +cpu" : "+memory");
    }
    return Optional.of(new CgroupV2(dir, cpu));
  }

  /** Creates (or resets) the group of one worker with its limits; returns its directory. */
  Path create(String name, long memoryBytes, double cpus) throws IOException {
    Path group = parent.resolve("inferium-" + name);
    Files.createDirectories(group);
    write(group.resolve("memory.max"), Long.toString(memoryBytes));
    if (Files.exists(group.resolve("memory.swap.max"))) {
      write(group.resolve("memory.swap.max"), "0");
    }
    if (cpus > 0 && cpu) {
      long period = 100_000;
      write(group.resolve("cpu.max"), Math.max(1_000, Math.round(cpus * period)) + " " + period);
    }
    return group;
  }

  boolean limitsCpu() {
    return cpu;
  }

  Path parent() {
    return parent;
  }

  /** How many times the kernel killed a process of this group for memory. */
  static long oomKills(Path group) {
    try {
      for (String line : Files.readAllLines(group.resolve("memory.events"))) {
        if (line.startsWith("oom_kill ")) {
          return Long.parseLong(line.substring("oom_kill ".length()).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone or unreadable: nothing to report
    }
    return 0;
  }

  /** Removes a worker's group once its processes are gone (best effort). */
  static void remove(Path group) {
    try {
      Files.deleteIfExists(group);
    } catch (IOException e) {
      // still populated or already gone; the next spawn of the same name reuses it
    }
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  private static void write(Path p, String value) throws IOException {
    Files.writeString(p, value, StandardCharsets.UTF_8);
  }
}
