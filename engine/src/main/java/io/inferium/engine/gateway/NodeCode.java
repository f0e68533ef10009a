package io.inferium.engine.gateway;

import io.inferium.functions.protocol.WorkerLaunch;
import io.inferium.functions.seal.CodeChecksum;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;

/**
 * The node code a gateway spawns its workers from: their class path, its entries (which the sandbox
 * mounts), and the checksum of the entry holding the node's main class, which a worker's hello must
 * report ({@code Attestation.checkCode}). The gateway links no node code itself; in order it uses
 * <ol>
 *   <li>{@value #CLASS_PATH_PROPERTY} (system property) or {@value #CLASS_PATH_ENV}, when set;</li>
 *   <li>its own class path, when that holds the node (tests, the load test);</li>
 *   <li>{@value #JAR_NAME} beside the gateway's own jar (the packaged {@code inferium.jar}).</li>
 * </ol>
 *
 * @param classPath the {@code -cp} of a worker command
 * @param entries   its entries as absolute, existing paths, plus the jars their manifests list
 * @param sha256    {@link CodeChecksum} of the entry that holds {@link WorkerLaunch#MAIN_CLASS}
 */
public record NodeCode(String classPath, List<String> entries, String sha256) {

  public static final String CLASS_PATH_PROPERTY = "inferium.worker.classpath";
  public static final String CLASS_PATH_ENV = "INFERIUM_WORKER_CLASSPATH";
  public static final String JAR_NAME = "inferium-node.jar";

  /** Resolves the node code for this JVM (blocking: reads jars and hashes the node's). */
  public static NodeCode resolve() {
    String configured = System.getProperty(CLASS_PATH_PROPERTY, System.getenv(CLASS_PATH_ENV));
    return resolve(configured, System.getProperty("java.class.path"), ownLocation());
  }

  static NodeCode resolve(String configured, String ownClassPath, Path ownCode) {
    String classPath;
    String source;
    if (configured != null && !configured.isBlank()) {
      classPath = configured;
      source = CLASS_PATH_PROPERTY + " / " + CLASS_PATH_ENV;
    } else if (home(WorkerSandbox.classPath(ownClassPath)) != null) {
      classPath = ownClassPath;
      source = "the gateway's own class path";
    } else if (ownCode != null && Files.isRegularFile(ownCode)) {
      Path jar = ownCode.toAbsolutePath().getParent().resolve(JAR_NAME);
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException("the worker code " + jar + " is missing: build it with "
            + "'mvn -DskipTests package -pl engine -am' (or ./inferium), or point " + CLASS_PATH_ENV + " at an inferium-node jar");
      }
      classPath = jar.toString();
      source = JAR_NAME + " beside " + ownCode.getFileName();
    } else {
      throw new IllegalStateException("no worker code: the gateway's class path holds no " + WorkerLaunch.MAIN_CLASS
          + " and it does not run from a jar; set " + CLASS_PATH_ENV + " to an inferium-node jar");
    }
    List<String> entries = WorkerSandbox.classPath(classPath);
    Path home = home(entries);
    if (home == null) {
      throw new IllegalStateException("the worker class path from " + source + " (" + classPath + ") holds no "
          + WorkerLaunch.MAIN_CLASS + ", the node's main class");
    }
    return new NodeCode(classPath, entries, checksum(home));
  }

  /**
   * Checksums of node jars this JVM hashed, by path, file identity, size and modification time: a gateway started
   * again in the same JVM (the integration tests start many) does not read the 48 MB jar again. A jar rewritten in place
   * gets a new modification time (and usually size) and is hashed again; one rewritten with both kept would leave
   * the gateway expecting the old checksum, so its new workers fail attestation, loudly (never the other way round).
   * Directories (a build's classes) are always hashed.
   */
  private static final java.util.Map<JarKey, String> JAR_SUMS = new java.util.concurrent.ConcurrentHashMap<>();
  private static final int MAX_JAR_SUMS = 16;

  private record JarKey(Path path, Object fileKey, long size, long modifiedNanos) {}

  static String checksum(Path home) {
    if (Files.isDirectory(home)) {
      return CodeChecksum.of(home);
    }
    JarKey key;
    try {
      java.nio.file.attribute.BasicFileAttributes a =
          Files.readAttributes(home, java.nio.file.attribute.BasicFileAttributes.class);
      key = new JarKey(home.toAbsolutePath().normalize(), a.fileKey(), a.size(),
          a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS));
    } catch (IOException e) {
      return CodeChecksum.of(home); // fails the same way, naming the file
    }
    if (JAR_SUMS.size() >= MAX_JAR_SUMS) {
      JAR_SUMS.clear();
    }
    return JAR_SUMS.computeIfAbsent(key, k -> CodeChecksum.of(home));
  }

  /** The first entry holding the node's main class, or null. */
  private static Path home(List<String> entries) {
    for (String e : entries) {
      Path p = Path.of(e);
      if (Files.isDirectory(p) ? Files.isRegularFile(p.resolve(WorkerLaunch.MAIN_RESOURCE)) : jarHolds(p)) {
        return p;
      }
    }
    return null;
  }

  private static boolean jarHolds(Path jar) {
    try (JarFile file = new JarFile(jar.toFile())) {
      return file.getEntry(WorkerLaunch.MAIN_RESOURCE) != null;
    } catch (IOException e) {
      return false;
    }
  }

  private static Path ownLocation() {
    try {
      return Path.of(NodeCode.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | RuntimeException e) {
      return null;
    }
  }
}
