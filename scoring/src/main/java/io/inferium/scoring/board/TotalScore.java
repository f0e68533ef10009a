package io.inferium.scoring.board;

import java.util.HashMap;
import java.util.Map;

/**
 * The leaderboard's score. Within one category, the metric score MS and the user score US are each
 * normalised to 0–100 by the category's best ({@code 100 · x / max}; a negative metric such as a bad
 * R² counts as 0; when the best is 0 everyone gets 0). US normalises usage points. Then
 * {@code Total = α · MS + β · US} with α = 0.4 and β = 0.6 by default. A function without a metric
 * yet has MS 0.
 *
 * <p>Worked example (docs/SCORING.md): macro F1 0.98 and 0.92, points 10 and 5 → MS 100 and 93.88,
 * US 100 and 50 → Total 100 and 67.55.
 */
public record TotalScore(double alpha, double beta) {

  public static final double DEFAULT_ALPHA = 0.4;
  public static final double DEFAULT_BETA = 0.6;
  public static final TotalScore DEFAULT = new TotalScore(DEFAULT_ALPHA, DEFAULT_BETA);

  public TotalScore {
    if (alpha < 0 || beta < 0 || Math.abs(alpha + beta - 1) > 1e-9) {
      throw new IllegalArgumentException("alpha and beta must be non-negative and sum to 1, got " + alpha + " and "
          + beta);
    }
  }

  /** One function's parts and total. */
  public record Parts(double metricScore, double userScore, double total) {}

  /** Normalises a category's raw values to 0–100 by its maximum. Missing values (null) become 0. */
  public static Map<String, Double> normalize(Map<String, Double> raw) {
    double max = 0;
    for (Double v : raw.values()) {
      if (v != null && v > max) {
        max = v;
      }
    }
    Map<String, Double> out = new HashMap<>();
    for (Map.Entry<String, Double> e : raw.entrySet()) {
      double v = e.getValue() == null ? 0 : Math.max(0, e.getValue());
      out.put(e.getKey(), max == 0 ? 0 : 100 * v / max);
    }
    return out;
  }

  /** Scores every function of one category from its raw metric (may be null) and its points. */
  public Map<String, Parts> score(Map<String, Double> metric, Map<String, Long> points) {
    Map<String, Double> pts = new HashMap<>();
    points.forEach((k, v) -> pts.put(k, v == null ? 0.0 : v.doubleValue()));
    metric.keySet().forEach(k -> pts.putIfAbsent(k, 0.0));
    Map<String, Double> all = new HashMap<>(metric);
    pts.keySet().forEach(k -> all.putIfAbsent(k, null));
    Map<String, Double> ms = normalize(all);
    Map<String, Double> us = normalize(pts);
    Map<String, Parts> out = new HashMap<>();
    for (String k : all.keySet()) {
      double m = ms.get(k);
      double u = us.get(k);
      out.put(k, new Parts(m, u, alpha * m + beta * u));
    }
    return out;
  }
}
