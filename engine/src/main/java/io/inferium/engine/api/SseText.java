package io.inferium.engine.api;

/**
 * JSON string literals for the per-token SSE events, written straight into the event being built (the
 * general encoder sets up a generator per call, which on the token path costs more than the token).
 */
final class SseText {

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private SseText() {}

  /** Appends {@code s} as a JSON string literal, quoted; escapes what JSON requires and nothing else. */
  static void appendJsonString(StringBuilder out, String s) {
    out.append('"');
    int from = 0;
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch >= 0x20 && ch != '"' && ch != '\\') {
        continue;
      }
      out.append(s, from, i);
      from = i + 1;
      switch (ch) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> out.append("\\u00").append(HEX[ch >> 4]).append(HEX[ch & 0xf]);
      }
    }
    out.append(s, from, s.length()).append('"');
  }
}
