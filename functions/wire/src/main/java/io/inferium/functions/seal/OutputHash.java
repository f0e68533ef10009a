package io.inferium.functions.seal;

import io.inferium.functions.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** SHA-256 over a run's outputs (each tensor's name, type, shape and bytes, in order): the evidence hash. */
public final class OutputHash {

  private OutputHash() {}

  public static String of(List<Tensor> outputs) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (Tensor t : outputs) {
        d.update(t.name().getBytes(StandardCharsets.UTF_8));
        d.update((byte) t.type().onnxType());
        for (long dim : t.shape()) {
          d.update(Long.toString(dim).getBytes(StandardCharsets.US_ASCII));
          d.update((byte) ',');
        }
        d.update(t.view());
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The evidence hash of a generation: per choice, in order, its index and the token ids it produced.
   * The gateway recomputes it from the tokens it streamed, so a worker cannot sign one sequence and
   * send another.
   */
  public static String ofTokens(List<int[]> choices) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (int i = 0; i < choices.size(); i++) {
        StringBuilder sb = new StringBuilder().append(i).append(':');
        for (int id : choices.get(i)) {
          sb.append(id).append(',');
        }
        d.update(sb.append(';').toString().getBytes(StandardCharsets.US_ASCII));
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
