package io.inferium.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real single-node KRaft Kafka broker (broker and controller in one) in a child JVM, from the
 * Maven artifacts listed in {@code infra/kafka/pom.xml} — the same way {@code infra/scripts/kafka.sh}
 * starts one. The broker needs kafka-clients 4.x, the code under test uses the 3.7.x that
 * vertx-kafka-client brings, hence a separate classpath and process.
 *
 * <p>{@link #stop()} kills it (SIGKILL, as a crash would); {@link #restart()} starts it again on the
 * same data directory and ports. {@link #close()} kills it and deletes its files.
 */
public final class KafkaBroker implements AutoCloseable {

  private static final long START_TIMEOUT_MS = 90_000;

  private final Path dir;
  private final int port;
  private final int controllerPort;
  private final String classpath;
  private Process process;

  private KafkaBroker(Path dir, int port, int controllerPort, String classpath) {
    this.dir = dir;
    this.port = port;
    this.controllerPort = controllerPort;
    this.classpath = classpath;
  }

  /** Formats a fresh data directory and starts the broker; returns once it accepts connections. */
  public static KafkaBroker start() {
    try {
      Path dir = Files.createTempDirectory("inferium-kafka-");
      KafkaBroker b = new KafkaBroker(dir, freePort(), freePort(), brokerClasspath());
      try {
        b.format();
        b.launch();
        return b;
      } catch (RuntimeException e) {
        b.close();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String bootstrap() {
    return "127.0.0.1:" + port;
  }

  private void format() throws IOException {
    Files.writeString(dir.resolve("server.properties"), String.join("\n",
        "process.roles=broker,controller",
        "node.id=1",
        "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
        "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.quorum.bootstrap.servers=127.0.0.1:" + controllerPort,
        "log.dirs=" + dir.resolve("data"),
        "num.partitions=1",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "") );
    String clusterId = java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString(java.nio.ByteBuffer.allocate(16).putLong(UUID.randomUUID().getMostSignificantBits())
            .putLong(UUID.randomUUID().getLeastSignificantBits()).array());
    Process p = java(List.of("kafka.tools.StorageTool", "format", "--cluster-id=" + clusterId,
        "-c", dir.resolve("server.properties").toString(), "--standalone"), dir.resolve("format.log"));
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("kafka storage format failed: " + Files.readString(dir.resolve("format.log")));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private Process java(List<String> args, Path logFile) throws IOException {
    List<String> cmd = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xms128m", "-Xmx512m",
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath));
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
  }

  private void launch() throws IOException {
    process = java(List.of("kafka.Kafka", dir.resolve("server.properties").toString()), dir.resolve("broker.log"));
    ProcessHandle handle = process.toHandle();
    Runtime.getRuntime().addShutdownHook(new Thread(handle::destroyForcibly));
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("kafka broker exited with " + process.exitValue() + ": " + tail());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        try {
          process.waitFor(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    }
    process.destroyForcibly();
    throw new IllegalStateException("kafka broker did not listen within " + START_TIMEOUT_MS + " ms: " + tail());
  }

  private String tail() throws IOException {
    String log = Files.readString(dir.resolve("broker.log"));
    return log.substring(Math.max(0, log.length() - 2000));
  }

  /** Kills the broker at once (no clean shutdown), as a crash would. */
  public void stop() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
  }

  /** Starts it again on the same data and ports. */
  public void restart() {
    stop();
    try {
      launch();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    stop();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory left behind is harmless
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * The broker's classpath, resolved once by Maven from {@code infra/kafka/pom.xml} (offline when
   * the artifacts are already local) and cached under {@code infra/target}.
   */
  static synchronized String brokerClasspath() throws IOException {
    Path root = Path.of("").toAbsolutePath();
    while (root != null && !Files.exists(root.resolve("infra/kafka/pom.xml"))) {
      root = root.getParent();
    }
    if (root == null) {
      throw new IllegalStateException("infra/kafka/pom.xml not found above " + Path.of("").toAbsolutePath());
    }
    Path cached = root.resolve("infra/target/kafka-broker.classpath");
    if (!Files.exists(cached)) {
      Files.createDirectories(cached.getParent());
      Path tmp = root.resolve("infra/target/kafka-broker.classpath.tmp");
      for (boolean offline : new boolean[] {true, false}) {
        List<String> cmd = new java.util.ArrayList<>(List.of("mvn", "-q", "-B"));
        if (offline) {
          cmd.add("-o");
        }
        cmd.addAll(List.of("-f", root.resolve("infra/kafka/pom.xml").toString(), "dependency:build-classpath",
            "-Dmdep.outputFile=" + tmp));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
        try {
          if (p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0 && Files.exists(tmp)) {
            Files.move(tmp, cached, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            break;
          }
          p.destroyForcibly();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      if (!Files.exists(cached)) {
        throw new IllegalStateException("mvn dependency:build-classpath on infra/kafka/pom.xml failed");
      }
    }
    return Files.readString(cached).trim();
  }
}
