package io.inferium.scoring.eval;

/**
 * Whether a benchmark run's primary metric dropped against the previous run by more than a threshold
 * (absolute, in the metric's own units: 0.02 means two points of accuracy). A metric where lower is
 * better (MSE, MAE) is compared the other way round.
 */
public final class QualityTrend {

  /** Default drop that raises a flag. */
  public static final double DEFAULT_THRESHOLD = 0.02;

  private QualityTrend() {}

  public static boolean dropped(Double previous, double current, boolean higherIsBetter, double threshold) {
    if (previous == null) {
      return false;
    }
    double drop = higherIsBetter ? previous - current : current - previous;
    return drop > threshold;
  }
}
