package io.inferium.scoring.arena;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Finds outlier voters: those who, over at least {@code minDecisive} decisive (non-tie) comparisons,
 * agree with the consensus ratings in less than {@code minAgreement} of them. A voter who always
 * picks the model everyone else rates lower (random or adversarial voting) falls out; a voter with a
 * few contrarian votes does not. The caller refits without them.
 */
public final class VoterScreen {

  public static final int DEFAULT_MIN_DECISIVE = 6;
  public static final double DEFAULT_MIN_AGREEMENT = 0.25;

  private VoterScreen() {}

  public static Set<String> outliers(List<Comparison> comparisons, Map<String, Double> ratings, int minDecisive,
      double minAgreement) {
    Map<String, int[]> tally = new HashMap<>();
    for (Comparison c : comparisons) {
      if (c.scoreA() == 0.5 || c.voter() == null) {
        continue;
      }
      double ra = ratings.getOrDefault(c.a(), 1000.0);
      double rb = ratings.getOrDefault(c.b(), 1000.0);
      if (ra == rb) {
        continue;
      }
      boolean agrees = (c.scoreA() == 1) == (ra > rb);
      int[] t = tally.computeIfAbsent(c.voter(), v -> new int[2]);
      t[0] += agrees ? 1 : 0;
      t[1]++;
    }
    return tally.entrySet().stream()
        .filter(e -> e.getValue()[1] >= minDecisive && (double) e.getValue()[0] / e.getValue()[1] < minAgreement)
        .map(Map.Entry::getKey).collect(Collectors.toSet());
  }

  /** The comparisons without those of {@code excluded} voters. */
  public static List<Comparison> without(List<Comparison> comparisons, Set<String> excluded) {
    return comparisons.stream().filter(c -> c.voter() == null || !excluded.contains(c.voter())).toList();
  }
}
