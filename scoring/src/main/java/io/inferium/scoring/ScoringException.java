package io.inferium.scoring;

/**
 * A refusal from the scoring stores, with the HTTP status it stands for (400 bad field, 404 not
 * found or not visible, 409 duplicate, 429 over a cap) so the routes can answer without guessing.
 */
public final class ScoringException extends RuntimeException {

  private final int status;

  public ScoringException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
