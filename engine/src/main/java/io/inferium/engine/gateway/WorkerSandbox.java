package io.inferium.engine.gateway;

import io.inferium.functions.protocol.WorkerLaunch;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Confines worker processes, which run untrusted models in native code.
 *
 * <p>Always: an environment built from nothing (PATH, the locale, HOME and TMPDIR in the worker's own
 * scratch directory, the spawn token), rlimits (address space, no core files, file size, open
 * files) and the gateway's RSS watchdog ({@link #residentBytes}). Where the gateway runs as root on
 * Linux and util-linux can build it (probed at start): a private mount namespace whose root is an
 * empty read-only tmpfs holding only {@code /usr}, {@code /etc}, the JVM, the class path and the
 * model store (all read-only), the worker's scratch directory (writable), a few devices and a
 * {@code /proc} that hides other users' processes; a private IPC namespace; then a uid and gid of
 * the worker's own with no supplementary groups, no capabilities and {@code no_new_privs}. The data
 * directory (admin key, database, node keys, events, logs) does not exist in that view. Where a
 * cgroup v2 group with the memory controller is delegated to the gateway, each worker also gets
 * {@code memory.max} and, when asked, {@code cpu.max}. Blocking methods: call them off the event loop.
 */
public final class WorkerSandbox {

  private static final Logger log = LoggerFactory.getLogger(WorkerSandbox.class);

  private static final String UNSHARE = "/usr/bin/unshare";
  private static final String SETPRIV = "/usr/bin/setpriv";
  private static final String PRLIMIT = "/usr/bin/prlimit";
  private static final String SH = "/bin/sh";
  private static final String CHROOT = "/usr/sbin/chroot";
  private static final String MOUNT = "/usr/bin/mount";
  private static final String NICE = "/usr/bin/nice";
  private static final String SETSID = "/usr/bin/setsid";
  /**
   * Address space beyond the RSS limit: the JVM reserves heap, class space, code cache and 8 MiB
   * thread stacks up front (an idle worker maps about 2.7 GB with two malloc arenas). A single huge
   * allocation (a {@code ConstantOfShape} of 100 GB) then fails at once instead of growing RSS.
   */
  static final long ADDRESS_SPACE_HEADROOM = 6L << 30;

  /**
   * Runs as root inside fresh mount and IPC namespaces: joins the worker's cgroup, builds the new
   * root from the listed entries ({@code ro|rw|dev PATH}: bind mounts; {@code dir PATH};
   * {@code link PATH TARGET}; {@code proc PATH}), makes the root itself read-only and enters it.
   */
  private static final String LAUNCHER = """
      set -eu
      umask 022
      PATH=/usr/sbin:/usr/bin:/sbin:/bin
      root=$1 cwd=$2 cgroup=$3
      shift 3
      [ -z "$cgroup" ] || echo $$ > "$cgroup/cgroup.procs"
      mount -t tmpfs -o size=8m,mode=0755,nosuid,nodev inferium-worker "$root"
      while [ "$1" != -- ]; do
        kind=$1 p=$2
        shift 2
        case $kind in
          dir) mkdir -p "$root$p" ;;
          link) mkdir -p "$root${p%/*}"; ln -s "$1" "$root$p"; shift ;;
          proc) mkdir -p "$root$p"; mount -t proc -o nosuid,nodev,noexec,hidepid=2 proc "$root$p" ;;
          *)
            if [ -e "$root$p" ] && [ "$kind" = ro ]; then continue; fi
            if [ -d "$p" ]; then mkdir -p "$root$p"; else mkdir -p "$root${p%/*}"; : > "$root$p"; fi
            case $kind in
              ro) options=ro,nosuid,nodev ;;
              rw) options=nosuid,nodev ;;
              *) options=nosuid,noexec ;;
            esac
            mount --bind -o "$options" "$p" "$root$p" ;;
        esac
      done
      shift
      mount -o remount,bind,ro "$root"
      exec chroot "$root" /bin/sh -c 'cd "$0" && unset PWD OLDPWD && PATH=/usr/local/bin:/usr/bin:/bin && exec "$@"' "$cwd" "$@"
      """;

