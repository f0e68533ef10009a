package io.inferium.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The packaged node jar ({@code inferium-node.jar} beside the gateway's jar; issue 11): it holds no gateway, database or Kafka code, carries the
 * Linux x86-64 natives only, and runs as a worker on its own.
 */
class NodeJarIT {

  /** Set by the pom to the shaded jar the package phase made. */
  private static final Path JAR = Path.of(System.getProperty("inferium.node.jar", "target/inferium-node.jar"));
  private static final List<String> FORBIDDEN = List.of("io/inferium/engine/", "io/inferium/infra/",
      "io/inferium/verifier/", "io/inferium/scoring/", "io/inferium/chain/", "io/vertx/pgclient/", "io/vertx/sqlclient/",
      "org/apache/kafka/", "io/vertx/kafka/", "org/flywaydb/", "org/postgresql/");

  @Test
  void holdsNoGatewayDatabaseOrKafkaCode() throws IOException {
    List<String> found = new ArrayList<>();
    try (JarFile jar = new JarFile(JAR.toFile())) {
      for (JarEntry e : (Iterable<JarEntry>) jar.stream()::iterator) {
        for (String prefix : FORBIDDEN) {
          if (e.getName().startsWith(prefix)) {
            found.add(e.getName());
          }
        }
      }
      assertTrue(found.isEmpty(), JAR + " holds gateway, database or Kafka code: "
          + found.subList(0, Math.min(20, found.size())) + (found.size() > 20 ? " and " + (found.size() - 20) + " more" : ""));
      assertNotNull(jar.getEntry("io/inferium/node/NodeMain.class"), "the node's main class");
      assertNotNull(jar.getEntry("ai/onnxruntime/native/linux-x64/libonnxruntime.so"), "ONNX Runtime for Linux x86-64");
      assertTrue(jar.stream().noneMatch(e -> e.getName().startsWith("ai/onnxruntime/native/osx-")),
          "other platforms' natives are left out");
    }
  }

  @Test
  void runsTheWorkerCommandOnItsOwn() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process help = new ProcessBuilder(java.toString(), "-jar", JAR.toString(), "worker", "--help").redirectErrorStream(true).start();
    String out = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(help.waitFor(60, TimeUnit.SECONDS), "worker --help did not exit");
    assertEquals(0, help.exitValue(), out);
    assertTrue(out.contains("--gateway-port"), out);

    // Without the spawn token a worker refuses to start, and says why.
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-jar", JAR.toString(), "worker", "--gateway-port=1").redirectErrorStream(true);
    pb.environment().remove(WorkerOptions.TOKEN_ENV);
    Process noToken = pb.start();
    String why = new String(noToken.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(noToken.waitFor(60, TimeUnit.SECONDS), "worker without a token did not exit");
    assertEquals(2, noToken.exitValue(), why);
    assertTrue(why.contains(WorkerOptions.TOKEN_ENV), why);
  }
}
