package io.inferium.functions.generation;

import java.util.Arrays;
import java.util.List;

/**
 * Turns one sequence's tokens into text deltas. Decoding is incremental, as in Hugging Face's
 * text-generation-inference: the tokens since the last emitted text are decoded together with a
 * few before them (the decoder may need that context, e.g. for a leading space), and the new text
 * is what lies past the context's own text; while that ends in U+FFFD (a character whose UTF-8
 * bytes are not all there yet) the window just grows. Text is also held back while it ends in a
 * prefix of a stop string; a stop string ends the text just before it and none of it is emitted.
 */
final class TextStream {

  private final TextTokenizer tokenizer;
  private final List<String> stops;
  private final int longestStop;
  private int[] ids = new int[16];
  private int count;
  private int prefixOffset;
  private int readOffset;
  private final StringBuilder text = new StringBuilder();
  private int emitted;
  private boolean stopped;

  TextStream(TextTokenizer tokenizer, List<String> stops) {
    this.tokenizer = tokenizer;
    this.stops = stops;
    this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
  }

  /** Adds a generated token and returns the text that is now safe to emit. */
  String push(int token) {
    if (count == ids.length) {
      ids = Arrays.copyOf(ids, count * 2);
    }
    ids[count++] = token;
    String prefix = tokenizer.decode(ids, prefixOffset, readOffset);
    String all = tokenizer.decode(ids, prefixOffset, count);
    if (all.length() > prefix.length() && !all.endsWith("\uFFFD")) {
      text.append(all, prefix.length(), all.length());
      prefixOffset = readOffset;
      readOffset = count;
    }
    return release(false);
  }

  /** Everything not yet emitted (an incomplete character included): the sequence ends without a stop string. */
  String flush() {
    if (stopped) {
      return "";
    }
    String prefix = tokenizer.decode(ids, prefixOffset, readOffset);
    String all = tokenizer.decode(ids, prefixOffset, count);
    if (all.length() > prefix.length()) {
      text.append(all, prefix.length(), all.length());
    }
    prefixOffset = readOffset = count;
    return release(true);
  }

  /** True once a stop string appeared. */
  boolean stopped() {
    return stopped;
  }

  private String release(boolean all) {
    if (stopped) {
      return "";
    }
    int stopAt = -1;
    // A stop string may begin in held-back text, never in emitted text.
    for (String stop : stops) {
      int at = text.indexOf(stop, emitted);
      if (at >= 0 && (stopAt < 0 || at < stopAt)) {
        stopAt = at;
      }
    }
    if (stopAt >= 0) {
      stopped = true;
      return take(stopAt);
    }
    int end = text.length();
    if (!all && longestStop > 0) {
      String tail = text.substring(Math.max(emitted, end - longestStop + 1));
      int hold = 0;
      for (String stop : stops) {
        for (int len = Math.min(stop.length() - 1, tail.length()); len > hold; len--) {
          if (tail.regionMatches(tail.length() - len, stop, 0, len)) {
            hold = len;
            break;
          }
        }
      }
      end -= hold;
    }
    return take(end);
  }

  private String take(int end) {
    if (end <= emitted) {
      return "";
    }
    String delta = text.substring(emitted, end);
    emitted = end;
    return delta;
  }
}
