package io.inferium.functions.generation;

/**
 * Receives one sequence's progress from {@link DecodeLoop}, on the thread that calls
 * {@link DecodeLoop#step()}. Every sampled token is reported once through {@link #onToken}, the
 * end-of-sequence token included, so {@code completionTokens} equals the number of
 * {@code onToken} calls. The text deltas, concatenated, are exactly the completion's text.
 */
public interface GenerationListener {

  /** A sampled token; {@code textDelta} may be empty while text is held back (a possible stop string, incomplete UTF-8). */
  void onToken(long id, int tokenId, String textDelta);

  /** The sequence ended: {@code "stop"} (end-of-sequence token or stop string), {@code "length"} or {@code "cancelled"}. */
  void onFinish(long id, String finishReason, int promptTokens, int completionTokens);

  /** The sequence failed and left the loop (a prompt that does not fit, a runtime error). */
  void onError(long id, Exception e);
}