  /** One worker's launch: its scratch directory, uid (-1 without the file sandbox) and cgroup. */
  public record Launch(String workerId, int slot, Path scratch, int uid, Path cgroup) {}

  private final SandboxSettings settings;
  private final boolean files;
  private final Optional<CgroupV2> cgroup;
  private final Path root;
  private final String summary;
  private final WorkerUids uids;
  private final WorkerProcesses workerProcesses;
  private final List<String> classPath;

  private WorkerSandbox(SandboxSettings settings, List<String> classPath, boolean files, Optional<CgroupV2> cgroup, String summary) {
    this.settings = settings;
    this.classPath = List.copyOf(classPath);
    this.files = files;
    this.cgroup = cgroup;
    this.root = settings.scratchRoot().toAbsolutePath().resolve(".root");
    this.summary = summary;
    this.uids = new WorkerUids(settings.uidBase(), files);
    this.workerProcesses = new WorkerProcesses(settings.uidBase());
  }

  /**
   * Decides what can be enforced here (running a probe worker command inside the sandbox when it is
   * wanted) and logs it. Fails only in {@link SandboxSettings.Mode#REQUIRED} when the file sandbox is unavailable.
   */
  public static WorkerSandbox probe(SandboxSettings settings, List<String> classPath) throws IOException {
    Path scratchRoot = settings.scratchRoot().toAbsolutePath();
    Files.createDirectories(scratchRoot);
    restrict(scratchRoot, "rwx------");
    // Scratch directories of a previous run's workers (one data directory belongs to one gateway).
    try (var old = Files.list(scratchRoot)) {
      for (Path p : (Iterable<Path>) old::iterator) {
        if (!p.getFileName().toString().startsWith(".")) {
          deleteTree(p);
        }
      }
    }
    Files.createDirectories(settings.modelsDir());
    String[] cgWhy = {""};
    Optional<CgroupV2> cg = CgroupV2.detect(cgWhy);
    String why = null;
    if (settings.mode() == SandboxSettings.Mode.OFF) {
      why = "turned off (--worker-sandbox=off)";
    } else {
      why = unavailable(settings);
    }
    boolean files = why == null;
    WorkerSandbox draft = new WorkerSandbox(settings, classPath, files, cg, "");
    if (files) {
      draft.openModelStore();
      why = draft.tryLaunch();
      files = why == null;
    }
    if (!files && settings.mode() == SandboxSettings.Mode.REQUIRED) {
      throw new IOException("the worker sandbox is required (--worker-sandbox=required) but unavailable: " + why);
    }
    List<String> on = new ArrayList<>(List.of("clean environment", "rlimits (no core files, file size "
        + SandboxSettings.describe(settings.maxFileBytes()) + ", " + settings.maxOpenFiles() + " open files)",
        "RSS watchdog at " + SandboxSettings.describe(settings.memoryBytes())));
    if (files) {
      on.add("private mount and IPC namespaces (model store read-only, data directory absent)");
      on.add("uid/gid " + settings.uidBase() + "+n without capabilities, no_new_privs, " + settings.maxThreads() + " threads");
    }
    cg.ifPresent(c -> on.add("cgroup v2 memory.max" + (settings.cpus() > 0 && c.limitsCpu() ? " and cpu.max " + settings.cpus() + " cores" : "")
        + " under " + c.parent()));
    List<String> off = new ArrayList<>();
    if (!files) {
      off.add("file sandbox and separate uid (" + why + ")");
    }
    if (cg.isEmpty()) {
      off.add("cgroup limits (" + cgWhy[0] + ")" + (settings.cpus() > 0 ? "; the CPU limit is NOT enforced" : ""));
    }
    String summary = "enforced: " + String.join(", ", on) + (off.isEmpty() ? "" : "; NOT enforced: " + String.join("; ", off));
    if (files) {
      log.info("Worker sandbox {}", summary);
    } else {
      log.warn("Worker sandbox {}", summary);
    }
    return new WorkerSandbox(settings, classPath, files, cg, summary);
  }

