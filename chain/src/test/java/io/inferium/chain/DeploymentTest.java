package io.inferium.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deployment and key files: round trip, and bad ones refused naming the file and the field (never the key). */
class DeploymentTest {

  private static final String A = "0x" + "1".repeat(40);
  private static final String B = "0x" + "a".repeat(40);

  @TempDir
  Path dir;

  @Test
  void aWrittenDeploymentReadsBackTheSame() throws Exception {
    Deployment d = new Deployment(31337, A, B, A, B, A, 5);
    Path file = dir.resolve("sub/deployment.json");
    d.write(file);
    assertEquals(d, Deployment.read(file));
  }

  @Test
  void badDeploymentFilesNameTheFileAndField() throws Exception {
    Path file = dir.resolve("d.json");
    Files.writeString(file, new Deployment(1, A, B, A, B, A, 0).toJson().put("anchor", "0x1234").encode());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Deployment.read(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("anchor"), e.getMessage());
    Files.writeString(file, "[1, 2]");
    e = assertThrows(IllegalArgumentException.class, () -> Deployment.read(file));
    assertTrue(e.getMessage().contains("not a JSON object"), e.getMessage());
    Files.writeString(file, new Deployment(1, A, B, A, B, A, 0).toJson().put("chain_id", "one").encode());
    e = assertThrows(IllegalArgumentException.class, () -> Deployment.read(file));
    assertTrue(e.getMessage().contains("chain_id"), e.getMessage());
    java.io.IOException missing = assertThrows(java.io.IOException.class, () -> Deployment.read(dir.resolve("none.json")));
    assertTrue(missing.getMessage().contains("none.json"), missing.getMessage());
  }

  @Test
  void aKeyFileHoldsOneHexKeyAndABadOneIsNotEchoed() throws Exception {
    Path file = dir.resolve("k");
    String key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    Files.writeString(file, "0x" + key + "\n");
    assertEquals(org.web3j.crypto.Credentials.create(key).getAddress(), KeyFile.read(file).getAddress());
    Files.writeString(file, key + " and more");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KeyFile.read(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertFalse(e.getMessage().contains(key.substring(0, 16)), "the key is never printed");
  }
}
