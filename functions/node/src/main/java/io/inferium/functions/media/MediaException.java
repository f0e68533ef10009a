package io.inferium.functions.media;

/**
 * Media a request sent cannot be used: not decodable, or over a bound. Always the caller's fault
 * ({@code bad_input}); {@link #tooLarge} says a limit was exceeded rather than the file being broken.
 */
public final class MediaException extends Exception {

  private final boolean tooLarge;

  public MediaException(String message, boolean tooLarge) {
    super(message);
    this.tooLarge = tooLarge;
  }

  public boolean tooLarge() {
    return tooLarge;
  }
}
