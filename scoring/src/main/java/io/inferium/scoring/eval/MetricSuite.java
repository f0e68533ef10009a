package io.inferium.scoring.eval;

import java.util.Optional;

/**
 * Which metrics a function kind is evaluated with, and the one (the primary metric) that feeds the
 * leaderboard's metric score and the quality-drop check.
 *
 * <ul>
 *   <li>classifier: accuracy, precision/recall/F1 (macro and per class), confusion matrix — primary {@code f1_macro}
 *   <li>regressor: MSE, MAE, R² — primary {@code r2}
 *   <li>embedding: recall@k on (query, passage) pairs — primary {@code recall_at_k}
 *   <li>text-generation: exact match, multiple-choice {@code acc}/{@code acc_norm}, prompt following — primary {@code acc}
 *   <li>image-classifier, audio and video (with labels): top-1 and top-k accuracy over a labelled image, clip or video
 *       set (a video's class: its pooled prediction over its sampled frames), and the classifier report beside them —
 *       primary {@code accuracy}
 * </ul>
 */
public enum MetricSuite {
  CLASSIFIER("classifier", "f1_macro", true),
  REGRESSOR("regressor", "r2", true),
  EMBEDDING("embedding", "recall_at_k", true),
  TEXT_GENERATION("text-generation", "acc", true),
  IMAGE_CLASSIFIER("image-classifier", "accuracy", true),
  AUDIO_CLASSIFIER("audio", "accuracy", true),
  VIDEO_CLASSIFIER("video", "accuracy", true);

  private final String kind;
  private final String primary;
  private final boolean higherIsBetter;

  MetricSuite(String kind, String primary, boolean higherIsBetter) {
    this.kind = kind;
    this.primary = primary;
    this.higherIsBetter = higherIsBetter;
  }

  public String kind() {
    return kind;
  }

  public String primary() {
    return primary;
  }

  /** Whether rows carry media files (an {@code image}, an {@code audio} clip or a {@code video} each) rather than numbers or text. */
  public boolean media() {
    return this == IMAGE_CLASSIFIER || this == AUDIO_CLASSIFIER || this == VIDEO_CLASSIFIER;
  }

  public boolean higherIsBetter() {
    return higherIsBetter;
  }

  /** The suite for a function kind (its wire name); empty for kinds without one (tensor). */
  public static Optional<MetricSuite> forKind(String kind) {
    for (MetricSuite s : values()) {
      if (s.kind.equals(kind)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** Whether a metric name is one where higher is better (MSE and MAE are not). */
  public static boolean higherIsBetter(String metric) {
    return !metric.equals("mse") && !metric.equals("mae");
  }
}
