package io.inferium.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.seal.NodeKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeKeysTest {

  @Test
  void aNodeKeepsItsIdentityAcrossRestarts(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("nodes/w1.key");
    NodeKeys first = NodeKeys.loadOrCreate(file);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    NodeKeys again = NodeKeys.loadOrCreate(file);
    assertEquals(first.publicKey(), again.publicKey());
    String msg = NodeKeys.resultMessage(7, "a".repeat(64), "b".repeat(64));
    assertTrue(NodeKeys.verify(first.publicKey(), msg, again.sign(msg)));
  }

  @Test
  void rawPublicKeyIsTheKeysThirtyTwoBytesOrNull(@TempDir Path dir) throws IOException {
    NodeKeys keys = NodeKeys.loadOrCreate(dir.resolve("raw.key"));
    byte[] der = java.util.Base64.getDecoder().decode(keys.publicKey());
    byte[] raw = NodeKeys.rawPublicKey(keys.publicKey());
    assertEquals(32, raw.length);
    assertTrue(java.util.Arrays.equals(raw, java.util.Arrays.copyOfRange(der, der.length - 32, der.length)));
    assertEquals(null, NodeKeys.rawPublicKey(null));
    assertEquals(null, NodeKeys.rawPublicKey("not base64!"));
    // 44 bytes that are not an Ed25519 X.509 key (wrong algorithm prefix): refused, not sliced
    der[5] ^= 1;
    assertEquals(null, NodeKeys.rawPublicKey(java.util.Base64.getEncoder().encodeToString(der)));
  }

  @Test
  void forgedOrTamperedSignaturesFail(@TempDir Path dir) throws IOException {
    NodeKeys honest = NodeKeys.loadOrCreate(dir.resolve("a.key"));
    NodeKeys other = NodeKeys.loadOrCreate(dir.resolve("b.key"));
    String msg = NodeKeys.resultMessage(1, "a".repeat(64), "b".repeat(64));
    String sig = honest.sign(msg);
    assertFalse(NodeKeys.verify(other.publicKey(), msg, sig), "someone else's key");
    assertFalse(NodeKeys.verify(honest.publicKey(), NodeKeys.resultMessage(1, "a".repeat(64), "c".repeat(64)), sig),
        "a different output hash");
    assertFalse(NodeKeys.verify(honest.publicKey(), msg, "not base64!"));
    assertFalse(NodeKeys.verify(null, msg, sig));
    Files.writeString(dir.resolve("bad.key"), "garbage\n");
    assertThrows(IOException.class, () -> NodeKeys.loadOrCreate(dir.resolve("bad.key")));
  }

  @Test
  void theNodeIdIsDerivedFromThePublicKey(@TempDir Path dir) throws IOException {
    NodeKeys kept = NodeKeys.loadOrCreate(dir.resolve("k.key"));
    String id = kept.nodeId();
    assertTrue(id.matches("n-[0-9a-f]{16}"), id);
    assertEquals(id, NodeKeys.loadOrCreate(dir.resolve("k.key")).nodeId(), "same key, same node");
    assertEquals(id, NodeKeys.nodeIdOf(kept.publicKey()));
    java.util.Set<String> fresh = new java.util.HashSet<>();
    for (int i = 0; i < 50; i++) {
      fresh.add(NodeKeys.generate().nodeId());
    }
    assertEquals(50, fresh.size(), "a fresh key is a new node");
    assertFalse(fresh.contains(id));
    assertEquals(null, NodeKeys.nodeIdOf("not base64!"));
    assertEquals(null, NodeKeys.nodeIdOf(java.util.Base64.getEncoder().encodeToString(new byte[] {1, 2, 3})));
    assertEquals(null, NodeKeys.nodeIdOf(null));
  }
}
