package io.inferium.functions.generation;

import java.util.Arrays;
import java.util.List;

/**
 * Turns one sequence's tokens into text deltas. The whole output is decoded again after each
 * token (byte-level BPE only becomes readable once a character's bytes are all there), and text is
 * held back while it ends in U+FFFD (an incomplete UTF-8 character) or in a prefix of a stop
 * string. A stop string ends the text just before it; nothing of it is ever emitted.
 */
final class TextStream {

  private final TextTokenizer tokenizer;
  private final List<String> stops;
  private int[] ids = new int[16];
  private int count;
  private String text = "";
  private int emitted;
  private boolean stopped;

  TextStream(TextTokenizer tokenizer, List<String> stops) {
    this.tokenizer = tokenizer;
    this.stops = stops;
  }

  /** Adds a generated token and returns the text that is now safe to emit. */
  String push(int token) {
    if (count == ids.length) {
      ids = Arrays.copyOf(ids, count * 2);
    }
    ids[count++] = token;
    text = tokenizer.decode(ids, count);
    // A decoder that rewrites earlier text cannot take back what was sent; carry on from there.
    int from = Math.min(emitted, text.length());
    int stopAt = -1;
    for (String stop : stops) {
      int at = text.indexOf(stop, from);
      if (at >= 0 && (stopAt < 0 || at < stopAt)) {
        stopAt = at;
      }
    }
    if (stopAt >= 0) {
      stopped = true;
      return take(stopAt);
    }
    int safe = text.length();
    while (safe > from && text.charAt(safe - 1) == '\uFFFD') {
      safe--;
    }
    int hold = 0;
    for (String stop : stops) {
      for (int len = Math.min(stop.length() - 1, safe - from); len > hold; len--) {
        if (text.regionMatches(safe - len, stop, 0, len)) {
          hold = len;
          break;
        }
      }
    }
    return take(safe - hold);
  }

  /** Everything not yet emitted: the sequence ends without a stop string. */
  String flush() {
    return stopped ? "" : take(text.length());
  }

  /** True once a stop string appeared. */
  boolean stopped() {
    return stopped;
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
