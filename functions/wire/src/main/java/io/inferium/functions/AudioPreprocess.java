package io.inferium.functions;

import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * How an audio clip becomes a model's input (an {@code audio} function's spec {@code preprocess}): the
 * worker decodes the WAV (PCM), mixes its channels to mono (or takes the first), resamples it linearly to
 * {@code sampleRate}, and trims or zero-pads it to {@code seconds}: an FP32 tensor {@code [N, samples]}
 * of values in [-1, 1]; or, with {@code features}, that clip's log-mel features ({@link AudioFeatures}). Sent with
 * every INFER of an audio function (frame meta {@code media}, with {@code "type": "audio"}).
 *
 * @param input    the model input the clip feeds; null until resolved against the model's only input
 * @param features the features the model takes instead of samples; null: the samples
 */
public record AudioPreprocess(int sampleRate, double seconds, Mono mono, String input, AudioFeatures features) {

  /** Longest clip a request may send (from its header), seconds. */
  public static final int MAX_SOURCE_SECONDS = 600;
  /** Most samples per clip in the model's input. */
  public static final int MAX_SAMPLES = 1 << 21;
  private static final Set<String> FIELDS = Set.of("sample_rate", "seconds", "mono", "input", "features");

  /** How channels become one: their mean, or the first channel. */
  public enum Mono { MIX, FIRST }

  public int samples() {
    return (int) Math.round(sampleRate * seconds);
  }

  public AudioPreprocess withInput(String name) {
    return new AudioPreprocess(sampleRate, seconds, mono, name, features);
  }

  /** With the features' rank resolved from the model input's ({@code modelRank}, -1 when unknown) unless the spec gave it. */
  public AudioPreprocess withModelRank(int modelRank) {
    if (features == null || features.rank() != null) {
      return this;
    }
    return new AudioPreprocess(sampleRate, seconds, mono, input, features.withRank(modelRank == 4 ? 4 : 3));
  }

  /** The shape of the model input a batch of {@code n} clips makes. */
  public long[] shape(long n) {
    return features == null ? new long[] {n, samples()} : features.shape(n, samples());
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("type", "audio").put("sample_rate", sampleRate).put("seconds", seconds)
        .put("mono", mono.name().toLowerCase(java.util.Locale.ROOT));
    if (input != null) {
      o.put("input", input);
    }
    if (features != null) {
      o.put("features", features.toJson());
    }
    return o;
  }

  /**
   * Parses and bounds a {@code preprocess} object ({@code type} ignored).
   *
   * @throws IllegalArgumentException whose message names the field
   */
  public static AudioPreprocess fromJson(Object value) {
    if (!(value instanceof JsonObject p)) {
      throw bad("preprocess", "expected an object such as {\"sample_rate\": 16000, \"seconds\": 1}, got " + value);
    }
    for (String field : p.fieldNames()) {
      if (!FIELDS.contains(field) && !field.equals("type")) {
        throw bad("preprocess", "unknown field '" + field + "' (accepted: " + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
      }
    }
    Object rate = p.getValue("sample_rate");
    if (rate != null && (!(rate instanceof Integer r) || r < 1000 || r > 96_000)) {
      throw bad("preprocess.sample_rate", "expected an integer in [1000, 96000], got " + rate);
    }
    int sampleRate = rate == null ? 16_000 : (Integer) rate;
    Object s = p.getValue("seconds");
    if (!(s instanceof Number n) || !(n.doubleValue() > 0) || n.doubleValue() > MAX_SOURCE_SECONDS) {
      throw bad("preprocess.seconds", "expected the clip length the model takes, a number in (0, " + MAX_SOURCE_SECONDS
          + "], got " + s);
    }
    double seconds = n.doubleValue();
    if (Math.round(sampleRate * seconds) < 1 || Math.round(sampleRate * seconds) > MAX_SAMPLES) {
      throw bad("preprocess.seconds", "sample_rate × seconds must be between 1 and " + MAX_SAMPLES + " samples");
    }
    Object m = p.getValue("mono");
    Mono mono;
    if (m == null || "mix".equals(m)) {
      mono = Mono.MIX;
    } else if ("first".equals(m)) {
      mono = Mono.FIRST;
    } else {
      throw bad("preprocess.mono", "expected mix | first, got " + m);
    }
    Object input = p.getValue("input");
    if (input != null && !(input instanceof String)) {
      throw bad("preprocess.input", "expected the name of a model input, got " + input);
    }
    Object f = p.getValue("features");
    AudioFeatures features = f == null ? null : AudioFeatures.fromJson(f, sampleRate, (int) Math.round(sampleRate * seconds));
    return new AudioPreprocess(sampleRate, seconds, mono, (String) input, features);
  }

  private static IllegalArgumentException bad(String field, String message) {
    return new IllegalArgumentException("field '" + field + "': " + message);
  }
}
