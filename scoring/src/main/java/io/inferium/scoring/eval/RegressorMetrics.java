package io.inferium.scoring.eval;

import io.vertx.core.json.JsonObject;

/**
 * Regression quality: mean squared error, mean absolute error and the coefficient of determination
 * R² = 1 − SS_res / SS_tot (SS_tot around the mean of the expected values). When every expected
 * value is equal SS_tot is 0: R² is then 1 for a perfect fit and 0 otherwise (scikit-learn's
 * convention).
 */
public final class RegressorMetrics {

  private RegressorMetrics() {}

  public record Report(double mse, double mae, double r2, int rows) {
    public JsonObject toJson() {
      return new JsonObject().put("mse", mse).put("mae", mae).put("r2", r2).put("rows", rows);
    }
  }

  public static Report evaluate(double[] expected, double[] predicted) {
    if (expected.length != predicted.length) {
      throw new IllegalArgumentException("expected " + expected.length + " predictions, got " + predicted.length);
    }
    if (expected.length == 0) {
      throw new IllegalArgumentException("no rows to score");
    }
    int n = expected.length;
    double mean = 0;
    for (double y : expected) {
      mean += y;
    }
    mean /= n;
    double ssRes = 0;
    double absSum = 0;
    double ssTot = 0;
    for (int i = 0; i < n; i++) {
      double d = expected[i] - predicted[i];
      ssRes += d * d;
      absSum += Math.abs(d);
      ssTot += (expected[i] - mean) * (expected[i] - mean);
    }
    double r2 = ssTot == 0 ? (ssRes == 0 ? 1 : 0) : 1 - ssRes / ssTot;
    return new Report(ssRes / n, absSum / n, r2, n);
  }
}
