package io.inferium.verifier;

import io.inferium.functions.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleBiFunction;

/**
 * Redundant runs compared: the largest group of runs whose outputs agree pairwise at or above the
 * threshold wins if it is a strict majority of the runs that answered. One run alone is
 * {@code unverified}; no majority is {@code disputed}.
 */
public final class Consensus {

  /** Outcome of a comparison. */
  public enum Kind { VERIFIED, UNVERIFIED, DISPUTED;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * @param agreeing   indexes of the runs in the winning group (empty when disputed)
   * @param outliers   indexes of the runs outside it (empty when disputed)
   * @param similarity the least pairwise similarity within the group (1 for a single run); for a
   *                   dispute, the best pairwise similarity seen
   * @param matrix     every pairwise similarity
   */
  public record Verdict(Kind kind, List<Integer> agreeing, List<Integer> outliers, double similarity, double[][] matrix) {}

  /** Groups are found exhaustively, which is fine for the handful of runs a request gets. */
  public static final int MAX_RUNS = 12;

  private Consensus() {}

  public static Verdict decide(List<List<Tensor>> runs, double threshold) {
    return decide(runs, threshold, Similarity::of);
  }

  /**
   * The same comparison over any kind of output, given how alike two outputs are (0 to 1): how a
   * verifier of another output kind (text) reuses the majority rule.
   */
  public static <O> Verdict decide(List<O> runs, double threshold, ToDoubleBiFunction<O, O> similarity) {
    int n = runs.size();
    if (n == 0 || n > MAX_RUNS) {
      throw new IllegalArgumentException("between 1 and " + MAX_RUNS + " runs, got " + n);
    }
    double[][] sim = new double[n][n];
    for (int i = 0; i < n; i++) {
      sim[i][i] = 1;
      for (int j = i + 1; j < n; j++) {
        double s = similarity.applyAsDouble(runs.get(i), runs.get(j));
        // NaN compares false against the threshold, so it would count as agreement: it is none.
        sim[i][j] = sim[j][i] = Double.isNaN(s) ? 0 : s;
      }
    }
    if (n == 1) {
      return new Verdict(Kind.UNVERIFIED, List.of(0), List.of(), 1, sim);
    }
    int best = 0;
    double bestMin = 0;
    for (int mask = 1; mask < (1 << n); mask++) {
      int size = Integer.bitCount(mask);
      if (size < Integer.bitCount(best)) {
        continue;
      }
      double min = groupMin(mask, sim, threshold);
      if (min < 0) {
        continue;
      }
      if (size > Integer.bitCount(best) || min > bestMin) {
        best = mask;
        bestMin = min;
      }
    }
    if (Integer.bitCount(best) * 2 <= n) {
      double top = 0;
      for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
          top = Math.max(top, sim[i][j]);
        }
      }
      return new Verdict(Kind.DISPUTED, List.of(), List.of(), top, sim);
    }
    List<Integer> agreeing = new ArrayList<>();
    List<Integer> outliers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ((best & (1 << i)) != 0 ? agreeing : outliers).add(i);
    }
    return new Verdict(Kind.VERIFIED, agreeing, outliers, bestMin, sim);
  }

  /** The least pairwise similarity in the group, or -1 if some pair is below the threshold. */
  private static double groupMin(int mask, double[][] sim, double threshold) {
    double min = 1;
    for (int i = 0; i < sim.length; i++) {
      if ((mask & (1 << i)) == 0) {
        continue;
      }
      for (int j = i + 1; j < sim.length; j++) {
        if ((mask & (1 << j)) != 0) {
          if (sim[i][j] < threshold) {
            return -1;
          }
          min = Math.min(min, sim[i][j]);
        }
      }
    }
    return min;
  }
}
