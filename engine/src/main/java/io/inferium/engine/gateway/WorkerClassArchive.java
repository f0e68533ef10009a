package io.inferium.engine.gateway;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A class-data-sharing archive (AppCDS) of the classes a worker loads as it starts: later workers map it instead of
 * reading, parsing and verifying those classes again, and start on about 0.7× the CPU (docs/BENCHMARKS.md, "A worker's
 * start-up CPU").
 *
 * <p>Made without trusting a worker. The first worker spawned while no archive exists runs with
 * {@code -XX:DumpLoadedClassList} into its own scratch directory; a few seconds after it attaches, the gateway reads
 * that list, keeps only the lines that are plain class names or lambda lines (which name classes the JDK generates at
 * dump time; the format's {@code source:} lines, which load a class from a file they name, are dropped), and runs {@code java -Xshare:dump} itself over the
 * node's own class path. A worker, which runs tenants' models, can thus choose at most which of the node code's
 * classes get archived, never their bytes. The archive is written by the gateway into a directory of its own and
 * mounted read-only into workers. (A dynamic archive, {@code -XX:ArchiveClassesAtExit}, would be written by the
 * worker itself: a compromised worker could poison every worker after it.)
 *
 * <p>The archive's name is a hash of the JVM, the worker's JVM options and every class-path entry (path, size,
 * modification time), so a rebuilt node or another JDK gets a new one. The JVM checks the class path again when it
 * maps an archive and runs without it (never fails) when something does not match. Where the archive lives:
 * {@value #DIR_PROPERTY} or {@value #DIR_ENV} when set ({@code off} turns archives off), else {@code cds/} in the
 * data directory.
 */
public final class WorkerClassArchive {

  public static final String DIR_PROPERTY = "inferium.worker.cds-dir";
  public static final String DIR_ENV = "INFERIUM_WORKER_CDS_DIR";
  /** How long after the capturing worker attaches its class list is read: its start-up classes are all loaded by then. */
  public static final long CAPTURE_DELAY_MS = 3_000;
  /** A class list longer than this is not a worker's start-up (about 3,100 classes, 170 KB): refused. */
  static final long MAX_LIST_BYTES = 4L << 20;
  static final int MAX_CLASSES = 50_000;
  /** Captures tried per gateway before giving up (a capture is lost when its worker exits first). */
  static final int MAX_CAPTURES = 3;
  private static final Duration DUMP_TIMEOUT = Duration.ofMinutes(3);
  /** Archives of other keys older than this are removed when a new one is made (one per upgrade would pile up). */
  private static final Duration STALE_AFTER = Duration.ofHours(1);
  private static final Pattern CLASS_NAME =
      Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(?:/[A-Za-z_$][A-Za-z0-9_$]*)*");
  private static final Pattern ID = Pattern.compile("[0-9]{1,9}");
  /** Lambda proxies and lambda-form invokers, in class and method descriptors' characters only: no ':', no file. */
  private static final Pattern LAMBDA = Pattern.compile("@(?:lambda-proxy|lambda-form-invoker) [A-Za-z0-9_$/;()\\[\\]<>. -]+");
  private static final int MAX_LINE = 4096;
  private static final Logger log = LoggerFactory.getLogger(WorkerClassArchive.class);

  /** What a new worker is started with: the archive to map, or a class list to write, or neither. */
  public record Plan(List<String> jvmOptions, Path archive, Path classList) {
    static final Plan NONE = new Plan(List.of(), null, null);
  }

  private final Path dir;
  private final Path archive;
  private final String classPath;
  private final List<String> jvmOptions;
  private int captures;
  private boolean capturing;
  private boolean failed;
  private volatile boolean ready;
  private Process dump;
  private boolean closed;

  private WorkerClassArchive(Path dir, String key, String classPath, List<String> jvmOptions) {
    this.dir = dir;
    this.archive = dir == null ? null : dir.resolve(key + ".jsa");
    this.classPath = classPath;
    this.jvmOptions = List.copyOf(jvmOptions);
    this.ready = archive != null && Files.isRegularFile(archive);
  }

  /** Archives off: every plan is {@link Plan#NONE}. */
  public static WorkerClassArchive off() {
    return new WorkerClassArchive(null, "", "", List.of());
  }

  /** Where archives live for a gateway with this data directory, or null when turned off. */
  public static Path directory(Path dataDir) {
    String configured = System.getProperty(DIR_PROPERTY, System.getenv(DIR_ENV));
    if (configured == null || configured.isBlank()) {
      return dataDir.resolve("cds").toAbsolutePath();
    }
    return configured.trim().toLowerCase(Locale.ROOT).equals("off") ? null : Path.of(configured.trim()).toAbsolutePath();
  }

  /**
   * The archive of {@code node}'s code for workers started with {@code jvmOptions} (blocking: reads the class
   * path's file attributes). {@code dir} null: off.
   */
  public static WorkerClassArchive open(Path dir, NodeCode node, List<String> jvmOptions) throws IOException {
    if (dir == null) {
      return off();
    }
    Files.createDirectories(dir);
    return new WorkerClassArchive(dir, key(node.entries(), jvmOptions), node.classPath(), jvmOptions);
  }

  static String key(List<String> entries, List<String> jvmOptions) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    List<String> parts = new ArrayList<>(List.of(System.getProperty("java.home"), System.getProperty("java.vm.version")));
    parts.addAll(jvmOptions);
    for (String e : entries) {
      Path p = Path.of(e);
      parts.add(e + "|" + Files.size(p) + "|" + Files.getLastModifiedTime(p).toMillis());
    }
    for (String part : parts) {
      digest.update(part.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
    }
    return "worker-" + HexFormat.of().formatHex(digest.digest(), 0, 12);
  }

  /** The archive file, once made (or found); null before. */
  public Path archive() {
    return ready ? archive : null;
  }

  /**
   * How to start the next worker, whose scratch directory is {@code scratch}: map the archive when there is one;
   * else, when no capture is running and tries are left (blocking: looks whether the archive file is there), write its class list there (that worker becomes the
   * capture: {@link #capture} or {@link #abandon} it).
   */
  public synchronized Plan plan(Path scratch) {
    if (archive == null || closed) {
      return Plan.NONE;
    }
    // Made meanwhile by another gateway sharing the directory, or removed since (by an operator, or as stale by a
    // gateway of another build): a worker told to map a missing file would fail to start in the sandbox.
    ready = Files.isRegularFile(archive);
    if (ready) {
      return new Plan(List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto"), archive, null);
    }
    if (capturing || failed || captures >= MAX_CAPTURES) {
      return Plan.NONE;
    }
    capturing = true;
    captures++;
    Path list = scratch.resolve("classes.lst");
    return new Plan(List.of("-XX:DumpLoadedClassList=" + list), null, list);
  }

  /** The capturing worker went away before its list was read: the next spawn may capture. */
  public synchronized void abandon() {
    capturing = false;
  }

  /**
   * Reads the capturing worker's class list and makes the archive from it (blocking: seconds of a JVM dumping).
   * Returns whether an archive is ready afterwards; a failure is logged and ends archiving for this gateway, as the
   * next try would fail the same way.
   */
  public boolean capture(Path classList) {
    List<String> classes;
    try {
      classes = classNames(classList);
    } catch (IOException e) {
      log.debug("Worker class list {} unreadable ({}); the next worker captures one", classList, e.toString());
      abandon();
      return false;
    }
    boolean made = false;
    try {
      made = dump(classes);
      return made;
    } finally {
      synchronized (this) {
        capturing = false;
        failed = !made;
        ready = made;
      }
    }
  }

  /** The lines of a class list kept for the dump (plain class names and lambda lines), in order, without repeats; bounded. */
  static List<String> classNames(Path classList) throws IOException {
    if (Files.size(classList) > MAX_LIST_BYTES) {
      throw new IOException("class list over " + MAX_LIST_BYTES + " bytes");
    }
    Set<String> out = new LinkedHashSet<>();
    try (BufferedReader in = Files.newBufferedReader(classList, StandardCharsets.ISO_8859_1)) {
      String line;
      while ((line = in.readLine()) != null && out.size() < MAX_CLASSES) {
        // "name" or "name id: N"; lambda lines, which name JDK-generated classes to make (never a file); anything
        // else (comments, super:/interfaces:/source: for classes of custom loaders) is dropped.
        if (line.startsWith("@")) {
          if (line.length() <= MAX_LINE && LAMBDA.matcher(line).matches()) {
            out.add(line);
          }
          continue;
        }
        String name = line;
        int id = line.indexOf(" id: ");
        if (id >= 0) {
          if (!ID.matcher(line.substring(id + 5)).matches()) {
            continue;
          }
          name = line.substring(0, id);
        }
        if (CLASS_NAME.matcher(name).matches()) {
          out.add(name);
        }
      }
    }
    return List.copyOf(out);
  }

  private boolean dump(List<String> classes) {
    Path list = dir.resolve(archive.getFileName() + ".classlist");
    Path partial = dir.resolve(archive.getFileName() + "." + ProcessHandle.current().pid() + ".partial");
    Path output = dir.resolve(archive.getFileName() + ".log");
    long started = System.nanoTime();
    try {
      Files.write(list, classes, StandardCharsets.ISO_8859_1);
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(jvmOptions);
      cmd.addAll(List.of("-Xshare:dump", "-XX:SharedClassListFile=" + list, "-XX:SharedArchiveFile=" + partial,
          "-cp", classPath));
      Process p;
      synchronized (this) {
        if (closed) {
          return false;
        }
        p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        dump = p;
      }
      boolean exited = p.waitFor(DUMP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (!exited) {
        p.destroyForcibly();
      }
      synchronized (this) {
        if (closed) {
          log.debug("Worker class archive not made: the gateway stopped during the dump");
          return false;
        }
      }
      if (!exited || p.exitValue() != 0 || !Files.isRegularFile(partial)) {
        log.warn("No worker class archive: java -Xshare:dump {} ({} class-list entries); workers start without one. Its output "
            + "ends: {}", exited ? "exited with " + p.exitValue() : "ran past " + DUMP_TIMEOUT, classes.size(), tail(output));
        return false;
      }
      Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      log.info("Worker class archive {} made from {} class-list entries ({} MB, {} ms): workers started from now on map it",
          archive, classes.size(), Files.size(archive) >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      removeStale();
      return true;
    } catch (IOException e) {
      log.warn("No worker class archive: {}; workers start without one", e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      synchronized (this) {
        dump = null;
      }
      for (Path p : List.of(list, partial, output)) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // a leftover in the archive directory is harmless
        }
      }
    }
  }

  /** Archives of other class paths or JVMs, left by earlier builds: removed once older than an hour. */
  private void removeStale() {
    FileTime cutoff = FileTime.fromMillis(System.currentTimeMillis() - STALE_AFTER.toMillis());
    try (DirectoryStream<Path> all = Files.newDirectoryStream(dir, "worker-*.jsa")) {
      for (Path p : all) {
        if (!p.equals(archive) && Files.getLastModifiedTime(p).compareTo(cutoff) < 0) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      log.debug("Stale worker class archives not removed: {}", e.toString());
    }
  }

  private static String tail(Path file) {
    try {
      return WorkerOutput.tail(file).strip();
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** Stops a dump in progress; no new capture starts. */
  public synchronized void close() {
    closed = true;
    if (dump != null) {
      dump.destroyForcibly();
    }
  }
}
