package io.inferium.scoring.arena;

/**
 * One pairwise outcome from a vote: {@code scoreA} is 1 when {@code a} won, 0 when {@code b} won, 0.5
 * for a tie. {@code voter} lets outlier voters be screened out.
 */
public record Comparison(String a, String b, double scoreA, String voter) {
  public Comparison {
    if (a.equals(b)) {
      throw new IllegalArgumentException("a model cannot be compared with itself: " + a);
    }
    if (scoreA != 0 && scoreA != 0.5 && scoreA != 1) {
      throw new IllegalArgumentException("scoreA must be 0, 0.5 or 1, got " + scoreA);
    }
  }
}