  private static String unavailable(SandboxSettings settings) {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      return "not Linux";
    }
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (!Integer.valueOf(0).equals(uid)) {
        return "the gateway does not run as root (uid " + uid + "), so it can neither switch user nor mount";
      }
    } catch (IOException | RuntimeException e) {
      return "cannot tell the gateway's uid: " + e.getMessage();
    }
    for (String tool : List.of(UNSHARE, SETPRIV, PRLIMIT, SH, CHROOT, MOUNT)) {
      if (!Files.isExecutable(Path.of(tool))) {
        return tool + " is missing (util-linux, coreutils)";
      }
    }
    return null;
  }

  /** Starts the probe command in the sandbox: proves namespaces, mounts and setpriv work and the class path is readable. */
  private String tryLaunch() {
    Launch probe = null;
    try {
      probe = open("probe");
      List<String> check = new ArrayList<>(List.of(SH, "-c",
          "for f; do [ -r \"$f\" ] || { echo \"the worker uid cannot read $f\"; exit 3; }; done; "
              + "[ ! -e \"$INFERIUM_PROBE_SECRET\" ] || { echo \"files outside the sandbox are visible\"; exit 4; }",
          "probe", javaBinary()));
      check.addAll(classPath);
      ProcessBuilder pb = new ProcessBuilder(wrap(probe, check, List.of())).redirectErrorStream(true);
      pb.environment().clear();
      pb.environment().putAll(environment(probe, "probe"));
      Path secret = settings.scratchRoot().toAbsolutePath().resolve(".probe-secret");
      Files.writeString(secret, "");
      pb.environment().put("INFERIUM_PROBE_SECRET", secret.toString());
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "the probe did not finish within 30 s";
      }
      return p.exitValue() == 0 ? null : "the probe failed with status " + p.exitValue() + ": " + out;
    } catch (IOException e) {
      return "the probe could not start: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } finally {
      if (probe != null) {
        release(probe);
      }
    }
  }

  /** What is and is not enforced, for the log and the health report. */
  public String summary() {
    return summary;
  }

  public boolean isolatesFiles() {
    return files;
  }

  public long memoryLimitBytes() {
    return settings.memoryBytes();
  }

  /**
   * Prepares a worker's private scratch directory (fresh for every spawn) and cgroup, and gives it a
   * uid no other live worker has, so workers cannot signal or read one another.
   */
  public Launch open(String workerId) throws IOException {
    int slot = uids.claim();
    Path scratch = settings.scratchRoot().toAbsolutePath().resolve(workerId + "-" + slot);
    deleteTree(scratch);
    Files.createDirectories(scratch.resolve("tmp"));
    int uid = uids.uid(slot);
    if (files) {
      Files.createDirectories(root);
      for (Path p : List.of(scratch, scratch.resolve("tmp"))) {
        Files.setAttribute(p, "unix:uid", uid);
        Files.setAttribute(p, "unix:gid", uid);
        restrict(p, "rwx------");
      }
    }
    Path group = null;
    if (cgroup.isPresent()) {
      try {
        group = cgroup.get().create(workerId + "-" + slot, settings.memoryBytes(), settings.cpus());
      } catch (IOException e) {
        log.warn("No cgroup for worker {}: {}", workerId, e.getMessage());
      }
    }
    return new Launch(workerId, slot, scratch, uid, group);
  }

  /** JVM options the sandbox needs: temporary files and the user's home in the scratch directory, no shared perf data. */
  public List<String> jvmOptions(Launch launch) {
    return List.of("-Djava.io.tmpdir=" + launch.scratch().resolve("tmp"), "-Duser.home=" + launch.scratch(),
        "-XX:-UsePerfData");
  }

  /** The environment of a worker, built from nothing: no secret and no setting of the gateway's reaches it. */
  public Map<String, String> environment(Launch launch, String token) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
    Map<String, String> ours = System.getenv();
    env.put("LANG", ours.getOrDefault("LANG", "C.UTF-8"));
    for (String passed : List.of("LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES")) {
      if (ours.containsKey(passed)) {
        env.put(passed, ours.get(passed));
      }
    }
    env.put("HOME", launch.scratch().toString());
    env.put("TMPDIR", launch.scratch().resolve("tmp").toString());
    env.put("DJL_CACHE_DIR", launch.scratch().resolve("djl").toString());
    // glibc's per-thread arenas reserve 64 MiB of address space each; two keep RLIMIT_AS meaningful.
    env.put("MALLOC_ARENA_MAX", "2");
    env.put(WorkerLaunch.TOKEN_ENV, token);
    return env;
  }

  /**
   * The command that starts {@code javaCommand} (java binary first) confined; {@code alsoReadOnly} (files of the
   * gateway's the command names, such as the class archive) are mounted read-only beside the class path.
   */
  public List<String> wrap(Launch launch, List<String> javaCommand, List<Path> alsoReadOnly) {
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(Path.of(SETSID))) {
      // Its own session and process group: a Ctrl-C or `timeout` aimed at the gateway's group must not kill the
      // workers before the gateway has drained what they run (the gateway stops them itself, and a worker exits
      // when its connection closes). setsid execs in place (the child is not a group leader): same pid.
      cmd.add(SETSID);
    }
    if (Files.isExecutable(Path.of(NICE))) {
      // Lower CPU priority, so a saturated machine still answers health checks, 429s and 504s at once.
      cmd.addAll(List.of(NICE, "-n", "5"));
    }
    List<String> limits = new ArrayList<>(List.of(PRLIMIT, "--core=0",
        "--fsize=" + settings.maxFileBytes(), "--nofile=" + settings.maxOpenFiles()));
    if (!Files.exists(Path.of("/dev/nvidiactl"))) {
      // CUDA maps tens of gigabytes of address space for unified memory: no RLIMIT_AS where a GPU may be used.
      limits.add("--as=" + Math.addExact(settings.memoryBytes(), ADDRESS_SPACE_HEADROOM));
    }
    if (!files) {
      if (Files.isExecutable(Path.of(PRLIMIT))) {
        cmd.addAll(limits);
        cmd.add("--");
      }
      if (launch.cgroup() != null) {
        cmd.addAll(List.of(SH, "-c", "echo $$ > \"$0/cgroup.procs\" && exec \"$@\"", launch.cgroup().toString()));
      }
      cmd.addAll(javaCommand);
      return cmd;
    }
    cmd.addAll(List.of(UNSHARE, "--mount", "--ipc", "--propagation", "private", "--", SH, "-c", LAUNCHER, "inferium-sandbox",
        root.toString(), Path.of("").toAbsolutePath().toString(), launch.cgroup() == null ? "" : launch.cgroup().toString()));
    cmd.addAll(List.of("dir", Path.of("").toAbsolutePath().toString()));
    for (String top : List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")) {
      Path p = Path.of(top);
      if (Files.isSymbolicLink(p)) {
        try {
          cmd.addAll(List.of("link", top, Files.readSymbolicLink(p).toString()));
        } catch (IOException e) {
          // unreadable link: leave it out
        }
      } else if (Files.isDirectory(p)) {
        cmd.addAll(List.of("ro", top));
      }
    }
    Set<String> readOnly = new LinkedHashSet<>(List.of("/usr", "/etc"));
    Path javaHome = Path.of(System.getProperty("java.home")).toAbsolutePath();
    if (!javaHome.startsWith("/usr")) {
      readOnly.add(javaHome.toString());
    }
    readOnly.addAll(classPath);
    for (Path p : alsoReadOnly) {
      readOnly.add(p.toAbsolutePath().toString());
    }
    readOnly.add(settings.modelsDir().toAbsolutePath().toString());
    if (Files.isDirectory(Path.of("/sys/devices/system/cpu"))) {
      readOnly.add("/sys/devices/system/cpu");
    }
    for (String p : readOnly) {
      cmd.addAll(List.of("ro", p));
    }
    cmd.addAll(List.of("rw", launch.scratch().toString()));
    cmd.addAll(List.of("link", "/tmp", launch.scratch().resolve("tmp").toString()));
    cmd.addAll(List.of("dir", "/dev"));
    for (String dev : devices()) {
      cmd.addAll(List.of("dev", dev));
    }
    cmd.addAll(List.of("proc", "/proc"));
    cmd.add("--");
    limits.add("--nproc=" + settings.maxThreads());
    cmd.addAll(limits);
    cmd.add("--");
    cmd.addAll(List.of(SETPRIV, "--reuid=" + launch.uid(), "--regid=" + launch.uid(), "--clear-groups", "--no-new-privs",
        "--inh-caps=-all", "--bounding-set=-all", "--"));
    cmd.addAll(javaCommand);
    return cmd;
  }

  private static List<String> devices() {
    List<String> out = new ArrayList<>();
    for (String d : List.of("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")) {
      if (Files.exists(Path.of(d))) {
        out.add(d);
      }
    }
    // GPUs: the CUDA execution provider opens these.
    File[] nvidia = new File("/dev").listFiles((dir, name) -> name.startsWith("nvidia"));
    if (nvidia != null) {
      for (File f : nvidia) {
        if (!f.isDirectory()) {
          out.add(f.getAbsolutePath());
        }
      }
    }
    return out;
  }

  /**
   * The entries of {@code classPath} as absolute, existing paths, each jar followed by the jars its
   * manifest's {@code Class-Path} names (a launcher jar such as the load test's lists its libraries
   * there, and the sandbox must mount them too).
   */
  static List<String> classPath(String classPath) {
    Set<String> out = new LinkedHashSet<>();
    for (String entry : classPath.split(File.pathSeparator)) {
      if (!entry.isBlank() && Files.exists(Path.of(entry))) {
        Path path = Path.of(entry).toAbsolutePath().normalize();
        out.add(path.toString());
        out.addAll(manifestClassPath(path));
      }
    }
    return List.copyOf(out);
  }

  private static List<String> manifestClassPath(Path jar) {
    if (!Files.isRegularFile(jar)) {
      return List.of();
    }
    try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
      java.util.jar.Manifest manifest = file.getManifest();
      String listed = manifest == null ? null : manifest.getMainAttributes().getValue(java.util.jar.Attributes.Name.CLASS_PATH);
      if (listed == null) {
        return List.of();
      }
      List<String> out = new ArrayList<>();
      for (String name : listed.trim().split("\\s+")) {
        Path p = jar.getParent().resolve(name).normalize();
        if (!name.isEmpty() && Files.exists(p)) {
          out.add(p.toString());
        }
      }
      return out;
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Removes a worker's scratch directory and cgroup after it exited (best effort). */
  public void release(Launch launch) {
    uids.stopLeftovers(launch.slot(), launch.workerId());
    try {
      deleteTree(launch.scratch());
    } catch (IOException e) {
      log.warn("Could not remove {}: {}", launch.scratch(), e.getMessage());
    }
    if (launch.cgroup() != null) {
      CgroupV2.remove(launch.cgroup());
    }
    uids.release(launch.slot());
  }

  /** Why the kernel ended the worker, if it was its cgroup's memory limit. */
  public Optional<String> memoryKill(Launch launch) {
    if (launch.cgroup() != null && CgroupV2.oomKills(launch.cgroup()) > 0) {
      return Optional.of("worker " + launch.workerId() + " exceeded its memory limit of "
          + SandboxSettings.describe(settings.memoryBytes()) + " (killed by the kernel's cgroup OOM killer)");
    }
    return Optional.empty();
  }

  /**
   * Resident memory of a worker: with a uid of its own, of every process running as that uid (a
   * process that detached from the worker still counts); otherwise of the process and its
   * descendants. {@code byUid} is one pass over /proc from {@link #residentByUid}.
   */
  public long residentBytes(Launch launch, ProcessHandle process, Map<Integer, Long> byUid) {
    if (launch != null && launch.uid() > 0) {
      return byUid.getOrDefault(launch.uid(), -1L);
    }
    return ProcessMemory.tree(process);
  }

  /** Resident bytes per worker uid; empty without the file sandbox. */
  public Map<Integer, Long> residentByUid() {
    return files ? workerProcesses.residentByUid() : Map.of();
  }

  /**
   * Lets worker uids read the model store: blobs are named by their hash, so a worker reads what it
   * is told to load. Only this tree is visible inside the sandbox.
   */
  private void openModelStore() throws IOException {
    Files.walkFileTree(settings.modelsDir(), new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        restrict(dir, "rwxr-xr-x");
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isRegularFile()) {
          restrict(file, "rw-r--r--");
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void restrict(Path p, String perms) throws IOException {
    try {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: nothing to set
    }
  }

  /** Deletes a directory tree without following symbolic links a worker may have planted. */
  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
        Files.deleteIfExists(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
