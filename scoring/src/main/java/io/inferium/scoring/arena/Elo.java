package io.inferium.scoring.arena;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Online Elo, the live approximation of {@link BradleyTerry}: every comparison, in order, moves both
 * ratings by {@code k · (score − expected)} with expected = 1 / (1 + 10^((r_b − r_a)/400)). Cheap and
 * order-dependent; the board reports Bradley–Terry as the rating and Elo alongside it.
 */
public final class Elo {

  public static final double DEFAULT_K = 32;
  public static final double START = 1000;

  private Elo() {}

  public static double expected(double ra, double rb) {
    return 1 / (1 + Math.pow(10, (rb - ra) / 400));
  }

  public static Map<String, Double> ratings(List<Comparison> comparisons, double k) {
    Map<String, Double> r = new HashMap<>();
    for (Comparison c : comparisons) {
      double ra = r.getOrDefault(c.a(), START);
      double rb = r.getOrDefault(c.b(), START);
      double delta = k * (c.scoreA() - expected(ra, rb));
      r.put(c.a(), ra + delta);
      r.put(c.b(), rb - delta);
    }
    return r;
  }
}
