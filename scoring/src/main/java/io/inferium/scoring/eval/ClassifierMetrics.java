package io.inferium.scoring.eval;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Classification quality from expected and predicted class indices: accuracy, per-class precision,
 * recall and F1, their unweighted (macro) means, and the confusion matrix.
 *
 * <p>Conventions (those of scikit-learn with {@code zero_division=0}): a class never predicted has
 * precision 0; a class never expected has recall 0; F1 is 0 when precision + recall is 0. Macro means
 * average over every class in {@code labels}, present in the data or not.
 */
public final class ClassifierMetrics {

  private ClassifierMetrics() {}

  /** The result; {@code confusion[e][p]} counts rows expected {@code e} and predicted {@code p}. */
  public record Report(List<String> labels, long[][] confusion, double accuracy, double[] precision, double[] recall,
      double[] f1, double macroPrecision, double macroRecall, double macroF1, int rows) {

    public JsonObject toJson() {
      JsonArray perClass = new JsonArray();
      JsonArray matrix = new JsonArray();
      for (int c = 0; c < labels.size(); c++) {
        perClass.add(new JsonObject().put("label", labels.get(c)).put("precision", precision[c])
            .put("recall", recall[c]).put("f1", f1[c]));
        JsonArray row = new JsonArray();
        for (long n : confusion[c]) {
          row.add(n);
        }
        matrix.add(row);
      }
      return new JsonObject().put("accuracy", accuracy).put("precision_macro", macroPrecision)
          .put("recall_macro", macroRecall).put("f1_macro", macroF1).put("per_class", perClass)
          .put("confusion_matrix", matrix).put("labels", new JsonArray(labels)).put("rows", rows);
    }
  }

  /**
   * Scores predictions against expectations (equal lengths, indices into {@code labels}).
   *
   * @throws IllegalArgumentException on different lengths, no rows, or an index outside the labels
   */
  public static Report evaluate(int[] expected, int[] predicted, List<String> labels) {
    if (expected.length != predicted.length) {
      throw new IllegalArgumentException("expected " + expected.length + " predictions, got " + predicted.length);
    }
    if (expected.length == 0) {
      throw new IllegalArgumentException("no rows to score");
    }
    int k = labels.size();
    long[][] confusion = new long[k][k];
    long correct = 0;
    for (int i = 0; i < expected.length; i++) {
      int e = expected[i];
      int p = predicted[i];
      if (e < 0 || e >= k || p < 0 || p >= k) {
        throw new IllegalArgumentException("row " + i + ": class index outside 0.." + (k - 1));
      }
      confusion[e][p]++;
      if (e == p) {
        correct++;
      }
    }
    double[] precision = new double[k];
    double[] recall = new double[k];
    double[] f1 = new double[k];
    for (int c = 0; c < k; c++) {
      long tp = confusion[c][c];
      long predictedC = 0;
      long expectedC = 0;
      for (int o = 0; o < k; o++) {
        predictedC += confusion[o][c];
        expectedC += confusion[c][o];
      }
      precision[c] = predictedC == 0 ? 0 : (double) tp / predictedC;
      recall[c] = expectedC == 0 ? 0 : (double) tp / expectedC;
      f1[c] = precision[c] + recall[c] == 0 ? 0 : 2 * precision[c] * recall[c] / (precision[c] + recall[c]);
    }
    return new Report(List.copyOf(labels), confusion, (double) correct / expected.length, precision, recall, f1,
        mean(precision), mean(recall), mean(f1), expected.length);
  }

  private static double mean(double[] xs) {
    double s = 0;
    for (double x : xs) {
      s += x;
    }
    return s / xs.length;
  }
}
