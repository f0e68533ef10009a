package io.inferium.verifier.consensus;

import io.inferium.functions.seal.OutputHash;
import io.inferium.verifier.Agreement;
import io.inferium.verifier.TextOutput;
import java.util.Arrays;
import java.util.List;

/**
 * Seeded text generation compared by its token ids and its text: under the same seed, bundle and sampling
 * parameters every honest node samples the same ids and streams the same text, so two runs agree (1) only
 * when every choice has exactly the same ids (the same count included) and the same text, and disagree (0)
 * otherwise: no partial credit, so a node that changes one token, or only the text it shows for a right id,
 * is as outvoted as one that invents the whole answer. The evidence hash covers both: the ids' hash the
 * worker signs ({@link OutputHash#ofTokens}) and the texts.
 */
public final class TokenAgreement implements Agreement<TextOutput> {

  public static final TokenAgreement INSTANCE = new TokenAgreement();

  private TokenAgreement() {}

  @Override
  public double similarity(TextOutput x, TextOutput y) {
    List<int[]> a = x.ids();
    List<int[]> b = y.ids();
    if (a.size() != b.size() || !x.texts().equals(y.texts())) {
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
  public String hash(TextOutput out) {
    try {
      java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
      d.update(OutputHash.ofTokens(out.ids()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      for (String t : out.texts()) {
        byte[] b = t.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        d.update(java.nio.ByteBuffer.allocate(4).putInt(b.length).array());
        d.update(b);
      }
      return java.util.HexFormat.of().formatHex(d.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
