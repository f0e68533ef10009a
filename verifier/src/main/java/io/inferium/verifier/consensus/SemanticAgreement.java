package io.inferium.verifier.consensus;

import io.inferium.verifier.Agreement;
import io.inferium.verifier.EmbeddedText;
import java.util.List;

/**
 * Unseeded generations compared by meaning: two runs agree as much as their least alike choice, where two
 * choices with the same text are identical (1, whatever the embedder said), an empty text against a non-empty
 * one is unrelated (0), and otherwise the cosine of their embeddings counts, clamped to [0, 1] (opposite meanings
 * are no more agreement than unrelated ones). A different number of choices, a missing or non-finite embedding, or
 * embeddings of different sizes score 0: a broken embedding must never make two runs agree. The evidence hash is
 * the run's ids and text ({@link TokenAgreement#hash}), what the node produced, not what the embedder made of it.
 */
public final class SemanticAgreement implements Agreement<EmbeddedText> {

  public static final SemanticAgreement INSTANCE = new SemanticAgreement();

  private SemanticAgreement() {}

  @Override
  public double similarity(EmbeddedText x, EmbeddedText y) {
    List<String> a = x.text().texts();
    List<String> b = y.text().texts();
    if (a.size() != b.size() || a.isEmpty()) {
      return a.equals(b) ? 1 : 0;
    }
    double min = 1;
    for (int i = 0; i < a.size(); i++) {
      min = Math.min(min, choice(a.get(i), b.get(i), x.vectors().get(i), y.vectors().get(i)));
    }
    return min;
  }

  private static double choice(String a, String b, float[] va, float[] vb) {
    if (a.equals(b)) {
      return 1;
    }
    if (a.isEmpty() || b.isEmpty() || va == null || vb == null || va.length != vb.length || va.length == 0) {
      return 0;
    }
    return cosine(va, vb);
  }

  /** Cosine in [0, 1]; 0 for a zero vector or any NaN or infinity. */
  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      if (!Float.isFinite(a[i]) || !Float.isFinite(b[i])) {
        return 0;
      }
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    if (na == 0 || nb == 0) {
      return 0;
    }
    double c = dot / (Math.sqrt(na) * Math.sqrt(nb));
    return Double.isFinite(c) ? Math.max(0, Math.min(1, c)) : 0;
  }

  @Override
  public String hash(EmbeddedText out) {
    return TokenAgreement.INSTANCE.hash(out.text());
  }
}
