package io.inferium.functions;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;

/**
 * How a text function is served (the spec's {@code text} object; only for {@code text-generation}
 * and {@code embedding} functions).
 *
 * @param maxRunningSequences generations one worker decodes together (continuous batching); more wait
 * @param maxTokensPerStep    prompt tokens a worker prefills in one decode step, so a long prompt
 *                            cannot stall the running streams for long
 * @param maxWaiting          generations waiting at the gateway beyond those running; more get 429
 * @param pooling             how an embedding is taken from the last hidden state: mean, cls or last
 * @param normalize           whether embeddings are scaled to unit length
 * @param tokenWindowMs       how long a generated token may be held on the worker to leave with others (a stream's
 *                            first and last tokens never are): fewer, larger writes to each streaming client for at
 *                            most this much added delay between tokens; 0 sends every decode step's tokens at once
 */
public record TextOptions(int maxRunningSequences, int maxTokensPerStep, int maxWaiting, String pooling, boolean normalize,
    int tokenWindowMs) {

  /** The longest {@code token_window_ms} a spec may set. */
  public static final int MAX_TOKEN_WINDOW_MS = 250;
  public static final TextOptions DEFAULT = new TextOptions(16, 512, 256, "mean", true, 2);
  static final Set<String> FIELDS = Set.of("max_running_sequences", "max_tokens_per_step", "max_waiting", "pooling",
      "normalize", "token_window_ms");

  private static final List<String> POOLING = List.of("mean", "cls", "last");

  public JsonObject toJson() {
    return new JsonObject().put("max_running_sequences", maxRunningSequences).put("max_tokens_per_step", maxTokensPerStep)
        .put("max_waiting", maxWaiting).put("pooling", pooling).put("normalize", normalize)
        .put("token_window_ms", tokenWindowMs);
  }

  static TextOptions fromJson(Object value, FunctionKind kind) {
    if (value == null) {
      return DEFAULT;
    }
    if (kind != FunctionKind.TEXT_GENERATION && kind != FunctionKind.EMBEDDING) {
      throw new InvalidSpecException("field 'text': only text-generation and embedding functions have text options, "
          + "this function's kind is " + kind.wire());
    }
    if (!(value instanceof JsonObject t)) {
      throw new InvalidSpecException("field 'text': expected an object such as {\"max_running_sequences\": 16}, got " + value);
    }
    for (String field : t.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new InvalidSpecException("field 'text': unknown field '" + field + "' (accepted: "
            + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
      }
    }
    int running = intIn(t, "max_running_sequences", 1, 256, DEFAULT.maxRunningSequences);
    int perStep = intIn(t, "max_tokens_per_step", 16, 65_536, DEFAULT.maxTokensPerStep);
    int waiting = intIn(t, "max_waiting", 1, 100_000, DEFAULT.maxWaiting);
    int window = intIn(t, "token_window_ms", 0, MAX_TOKEN_WINDOW_MS, DEFAULT.tokenWindowMs);
    Object p = t.getValue("pooling");
    if (p != null && !POOLING.contains(p)) {
      throw new InvalidSpecException("field 'text.pooling': expected one of mean | cls | last, got " + p);
    }
    Object n = t.getValue("normalize");
    if (n != null && !(n instanceof Boolean)) {
      throw new InvalidSpecException("field 'text.normalize': expected true or false, got " + n);
    }
    return new TextOptions(running, perStep, waiting, p == null ? DEFAULT.pooling : (String) p,
        n == null ? DEFAULT.normalize : (Boolean) n, window);
  }

  private static int intIn(JsonObject t, String field, int min, int max, int dflt) {
    Object v = t.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Integer i) || i < min || i > max) {
      throw new InvalidSpecException("field 'text." + field + "': expected an integer in [" + min + ", " + max + "], got " + v);
    }
    return i;
  }
}
