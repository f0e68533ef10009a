package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.protocol.WorkerLaunch;
import io.inferium.functions.seal.CodeChecksum;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which code the gateway spawns workers from, and the checksum their hellos must match. */
class NodeCodeTest {

  @TempDir
  Path dir;

  @Test
  void aGatewayJarUsesTheNodeJarBesideIt() throws IOException {
    Path gateway = jar(dir.resolve("inferium.jar"), "io/inferium/engine/Gateway.class");
    Path node = jar(dir.resolve(NodeCode.JAR_NAME), WorkerLaunch.MAIN_RESOURCE);
    NodeCode code = NodeCode.resolve(null, gateway.toString(), gateway);
    assertEquals(node.toString(), code.classPath());
    assertEquals(List.of(node.toString()), code.entries());
    assertEquals(CodeChecksum.of(node), code.sha256());
    assertNotEquals(CodeChecksum.of(gateway), code.sha256(), "attestation is over the node's code, not the gateway's");
  }

  @Test
  void aMissingNodeJarIsAStartUpErrorNamingThePath() throws IOException {
    Path gateway = jar(dir.resolve("inferium.jar"), "io/inferium/engine/Gateway.class");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> NodeCode.resolve(null, gateway.toString(), gateway));
    assertTrue(e.getMessage().contains(dir.resolve(NodeCode.JAR_NAME).toString()), e.getMessage());
    assertTrue(e.getMessage().contains(NodeCode.CLASS_PATH_ENV), e.getMessage());
  }

  @Test
  void aClassPathHoldingTheNodeIsUsedAsItIs() throws IOException {
    Path classes = Files.createDirectories(dir.resolve("classes"));
    Path main = classes.resolve(WorkerLaunch.MAIN_RESOURCE);
    Files.createDirectories(main.getParent());
    Files.write(main, new byte[] {1, 2, 3});
    Path other = jar(dir.resolve("lib.jar"), "x/Y.class");
    String cp = other + File.pathSeparator + classes;
    NodeCode code = NodeCode.resolve(null, cp, classes);
    assertEquals(cp, code.classPath());
    assertEquals(CodeChecksum.of(classes), code.sha256());
  }

  @Test
  void aConfiguredClassPathWinsAndMustHoldTheNode() throws IOException {
    Path gateway = jar(dir.resolve("inferium.jar"), "io/inferium/engine/Gateway.class");
    Path elsewhere = jar(Files.createDirectories(dir.resolve("opt")).resolve("node.jar"), WorkerLaunch.MAIN_RESOURCE);
    assertEquals(elsewhere.toString(), NodeCode.resolve(elsewhere.toString(), gateway.toString(), gateway).classPath());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> NodeCode.resolve(gateway.toString(), gateway.toString(), gateway));
    assertTrue(e.getMessage().contains(WorkerLaunch.MAIN_CLASS), e.getMessage());
  }

  @Test
  void aNodeJarRewrittenInPlaceIsHashedAgain() throws IOException {
    Path node = jar(dir.resolve(NodeCode.JAR_NAME), WorkerLaunch.MAIN_RESOURCE);
    String first = NodeCode.checksum(node);
    assertEquals(CodeChecksum.of(node), first);
    assertEquals(first, NodeCode.checksum(node), "the same file, unchanged");
    // A new build of the node in the same place: other bytes, and a later modification time.
    try (OutputStream out = Files.newOutputStream(node); JarOutputStream jar = new JarOutputStream(out)) {
      jar.putNextEntry(new JarEntry(WorkerLaunch.MAIN_RESOURCE));
      jar.write("a newer node".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    Files.setLastModifiedTime(node, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5_000));
    assertNotEquals(first, NodeCode.checksum(node));
    assertEquals(CodeChecksum.of(node), NodeCode.checksum(node));
  }

  private static Path jar(Path path, String entry) throws IOException {
    try (OutputStream out = Files.newOutputStream(path); JarOutputStream jar = new JarOutputStream(out)) {
      jar.putNextEntry(new JarEntry(entry));
      jar.write(path.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    return path;
  }
}
