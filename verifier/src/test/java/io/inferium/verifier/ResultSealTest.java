package io.inferium.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.seal.ResultSeal;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The attacks a worker (or a man in the middle) could try on a window of sealed results. */
class ResultSealTest {

  private static final String MODEL = "a".repeat(64);
  private final NodeKeys keys = NodeKeys.generate();

  private static String out(int i) {
    return String.format("%064x", i);
  }

  /** The leaves the gateway computes from what it received: results {@code ids}, in that order. */
  private static List<byte[]> received(long... ids) {
    List<byte[]> leaves = new ArrayList<>();
    for (long id : ids) {
      leaves.add(ResultSeal.leaf(id, MODEL, out((int) id)));
    }
    return leaves;
  }

  private ResultSeal.Sealed sealOf(ResultSeal.Window w, long... ids) {
    for (long id : ids) {
      w.add(id, MODEL, out((int) id));
    }
    return w.seal().orElseThrow();
  }

  private ResultSeal.Checker checker(String nonce) {
    return new ResultSeal.Checker(NodeKeys.Verifier.of(keys.publicKey()), keys.nodeId(), nonce);
  }

  @Test
  void anHonestWindowVerifiesSealAfterSeal() {
    ResultSeal.Window w = new ResultSeal.Window(keys, "link-1");
    ResultSeal.Checker c = checker("link-1");
    assertEquals(Optional.empty(), c.check(sealOf(w, 1, 2, 3), received(1, 2, 3)));
    assertEquals(Optional.empty(), c.check(sealOf(w, 4), received(4)));
    assertEquals(Optional.empty(), c.check(sealOf(w, 5, 6, 7, 8, 9, 10, 11), received(5, 6, 7, 8, 9, 10, 11)));
    assertTrue(w.seal().isEmpty(), "nothing unsealed, nothing to seal");
  }

  @Test
  void aForgedSealFails() {
    ResultSeal.Window w = new ResultSeal.Window(keys, "link-1");
    ResultSeal.Sealed honest = sealOf(w, 1, 2);
    byte[] sig = Base64.getDecoder().decode(honest.signature());
    sig[5] ^= 1;
    ResultSeal.Sealed flipped = new ResultSeal.Sealed(honest.seq(), honest.count(), honest.root(),
        Base64.getEncoder().encodeToString(sig));
    assertTrue(checker("link-1").check(flipped, received(1, 2)).orElseThrow().contains("does not verify"));
    // Signed by another key: an impostor on the link.
    ResultSeal.Sealed impostor = sealOf(new ResultSeal.Window(NodeKeys.generate(), "link-1"), 1, 2);
    assertTrue(checker("link-1").check(impostor, received(1, 2)).orElseThrow().contains("does not verify"));
    assertTrue(checker("link-1").check(new ResultSeal.Sealed(0, 2, honest.root(), "not base64!"), received(1, 2))
        .isPresent());
  }

  @Test
  void aSealThatOmitsReordersOrAltersAResultFails() {
    // The worker seals results 1..3 but the gateway received 1, 2, 3 with 2's outputs altered in transit.
    ResultSeal.Sealed s = sealOf(new ResultSeal.Window(keys, "n"), 1, 2, 3);
    List<byte[]> altered = received(1, 2, 3);
    altered.set(1, ResultSeal.leaf(2, MODEL, out(99)));
    assertTrue(checker("n").check(s, altered).orElseThrow().contains("hash to"));
    // Reordered.
    assertTrue(checker("n").check(s, received(1, 3, 2)).orElseThrow().contains("hash to"));
    // A result the worker does not own up to: it sealed two where the gateway received three.
    ResultSeal.Sealed two = sealOf(new ResultSeal.Window(keys, "n"), 1, 3);
    assertTrue(checker("n").check(two, received(1, 2, 3)).orElseThrow().contains("received 3"));
    // Same count, but one result swapped for another id.
    assertTrue(checker("n").check(sealOf(new ResultSeal.Window(keys, "n"), 1, 2, 4), received(1, 2, 3)).isPresent());
    // Another model than the gateway asked for.
    ResultSeal.Window w = new ResultSeal.Window(keys, "n");
    w.add(1, "b".repeat(64), out(1));
    assertTrue(checker("n").check(w.seal().orElseThrow(), received(1)).isPresent());
  }

  @Test
  void aReplayedSealFailsOnAnotherLinkAndOnTheSameOne() {
    ResultSeal.Window w = new ResultSeal.Window(keys, "link-A");
    ResultSeal.Sealed first = sealOf(w, 1, 2);
    // The same node's seal, with identical results, presented on link B (another nonce).
    assertTrue(checker("link-B").check(first, received(1, 2)).orElseThrow().contains("does not verify"));
    // On its own link, a second time: out of sequence.
    ResultSeal.Checker a = checker("link-A");
    assertEquals(Optional.empty(), a.check(first, received(1, 2)));
    assertTrue(a.check(first, received(1, 2)).orElseThrow().contains("seal 1 was due"));
  }

  @Test
  void eachResultIsProvenByTheSealRootAndItsPath() {
    for (int n = 1; n <= 17; n++) {
      long[] ids = new long[n];
      for (int i = 0; i < n; i++) {
        ids[i] = 100 + i;
      }
      List<byte[]> leaves = received(ids);
      ResultSeal.Sealed s = sealOf(new ResultSeal.Window(keys, "n"), ids);
      byte[] root = HexFormat.of().parseHex(s.root());
      assertTrue(NodeKeys.Verifier.of(keys.publicKey()).verify(ResultSeal.message("n", s.seq(), n, s.root()),
          Base64.getDecoder().decode(s.signature())));
      for (int i = 0; i < n; i++) {
        List<byte[]> path = ResultSeal.path(leaves, i);
        assertTrue(ResultSeal.proves(leaves.get(i), i, n, path, root), "leaf " + i + " of " + n);
        assertFalse(ResultSeal.proves(ResultSeal.leaf(ids[i], MODEL, out(0)), i, n, path, root), "altered leaf " + i);
        if (n > 1) {
          assertFalse(ResultSeal.proves(leaves.get(i), (i + 1) % n, n, path, root), "wrong position " + i + " of " + n);
        }
      }
    }
  }
}
