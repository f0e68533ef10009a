package io.inferium.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.seal.CodeChecksum;
import org.junit.jupiter.api.Test;

class AttestationTest {

  @Test
  void codeChecksumIsStableAndHex() throws Exception {
    String a = CodeChecksum.of(Attestation.class);
    // Classes of one module share a checksum, and a gateway that only knows the path (the node code it
    // spawns) computes the same one.
    assertEquals(a, CodeChecksum.of(Consensus.class));
    assertEquals(a, CodeChecksum.of(java.nio.file.Path.of(Attestation.class.getProtectionDomain().getCodeSource().getLocation().toURI())));
    assertTrue(a.matches("[0-9a-f]{64}"), a);
  }

  @Test
  void mismatchesAreExplained() {
    Attestation att = new Attestation("node-1", "1.29.0", "a".repeat(64), null);
    assertTrue(att.checkCode("a".repeat(64)).isEmpty());
    String why = att.checkCode("b".repeat(64)).orElseThrow();
    assertTrue(why.contains("node-1") && why.contains("aaaaaaaaaaaa") && why.contains("bbbbbbbbbbbb"), why);
    assertTrue(att.checkModel("c".repeat(64), "c".repeat(64)).isEmpty());
    assertTrue(att.checkModel("c".repeat(64), null).orElseThrow().contains("nothing"));
  }
}
