package io.inferium.verifier.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.verifier.Consensus;
import io.inferium.verifier.EmbeddedText;
import io.inferium.verifier.TextOutput;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Unseeded generations judged by the meaning of their text: paraphrases cluster, a liar is outvoted, a tie is a
 * dispute, and a broken embedding (NaN, infinity, zero, missing, wrong size) never makes two runs agree.
 */
class SemanticAgreementTest {

  private static final SemanticAgreement S = SemanticAgreement.INSTANCE;

  /** One run with one choice: its text and the embedding of that text. */
  private static EmbeddedText run(String text, float... vector) {
    return new EmbeddedText(new TextOutput(List.of(ids(text)), List.of(text)),
        Arrays.asList(text.isEmpty() ? null : vector));
  }

  private static int[] ids(String text) {
    return text.chars().toArray();
  }

  @Test
  void theSameTextAgreesWhateverTheEmbedderSaid() {
    assertEquals(1.0, S.similarity(run("the licence", 1, 0), run("the licence", Float.NaN, 0)));
    assertEquals(1.0, S.similarity(run(""), run("")), "two empty answers are the same answer");
  }

  @Test
  void otherTextsAgreeByTheCosineOfTheirEmbeddings() {
    double s = S.similarity(run("you may copy it", 1, 1, 0), run("copying is allowed", 1, 0.9f, 0.1f));
    assertEquals((1 + 0.9) / (Math.sqrt(2) * Math.sqrt(1 + 0.81 + 0.01)), s, 1e-6);
    assertEquals(0.0, S.similarity(run("yes", 1, 0), run("no", -1, 0)), "opposite meanings are no agreement (clamped)");
    assertEquals(0.0, S.similarity(run("yes", 1, 0), run("no", 0, 1)));
  }

  @Test
  void brokenEmbeddingsNeverAgree() {
    assertEquals(0.0, S.similarity(run("a", Float.NaN, 1), run("b", Float.NaN, 1)), "NaN is no agreement, even equal NaN");
    assertEquals(0.0, S.similarity(run("a", Float.POSITIVE_INFINITY, 1), run("b", Float.POSITIVE_INFINITY, 1)));
    assertEquals(0.0, S.similarity(run("a", 0, 0), run("b", 0, 0)), "a zero vector carries no meaning");
    assertEquals(0.0, S.similarity(run("a", 1, 0), run("b", 1, 0, 0)), "embeddings of different sizes");
    assertEquals(0.0, S.similarity(run("", 1), run("something", 1)), "an empty answer against a real one");
    assertThrows(IllegalArgumentException.class,
        () -> new EmbeddedText(new TextOutput(List.of(ids("a")), List.of("a")), List.of()), "one embedding per choice");
  }

  @Test
  void theLeastAlikeChoiceDecidesAndAnotherChoiceCountIsADisagreement() {
    EmbeddedText two = new EmbeddedText(new TextOutput(List.of(ids("a"), ids("b")), List.of("a", "b")),
        List.of(new float[] {1, 0}, new float[] {0, 1}));
    EmbeddedText close = new EmbeddedText(new TextOutput(List.of(ids("a2"), ids("b2")), List.of("a2", "b2")),
        List.of(new float[] {1, 0.1f}, new float[] {0.5f, 1}));
    double first = SemanticAgreement.cosine(new float[] {1, 0}, new float[] {1, 0.1f});
    double second = SemanticAgreement.cosine(new float[] {0, 1}, new float[] {0.5f, 1});
    assertEquals(Math.min(first, second), S.similarity(two, close), 1e-9);
    assertEquals(0.0, S.similarity(two, run("a", 1, 0)), "two choices against one");
  }

  @Test
  void paraphrasesFormTheMajorityClusterAndTheLiarIsOutvoted() {
    List<EmbeddedText> runs = List.of(run("the licence lets you copy", 0.9f, 0.4f, 0.1f),
        run("[lie][lie][lie]", -0.2f, 0.1f, 0.95f), run("you may copy under the licence", 0.85f, 0.5f, 0.05f));
    Consensus.Verdict v = Consensus.decide(runs, 0.9, S::similarity);
    assertEquals(Consensus.Kind.VERIFIED, v.kind());
    assertEquals(List.of(0, 2), v.agreeing());
    assertEquals(List.of(1), v.outliers());
    assertTrue(v.similarity() >= 0.9 && v.similarity() < 1, "the least similarity within the cluster: " + v.similarity());
  }

  @Test
  void twoClustersOfEqualSizeAreATieAndDisputed() {
    List<EmbeddedText> runs = List.of(run("a", 1, 0), run("a'", 0.99f, 0.05f), run("b", 0, 1), run("b'", 0.05f, 0.99f));
    Consensus.Verdict v = Consensus.decide(runs, 0.9, S::similarity);
    assertEquals(Consensus.Kind.DISPUTED, v.kind(), "2 against 2 is no strict majority");
    List<EmbeddedText> nan = List.of(run("x", Float.NaN, 1), run("y", Float.NaN, 1), run("z", Float.NaN, 1));
    assertEquals(Consensus.Kind.DISPUTED, Consensus.decide(nan, 0.5, S::similarity).kind(),
        "an embedder that returns NaN verifies nothing");
  }

  @Test
  void theEvidenceIsWhatTheNodeProducedNotItsEmbedding() {
    EmbeddedText a = run("the licence", 1, 0);
    assertEquals(TokenAgreement.INSTANCE.hash(a.text()), S.hash(a));
    assertEquals(S.hash(a), S.hash(run("the licence", 0, 1)));
    assertNotEquals(S.hash(a), S.hash(run("the licence!", 1, 0)));
  }
}
