package io.inferium.verifier;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import java.util.Arrays;
import java.util.List;

/**
 * How alike two runs' outputs are, from 0 to 1: for floating-point outputs the cosine similarity of
 * the flattened values times the ratio of their lengths (smaller over larger), for integer, boolean and
 * string outputs exact equality (1 or 0). Over several outputs, the least similar one decides. Outputs
 * that differ in name, type or shape score 0.
 *
 * <p>Cosine alone cannot tell {@code x} from {@code 99 x}: a node answering every output scaled (logits
 * that make a softmax certain, a regression off by a factor, a one-element output of any value with
 * the right sign) would agree with honest ones at cosine 1. The length ratio makes such an answer
 * score its scale's inverse, while rounding noise, which moves the length by a few parts per million,
 * still scores above any sensible threshold.
 */
public final class Similarity {

  private Similarity() {}

  public static double of(List<Tensor> a, List<Tensor> b) {
    if (a.size() != b.size()) {
      return 0;
    }
    double min = 1;
    for (Tensor x : a) {
      Tensor y = b.stream().filter(t -> t.name().equals(x.name())).findFirst().orElse(null);
      if (y == null) {
        return 0;
      }
      min = Math.min(min, of(x, y));
    }
    return min;
  }

  public static double of(Tensor x, Tensor y) {
    if (x.type() != y.type() || !Arrays.equals(x.shape(), y.shape())) {
      return 0;
    }
    if (!x.type().isFloatingPoint()) {
      return x.view().equals(y.view()) ? 1 : 0;
    }
    return cosine(Tensors.toDoubleArray(x), Tensors.toDoubleArray(y));
  }

  /**
   * Cosine similarity times the ratio of the two vectors' lengths (smaller over larger); two all-zero
   * vectors are identical, NaN or an infinity anywhere makes them agree only if equal.
   */
  static double cosine(double[] a, double[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      if (Double.isNaN(a[i]) || Double.isNaN(b[i]) || Double.isInfinite(a[i]) || Double.isInfinite(b[i])) {
        return Arrays.equals(a, b) ? 1 : 0;
      }
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    if (na == 0 && nb == 0) {
      return 1;
    }
    if (na == 0 || nb == 0) {
      return 0;
    }
    double la = Math.sqrt(na);
    double lb = Math.sqrt(nb);
    double cos = Math.max(-1, Math.min(1, dot / (la * lb)));
    return cos * Math.min(la, lb) / Math.max(la, lb);
  }

  /** Whether a type is compared by cosine (true) or exactly. */
  public static boolean approximate(DataType type) {
    return type.isFloatingPoint();
  }
}
