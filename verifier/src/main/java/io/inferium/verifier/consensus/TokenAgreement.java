package io.inferium.verifier.consensus;

import io.inferium.functions.seal.OutputHash;
import io.inferium.verifier.Agreement;
import java.util.Arrays;
import java.util.List;

/**
 * Seeded text generation compared by its token ids: one {@code int[]} per choice, in choice order. Under the
 * same seed, bundle and sampling parameters every honest node samples the same ids, so two runs agree
 * (1) only when every choice has exactly the same ids, the same count included, and disagree (0) otherwise:
 * no partial credit, so a node that changes one token is as outvoted as one that invents the whole text.
 * The evidence hash is the one the worker signs ({@link OutputHash#ofTokens}).
 */
public final class TokenAgreement implements Agreement<List<int[]>> {

  public static final TokenAgreement INSTANCE = new TokenAgreement();

  private TokenAgreement() {}

  @Override
  public double similarity(List<int[]> a, List<int[]> b) {
    if (a.size() != b.size()) {
      return 0;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i), b.get(i))) {
        return 0;
      }
    }
    return 1;
  }

  @Override
  public String hash(List<int[]> choices) {
    return OutputHash.ofTokens(choices);
  }
}
