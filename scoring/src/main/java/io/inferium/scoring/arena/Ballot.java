package io.inferium.scoring.arena;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A voter's ranking of the 2 or 3 anonymous outputs of one battle: a rank per model (1 = best; equal
 * ranks are ties), or "all bad". It becomes pairwise {@link Comparison}s for the ratings and usage
 * points for the models.
 *
 * <p>Pairs: a better rank wins, an equal rank ties; "all bad" is a tie between every pair (as
 * Chatbot Arena counts "both are bad"). Points: rank 1, 2, 3 earn 3, 2, 1 (tied models share the
 * rank's points); "all bad" earns nothing.
 */
public record Ballot(Map<String, Integer> ranks, boolean allBad) {

  /** Points for ranks 1, 2 and 3. */
  public static final int[] RANK_POINTS = {3, 2, 1};

  public Ballot {
    if (ranks.size() < 2 || ranks.size() > 3) {
      throw new IllegalArgumentException("a battle has 2 or 3 models, got " + ranks.size());
    }
    if (!allBad) {
      for (Map.Entry<String, Integer> e : ranks.entrySet()) {
        if (e.getValue() == null || e.getValue() < 1 || e.getValue() > ranks.size()) {
          throw new IllegalArgumentException("rank of " + e.getKey() + ": expected 1.." + ranks.size() + ", got "
              + e.getValue());
        }
      }
    }
    ranks = Map.copyOf(ranks);
  }

  /** Every pair once, in a stable order (models sorted by name). */
  public List<Comparison> comparisons(String voter) {
    List<String> models = ranks.keySet().stream().sorted().toList();
    List<Comparison> out = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      for (int j = i + 1; j < models.size(); j++) {
        String a = models.get(i);
        String b = models.get(j);
        double s = allBad ? 0.5 : Integer.compare(ranks.get(b), ranks.get(a)) * 0.5 + 0.5;
        out.add(new Comparison(a, b, s, voter));
      }
    }
    return out;
  }

  /** Usage points a model earns from this ballot. */
  public int points(String model) {
    if (allBad || !ranks.containsKey(model)) {
      return 0;
    }
    return RANK_POINTS[ranks.get(model) - 1];
  }
}
