package io.inferium.functions;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Log-mel features an audio function's model takes instead of raw samples ({@code preprocess.features}), computed
 * by the worker on the resampled, trimmed or padded clip, to librosa's conventions ({@code librosa.feature
 * .melspectrogram} then a log): frames {@code hop} apart, centred on the sample ({@code center}: {@code n_fft / 2}
 * zeros each side, librosa's {@code pad_mode="constant"}) or starting at it; a periodic Hann window of {@code win}
 * samples centred in {@code n_fft}; the power spectrum |X|²; triangular mel filters as {@code librosa.filters.mel}
 * builds them ({@code htk} or {@code slaney} mel scale; {@code mel_norm} {@code slaney}: each filter scaled to unit
 * area, else peak 1 as torchaudio's {@code norm=None}); {@code max(mel, floor)}, then ln, log10 or 10·log10 (dB,
 * {@code power_to_db} with {@code amin = floor}, no {@code top_db}); optionally standardised over the clip
 * ({@code per_clip}: (v − mean) / max(std, 1e-5)). FP32 {@code [N, n_mels, frames]}, or {@code [N, 1, n_mels,
 * frames]} when {@code rank} is 4 (resolved at deploy from the model's input).
 *
 * @param rank 3 or 4; null until resolved against the model's input (its rank when that is 4, else 3)
 */
public record AudioFeatures(int nFft, int hop, int win, int nMels, double fmin, double fmax, MelScale melScale,
    MelNorm melNorm, Log log, double floor, boolean center, Normalize normalize, Integer rank) {

  public static final int DEFAULT_N_FFT = 512;
  public static final int DEFAULT_N_MELS = 64;
  public static final double DEFAULT_FLOOR = 1e-10;
  public static final int MIN_N_FFT = 32;
  public static final int MAX_N_FFT = 8192;
  public static final int MAX_N_MELS = 256;
  /** Most feature values per clip (n_mels × frames): 8 MiB of FP32. */
  public static final long MAX_VALUES = 1L << 21;
  /** Most transformed points per clip (frames × n_fft), which bounds a clip's FFT work. */
  public static final long MAX_FFT_POINTS = 1L << 24;
  /** Below this a per-clip standard deviation is taken as this, so silence standardises to zeros. */
  public static final double MIN_STD = 1e-5;
  private static final Set<String> FIELDS = Set.of("type", "n_fft", "hop", "win", "n_mels", "fmin", "fmax", "mel_scale",
      "mel_norm", "log", "floor", "center", "normalize", "rank");

  /** Mel scale: HTK's {@code 2595 log10(1 + f / 700)}, or Slaney's (linear below 1 kHz, logarithmic above; librosa's default). */
  public enum MelScale { HTK, SLANEY }

  /** Filter weights: Slaney's unit area (librosa's default), or none (peak 1; torchaudio's default). */
  public enum MelNorm { SLANEY, NONE }

  /** Which logarithm: natural, base 10, or decibels (10 log10). */
  public enum Log { LN, LOG10, DB }

  /** Standardisation: none, or per clip over all its values. */
  public enum Normalize { NONE, PER_CLIP }

  /** Frames a clip of {@code samples} makes. */
  public int frames(int samples) {
    return center ? 1 + samples / hop : 1 + (samples - nFft) / hop;
  }

  /** The shape of a batch of {@code n} clips of {@code samples} each. */
  public long[] shape(long n, int samples) {
    return rank != null && rank == 4 ? new long[] {n, 1, nMels, frames(samples)} : new long[] {n, nMels, frames(samples)};
  }

  public AudioFeatures withRank(int r) {
    return new AudioFeatures(nFft, hop, win, nMels, fmin, fmax, melScale, melNorm, log, floor, center, normalize, r);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("type", "log_mel").put("n_fft", nFft).put("hop", hop).put("win", win)
        .put("n_mels", nMels).put("fmin", fmin).put("fmax", fmax).put("mel_scale", wire(melScale))
        .put("mel_norm", wire(melNorm)).put("log", wire(log)).put("floor", floor).put("center", center)
        .put("normalize", wire(normalize));
    if (rank != null) {
      o.put("rank", rank);
    }
    return o;
  }

  /**
   * Parses and bounds a {@code preprocess.features} object for clips of {@code samples} at {@code sampleRate}.
   *
   * @throws IllegalArgumentException whose message names the field ({@code preprocess.features.<field>})
   */
  public static AudioFeatures fromJson(Object value, int sampleRate, int samples) {
    if (!(value instanceof JsonObject f)) {
      throw bad("", "expected an object such as {\"type\": \"log_mel\", \"n_fft\": 512, \"hop\": 160, \"n_mels\": 40}, got "
          + value);
    }
    for (String field : f.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw bad("", "unknown field '" + field + "' (accepted: " + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
      }
    }
    if (!"log_mel".equals(f.getValue("type"))) {
      throw bad("type", "expected log_mel, got " + f.getValue("type"));
    }
    int nFft = integer(f, "n_fft", DEFAULT_N_FFT, MIN_N_FFT, MAX_N_FFT);
    if (Integer.bitCount(nFft) != 1) {
      throw bad("n_fft", "expected a power of two in [" + MIN_N_FFT + ", " + MAX_N_FFT + "], got " + nFft);
    }
    if (nFft > samples) {
      throw bad("n_fft", nFft + " is longer than the clip's " + samples + " samples (sample_rate × seconds)");
    }
    int win = integer(f, "win", nFft, 1, nFft);
    int hop = integer(f, "hop", Math.max(1, win / 4), 1, Integer.MAX_VALUE);
    int nMels = integer(f, "n_mels", DEFAULT_N_MELS, 1, MAX_N_MELS);
    double fmin = number(f, "fmin", 0);
    double fmax = number(f, "fmax", sampleRate / 2.0);
    if (fmin < 0) {
      throw bad("fmin", "expected a frequency ≥ 0 Hz, got " + fmin);
    }
    if (fmax > sampleRate / 2.0) {
      throw bad("fmax", "expected at most half the sample rate (" + sampleRate / 2.0 + " Hz), got " + fmax);
    }
    if (!(fmin < fmax)) {
      throw bad("fmax", "expected more than fmin (" + fmin + " Hz), got " + fmax);
    }
    double floor = number(f, "floor", DEFAULT_FLOOR);
    if (!(floor > 0 && floor <= 1)) {
      throw bad("floor", "expected a number in (0, 1], got " + f.getValue("floor"));
    }
    Object c = f.getValue("center");
    if (c != null && !(c instanceof Boolean)) {
      throw bad("center", "expected true or false, got " + c);
    }
    boolean center = c == null || (Boolean) c;
    Object r = f.getValue("rank");
    if (r != null && !(r instanceof Integer n && (n == 3 || n == 4))) {
      throw bad("rank", "expected 3 ([N, n_mels, frames]) or 4 ([N, 1, n_mels, frames]), got " + r);
    }
    AudioFeatures out = new AudioFeatures(nFft, hop, win, nMels, fmin, fmax,
        choice(f, "mel_scale", MelScale.SLANEY, MelScale.values()), choice(f, "mel_norm", MelNorm.SLANEY, MelNorm.values()),
        choice(f, "log", Log.DB, Log.values()), floor, center, choice(f, "normalize", Normalize.NONE, Normalize.values()),
        (Integer) r);
    long frames = out.frames(samples);
    if (frames * nMels > MAX_VALUES) {
      throw bad("hop", "n_mels × frames is " + nMels + " × " + frames + ", more than " + MAX_VALUES + " values a clip");
    }
    if (frames * nFft > MAX_FFT_POINTS) {
      throw bad("hop", frames + " frames of n_fft " + nFft + " is more than " + MAX_FFT_POINTS + " transformed points a clip");
    }
    return out;
  }

  private static int integer(JsonObject f, String field, int dflt, int min, int max) {
    Object v = f.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Integer n) || n < min || n > max) {
      throw bad(field, "expected an integer in [" + min + ", " + (max == Integer.MAX_VALUE ? "∞)" : max + "]") + ", got " + v);
    }
    return n;
  }

  private static double number(JsonObject f, String field, double dflt) {
    Object v = f.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw bad(field, "expected a finite number, got " + v);
    }
    return n.doubleValue();
  }

  private static <E extends Enum<E>> E choice(JsonObject f, String field, E dflt, E[] values) {
    Object value = f.getValue(field);
    if (value == null) {
      return dflt;
    }
    List<String> names = new ArrayList<>();
    for (E e : values) {
      names.add(wire(e));
      if (wire(e).equals(value)) {
        return e;
      }
    }
    throw bad(field, "expected one of " + String.join(" | ", names) + ", got " + value);
  }

  private static String wire(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  private static IllegalArgumentException bad(String field, String message) {
    return new IllegalArgumentException("field 'preprocess.features" + (field.isEmpty() ? "" : "." + field) + "': " + message);
  }
}
