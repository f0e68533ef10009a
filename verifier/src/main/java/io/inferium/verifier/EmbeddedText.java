package io.inferium.verifier;

import java.util.List;

/**
 * One unseeded generation run's output with what its text means: the run as received ({@link TextOutput}) and,
 * per choice, the embedding of that choice's text by the function's similarity embedder (null for an empty text,
 * which is never sent to be embedded). Compared by {@code SemanticAgreement}: sampling without a seed makes honest
 * runs differ token by token, so only the meaning can be compared.
 *
 * @param text    the ids and text per choice, in choice order
 * @param vectors one embedding per choice, in choice order (null where the text is empty)
 */
public record EmbeddedText(TextOutput text, List<float[]> vectors) {

  public EmbeddedText {
    if (vectors.size() != text.texts().size()) {
      throw new IllegalArgumentException(vectors.size() + " embeddings for " + text.texts().size() + " choices");
    }
  }
}
