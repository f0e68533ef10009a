package io.inferium.functions;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * How one sequence is sampled. {@code maxTokens == Integer.MAX_VALUE} means "until the end of
 * sequence or the context is full". Greedy when {@code temperature == 0}; {@code topK == 0} and
 * {@code topP == 1} disable those filters; {@code seed == null} samples from a random seed.
 * {@code n} is carried for the caller, which submits {@code n} sequences seeded
 * {@code seed, seed + 1, …}.
 */
public record SamplingParams(int maxTokens, double temperature, double topP, int topK, List<String> stop, Long seed,
    double presencePenalty, double frequencyPenalty, double repetitionPenalty, int n) {

  public static final int UNLIMITED_TOKENS = Integer.MAX_VALUE;
  public static final int MAX_STOP_STRINGS = 4;
  public static final int MAX_N = 8;
  public static final double DEFAULT_TEMPERATURE = 1.0;

  public SamplingParams {
    stop = List.copyOf(stop == null ? List.of() : stop);
    if (maxTokens < 1) {
      throw new IllegalArgumentException("maxTokens must be at least 1, got " + maxTokens);
    }
    if (n < 1) {
      throw new IllegalArgumentException("n must be at least 1, got " + n);
    }
  }

  /** Greedy decoding of at most {@code maxTokens} tokens, no penalties, no stop strings. */
  public static SamplingParams greedy(int maxTokens) {
    return new SamplingParams(maxTokens, 0, 1, 0, List.of(), null, 0, 0, 1, 1);
  }

  /**
   * Validates an OpenAI completions or chat completions request body. {@code max_completion_tokens}
   * wins over {@code max_tokens}; missing fields take the function's {@code generation_config.json}
   * ({@code max_new_tokens}, {@code do_sample}, {@code temperature}, {@code top_p}, {@code top_k},
   * {@code repetition_penalty}; may be empty), then OpenAI's defaults. {@code top_k} and
   * {@code repetition_penalty} are accepted as extensions, as vLLM does.
   *
   * @throws IllegalArgumentException naming the field, e.g. {@code field 'temperature': expected a number in [0, 2], got 3}
   */
  public static SamplingParams fromOpenAi(JsonObject body, JsonObject generationConfig) {
    JsonObject gen = generationConfig == null ? new JsonObject() : generationConfig;
    int maxTokens = integer(body, "max_tokens", 1, Integer.MAX_VALUE,
        integer(gen, "max_new_tokens", 1, Integer.MAX_VALUE, UNLIMITED_TOKENS));
    maxTokens = integer(body, "max_completion_tokens", 1, Integer.MAX_VALUE, maxTokens);
    double defaultTemperature = Boolean.FALSE.equals(gen.getValue("do_sample")) ? 0
        : number(gen, "temperature", 0, 2, DEFAULT_TEMPERATURE);
    double temperature = number(body, "temperature", 0, 2, defaultTemperature);
    double topP = number(body, "top_p", 0, 1, number(gen, "top_p", 0, 1, 1.0));
    if (topP == 0) {
      throw new IllegalArgumentException("field 'top_p': expected a number in (0, 1], got 0");
    }
    int topK = integer(body, "top_k", -1, Integer.MAX_VALUE, integer(gen, "top_k", -1, Integer.MAX_VALUE, 0));
    double presence = number(body, "presence_penalty", -2, 2, 0);
    double frequency = number(body, "frequency_penalty", -2, 2, 0);
    double repetition = number(body, "repetition_penalty", 0, 10, number(gen, "repetition_penalty", 0, 10, 1.0));
    if (repetition == 0) {
      throw new IllegalArgumentException("field 'repetition_penalty': expected a number in (0, 10], got 0");
    }
    int n = integer(body, "n", 1, MAX_N, 1);
    Long seed = body.getValue("seed") == null ? null : longInteger(body, "seed");
    return new SamplingParams(maxTokens, temperature, topP, Math.max(topK, 0), stop(body), seed, presence, frequency,
        repetition, n);
  }

  private static List<String> stop(JsonObject body) {
    Object value = body.getValue("stop");
    if (value == null) {
      return List.of();
    }
    if (value instanceof String s) {
      return s.isEmpty() ? List.of() : List.of(s);
    }
    String expected = "expected a string or an array of up to " + MAX_STOP_STRINGS + " non-empty strings";
    if (!(value instanceof JsonArray array) || array.size() > MAX_STOP_STRINGS) {
      throw new IllegalArgumentException("field 'stop': " + expected + ", got " + shown(value));
    }
    List<String> out = new ArrayList<>();
    for (Object item : array) {
      if (!(item instanceof String s) || s.isEmpty()) {
        throw new IllegalArgumentException("field 'stop': " + expected + ", got " + shown(value));
      }
      out.add(s);
    }
    return out;
  }

  private static double number(JsonObject o, String field, double min, double max, double fallback) {
    Object value = o.getValue(field);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number num) || !Double.isFinite(num.doubleValue()) || num.doubleValue() < min
        || num.doubleValue() > max) {
      throw new IllegalArgumentException("field '" + field + "': expected a number in [" + shownBound(min) + ", "
          + shownBound(max) + "], got " + shown(value));
    }
    return num.doubleValue();
  }

  private static int integer(JsonObject o, String field, int min, int max, int fallback) {
    Object value = o.getValue(field);
    if (value == null) {
      return fallback;
    }
    String range = max == Integer.MAX_VALUE ? "an integer >= " + min : "an integer in [" + min + ", " + max + "]";
    if (!(value instanceof Number num) || num.doubleValue() != Math.rint(num.doubleValue())
        || num.doubleValue() < min || num.doubleValue() > max) {
      throw new IllegalArgumentException("field '" + field + "': expected " + range + ", got " + shown(value));
    }
    return num.intValue();
  }

  private static long longInteger(JsonObject o, String field) {
    Object value = o.getValue(field);
    if (value instanceof Integer || value instanceof Long) {
      return ((Number) value).longValue();
    }
    if (value instanceof Number num && !(value instanceof Boolean) && num.doubleValue() == Math.rint(num.doubleValue())
        && Math.abs(num.doubleValue()) < 0x1p63) {
      return num.longValue();
    }
    throw new IllegalArgumentException("field '" + field + "': expected a 64-bit integer, got " + shown(value));
  }

  private static String shownBound(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static String shown(Object value) {
    String s = Json.encode(value);
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  /** For the worker wire protocol; {@link #fromJson} reads it back. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject()
        .put("max_tokens", maxTokens)
        .put("temperature", temperature)
        .put("top_p", topP)
        .put("top_k", topK)
        .put("stop", new JsonArray(new ArrayList<>(stop)))
        .put("presence_penalty", presencePenalty)
        .put("frequency_penalty", frequencyPenalty)
        .put("repetition_penalty", repetitionPenalty)
        .put("n", n);
    if (seed != null) {
      o.put("seed", seed);
    }
    return o;
  }

  /** Reads what {@link #toJson} wrote. */
  public static SamplingParams fromJson(JsonObject o) {
    List<String> stop = new ArrayList<>();
    o.getJsonArray("stop", new JsonArray()).forEach(s -> stop.add((String) s));
    return new SamplingParams(o.getInteger("max_tokens"), o.getDouble("temperature"), o.getDouble("top_p"),
        o.getInteger("top_k"), stop, o.getLong("seed"), o.getDouble("presence_penalty"),
        o.getDouble("frequency_penalty"), o.getDouble("repetition_penalty"), o.getInteger("n"));
  }
}
