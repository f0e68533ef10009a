package io.inferium.scoring.eval;

/**
 * Retrieval recall@k for embedding functions on given (query, passage) pairs: every query is
 * compared by cosine similarity with every passage of the dataset; the query counts as a hit when its
 * own passage is among the k most similar. Ties are broken against the query (a passage with the same
 * similarity as the right one and a lower index ranks first), so the figure never flatters.
 */
public final class RetrievalMetrics {

  private RetrievalMetrics() {}

  /**
   * @param queries  one embedding per query
   * @param passages one embedding per passage; {@code passages[i]} is the answer to {@code queries[i]}
   */
  public static double recallAtK(float[][] queries, float[][] passages, int k) {
    if (queries.length != passages.length || queries.length == 0) {
      throw new IllegalArgumentException("need as many passages as queries (one pair per row), got "
          + queries.length + " and " + passages.length);
    }
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    int hits = 0;
    for (int q = 0; q < queries.length; q++) {
      double own = cosine(queries[q], passages[q]);
      int better = 0;
      for (int p = 0; p < passages.length; p++) {
        if (p == q) {
          continue;
        }
        double s = cosine(queries[q], passages[p]);
        if (s > own || (s == own && p < q)) {
          better++;
        }
      }
      if (better < k) {
        hits++;
      }
    }
    return (double) hits / queries.length;
  }

  /** Cosine similarity; 0 when either vector is all zeros. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("embeddings of different sizes: " + a.length + " and " + b.length);
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
  }
}
