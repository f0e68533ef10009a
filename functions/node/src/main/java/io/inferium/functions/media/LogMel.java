package io.inferium.functions.media;

import io.inferium.functions.AudioFeatures;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The log-mel features of one clip as {@link AudioFeatures} defines them (librosa's conventions), row-major
 * {@code [n_mels, frames]}. Window, mel filters and FFT tables are made once per features, sample rate and clip
 * length, and kept in a small cache shared by the worker's threads (an instance is immutable).
 *
 * <p>The FFT is this class's own iterative radix-2 transform, in doubles. JTransforms
 * ({@code com.github.wendykierp:JTransforms} 3.2, BSD-2) resolves from Maven Central, but it would bring
 * JLargeArrays and a 1.2 MB jar of mostly 2-D and 3-D transforms into the worker, and it runs large transforms on
 * its own global thread pool, beside the worker's bounded executors. The spec limits n_fft to powers of two up to
 * 8192 and a clip to 2^24 transformed points, where a radix-2 transform is enough; {@code LogMelTest} checks it
 * against numpy's.
 */
final class LogMel {

  private static final int CACHED = 16;
  private static final Map<Key, LogMel> CACHE = new LinkedHashMap<>(CACHED, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, LogMel> eldest) {
      return size() > CACHED;
    }
  };

  private record Key(AudioFeatures features, int sampleRate, int samples) {}

  private final AudioFeatures f;
  private final int samples;
  private final int frames;
  private final double[] window;
  /** Mel filter m covers FFT bins [first[m], first[m] + weights[m].length). */
  private final int[] first;
  private final double[][] weights;
  private final double[] cos;
  private final double[] sin;
  private final int[] reversed;

  private LogMel(AudioFeatures f, int sampleRate, int samples) {
    this.f = f;
    this.samples = samples;
    this.frames = f.frames(samples);
    int n = f.nFft();
    window = new double[n];
    int left = (n - f.win()) / 2;
    for (int i = 0; i < f.win(); i++) {
      window[left + i] = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / f.win()); // periodic Hann, centred in n_fft
    }
    cos = new double[n / 2];
    sin = new double[n / 2];
    for (int k = 0; k < n / 2; k++) {
      cos[k] = Math.cos(-2 * Math.PI * k / n);
      sin[k] = Math.sin(-2 * Math.PI * k / n);
    }
    reversed = new int[n];
    int bits = Integer.numberOfTrailingZeros(n);
    for (int i = 0; i < n; i++) {
      reversed[i] = Integer.reverse(i) >>> (32 - bits);
    }
    int bins = n / 2 + 1;
    boolean htk = f.melScale() == AudioFeatures.MelScale.HTK;
    double lo = hzToMel(f.fmin(), htk);
    double hi = hzToMel(f.fmax(), htk);
    double[] edges = new double[f.nMels() + 2];
    for (int i = 0; i < edges.length; i++) {
      edges[i] = melToHz(lo + (hi - lo) * i / (edges.length - 1), htk);
    }
    first = new int[f.nMels()];
    weights = new double[f.nMels()][];
    for (int m = 0; m < f.nMels(); m++) {
      double scale = f.melNorm() == AudioFeatures.MelNorm.SLANEY ? 2.0 / (edges[m + 2] - edges[m]) : 1;
      double[] row = new double[bins];
      int start = -1;
      int end = -1;
      for (int b = 0; b < bins; b++) {
        double hz = (double) b * sampleRate / n;
        double lower = (hz - edges[m]) / (edges[m + 1] - edges[m]);
        double upper = (edges[m + 2] - hz) / (edges[m + 2] - edges[m + 1]);
        double w = Math.max(0, Math.min(lower, upper));
        if (w > 0) {
          row[b] = w * scale;
          start = start < 0 ? b : start;
          end = b + 1;
        }
      }
      first[m] = Math.max(0, start);
      weights[m] = start < 0 ? new double[0] : java.util.Arrays.copyOfRange(row, start, end);
    }
  }

  /** The computation for these features on clips of {@code samples} at {@code sampleRate} (cached). */
  static LogMel of(AudioFeatures features, int sampleRate, int samples) {
    Key key = new Key(features.withRank(3), sampleRate, samples); // the rank only shapes the tensor
    synchronized (CACHE) {
      LogMel cached = CACHE.get(key);
      if (cached != null) {
        return cached;
      }
    }
    LogMel made = new LogMel(features, sampleRate, samples);
    synchronized (CACHE) {
      return CACHE.computeIfAbsent(key, k -> made);
    }
  }

  int frames() {
    return frames;
  }

  /** The features of a clip of exactly {@code samples} samples, {@code [n_mels, frames]} row-major. */
  float[] compute(float[] clip) {
    if (clip.length != samples) {
      throw new IllegalArgumentException("expected " + samples + " samples, got " + clip.length);
    }
    int n = f.nFft();
    int pad = f.center() ? n / 2 : 0;
    double[] mel = new double[f.nMels() * frames];
    double[] re = new double[n];
    double[] im = new double[n];
    double[] power = new double[n / 2 + 1];
    for (int t = 0; t < frames; t++) {
      int start = t * f.hop() - pad;
      for (int i = 0; i < n; i++) {
        int s = start + i;
        int j = reversed[i];
        re[j] = s >= 0 && s < clip.length ? clip[s] * window[i] : 0;
        im[j] = 0;
      }
      fft(re, im);
      for (int b = 0; b <= n / 2; b++) {
        power[b] = re[b] * re[b] + im[b] * im[b];
      }
      for (int m = 0; m < weights.length; m++) {
        double sum = 0;
        double[] w = weights[m];
        for (int k = 0; k < w.length; k++) {
          sum += w[k] * power[first[m] + k];
        }
        mel[m * frames + t] = sum;
      }
    }
    for (int i = 0; i < mel.length; i++) {
      double v = Math.max(mel[i], f.floor());
      mel[i] = switch (f.log()) {
        case LN -> Math.log(v);
        case LOG10 -> Math.log10(v);
        case DB -> 10 * Math.log10(v);
      };
    }
    float[] out = new float[mel.length];
    if (f.normalize() == AudioFeatures.Normalize.PER_CLIP) {
      double mean = 0;
      for (double v : mel) {
        mean += v;
      }
      mean /= mel.length;
      double var = 0;
      for (double v : mel) {
        var += (v - mean) * (v - mean);
      }
      double std = Math.max(Math.sqrt(var / mel.length), AudioFeatures.MIN_STD);
      for (int i = 0; i < mel.length; i++) {
        out[i] = (float) ((mel[i] - mean) / std);
      }
    } else {
      for (int i = 0; i < mel.length; i++) {
        out[i] = (float) mel[i];
      }
    }
    return out;
  }

  /** In-place iterative radix-2 FFT of input already in bit-reversed order. */
  private void fft(double[] re, double[] im) {
    int n = re.length;
    for (int size = 2; size <= n; size <<= 1) {
      int half = size >> 1;
      int step = n / size;
      for (int start = 0; start < n; start += size) {
        for (int k = 0; k < half; k++) {
          double wr = cos[k * step];
          double wi = sin[k * step];
          int a = start + k;
          int b = a + half;
          double tr = re[b] * wr - im[b] * wi;
          double ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
  }

  static double hzToMel(double hz, boolean htk) {
    if (htk) {
      return 2595 * Math.log10(1 + hz / 700);
    }
    double fsp = 200.0 / 3;
    return hz >= 1000 ? 1000 / fsp + Math.log(hz / 1000) / (Math.log(6.4) / 27) : hz / fsp;
  }

  static double melToHz(double mel, boolean htk) {
    if (htk) {
      return 700 * (Math.pow(10, mel / 2595) - 1);
    }
    double fsp = 200.0 / 3;
    return mel >= 1000 / fsp ? 1000 * Math.exp(Math.log(6.4) / 27 * (mel - 1000 / fsp)) : fsp * mel;
  }
}
