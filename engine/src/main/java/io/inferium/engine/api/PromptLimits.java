package io.inferium.engine.api;

import io.inferium.functions.FunctionRecord;
import io.vertx.core.json.JsonObject;

/**
 * How much prompt text an OpenAI-route request may carry, checked at the gateway before anything is
 * queued or sent to a worker: tokenizing and templating run in the worker and their time grows with
 * the text, so the text is bounded first. A model whose context length its deploy reported gets
 * {@link #BYTES_PER_TOKEN} bytes per context token (a generous ceiling: real text averages about four
 * bytes per token, and the worker checks the exact token count against the context afterwards);
 * every model is capped at {@code absoluteBytes}. Over the limit: 413 naming the limit and the field.
 */
final class PromptLimits {

  /** Bytes allowed per token of a model's context. */
  static final int BYTES_PER_TOKEN = 16;
  /**
   * Headroom of a /v1 body over the absolute prompt cap (JSON escaping, other fields), and room for
   * an oversized prompt to reach {@link #check}, which names the limit and the field; a larger body is
   * refused by the body handler with a bare 413.
   */
  static final int BODY_FACTOR = 32;

  private final long absoluteBytes;

  PromptLimits(long absoluteBytes) {
    if (absoluteBytes < 1) {
      throw new IllegalArgumentException("the prompt limit must be at least 1 byte, got " + absoluteBytes);
    }
    this.absoluteBytes = absoluteBytes;
  }

  long absoluteBytes() {
    return absoluteBytes;
  }

  /** The largest body a /v1 route reads: enough for a prompt at the absolute cap, escaped, and the rest. */
  long bodyLimit(long maxRequestBytes) {
    return Math.min(maxRequestBytes, Math.multiplyExact(absoluteBytes, BODY_FACTOR) + (64 << 10));
  }

  /** The prompt bytes {@code fn} accepts. */
  long limitFor(FunctionRecord fn) {
    int context = context(fn);
    return context > 0 ? Math.min(absoluteBytes, (long) context * BYTES_PER_TOKEN) : absoluteBytes;
  }

  private static int context(FunctionRecord fn) {
    JsonObject text = fn.report() == null ? null : fn.report().getJsonObject("text");
    Object n = text == null ? null : text.getValue("max_context");
    return n instanceof Number num ? num.intValue() : 0;
  }

  /** UTF-8 bytes of {@code s}, without encoding it. */
  static long utf8Bytes(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  /**
   * Throws a 413 naming {@code param} when {@code bytes} of prompt exceed what {@code fn} accepts.
   */
  void check(FunctionRecord fn, String param, long bytes) {
    long limit = limitFor(fn);
    if (bytes > limit) {
      int context = context(fn);
      String why = context > 0 && limit < absoluteBytes
          ? BYTES_PER_TOKEN + " bytes per token of its " + context + "-token context"
          : "the server's limit";
      throw new OpenAiErrors.ParamError(413, param, "field '" + param + "': " + bytes + " bytes of text exceed the limit of "
          + limit + " bytes for model '" + fn.name() + "' (" + why + "); send a shorter prompt");
    }
  }

  /** The UTF-8 bytes of all message contents (and roles) of a chat request. */
  static long chatBytes(io.vertx.core.json.JsonArray messages) {
    long n = 0;
    for (int i = 0; i < messages.size(); i++) {
      JsonObject m = messages.getJsonObject(i);
      n += utf8Bytes(m.getString("role", "")) + utf8Bytes(m.getString("content", ""));
    }
    return n;
  }
}
