package io.inferium.functions.media;

import io.inferium.functions.AudioPreprocess;
import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;

/**
 * Turns the encoded clips of an INFER (WAV files, PCM or float) into an audio function's input: decoded with
 * the JDK's javax.sound.sampled, bounded by duration before any sample is read, mixed to mono, resampled
 * linearly to the spec's rate, trimmed or zero-padded to its length: FP32 {@code [N, samples]} in [-1, 1]; or, when
 * the spec declares {@code features}, each clip's log-mel features ({@link LogMel}): FP32 {@code [N, n_mels, frames]}
 * or {@code [N, 1, n_mels, frames]}.
 */
public final class AudioInputs {

  private AudioInputs() {}

  public static Tensor tensor(AudioPreprocess p, List<byte[]> clips, Cancellation cancellation) throws MediaException {
    int samples = p.samples();
    LogMel features = p.features() == null ? null : LogMel.of(p.features(), p.sampleRate(), samples);
    int perClip = features == null ? samples : p.features().nMels() * features.frames();
    ByteBuffer data = ByteBuffer.allocate(Math.multiplyExact(Math.multiplyExact(perClip, clips.size()), 4))
        .order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < clips.size(); i++) {
      if (cancellation != null && cancellation.cancelled()) {
        throw new MediaException("cancelled", false);
      }
      Clip clip = decode(clips.get(i), i, p.mono());
      float[] out = resample(clip, p.sampleRate(), samples);
      for (float v : features == null ? out : features.compute(out)) {
        data.putFloat(v);
      }
    }
    return new Tensor(p.input(), DataType.FP32, p.shape(clips.size()), data.flip());
  }

  /** A decoded clip: mono samples in [-1, 1] at {@code rate}. */
  record Clip(float[] samples, float rate) {}

  static Clip decode(byte[] bytes, int index, AudioPreprocess.Mono mono) throws MediaException {
    try (AudioInputStream in = AudioSystem.getAudioInputStream(new ByteArrayInputStream(bytes))) {
      AudioFormat f = in.getFormat();
      AudioFormat.Encoding e = f.getEncoding();
      boolean pcm = e.equals(AudioFormat.Encoding.PCM_SIGNED) || e.equals(AudioFormat.Encoding.PCM_UNSIGNED)
          || e.equals(AudioFormat.Encoding.PCM_FLOAT);
      int bits = f.getSampleSizeInBits();
      int channels = f.getChannels();
      if (!pcm || (bits != 8 && bits != 16 && bits != 24 && bits != 32) || channels < 1 || channels > 8
          || f.getFrameSize() != channels * bits / 8 || !(f.getSampleRate() >= 1000 && f.getSampleRate() <= 192_000)) {
        throw new MediaException("clip " + index + " is " + f + ": expected PCM (8, 16, 24 or 32 bits) or 32-bit float, "
            + "1 to 8 channels, 1 to 192 kHz", false);
      }
      long frames = in.getFrameLength();
      long limit = (long) (f.getSampleRate() * AudioPreprocess.MAX_SOURCE_SECONDS);
      if (frames > limit) {
        throw new MediaException("clip " + index + " lasts " + frames / f.getSampleRate() + " s, more than the limit of "
            + AudioPreprocess.MAX_SOURCE_SECONDS + " s (max_seconds)", true);
      }
      // Never more than the file holds, whatever the header claims.
      byte[] raw = in.readNBytes((int) Math.min((long) bytes.length, Math.max(0, frames) * f.getFrameSize()));
      int n = raw.length / f.getFrameSize();
      if (n == 0) {
        throw new MediaException("clip " + index + " has no samples", false);
      }
      ByteBuffer b = ByteBuffer.wrap(raw).order(f.isBigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[n];
      int used = mono == AudioPreprocess.Mono.FIRST ? 1 : channels;
      for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int c = 0; c < channels; c++) {
          double v = sample(b, (i * channels + c) * (bits / 8), bits, e);
          if (c < used) {
            sum += v;
          }
        }
        out[i] = (float) (sum / used);
      }
      return new Clip(out, f.getSampleRate());
    } catch (MediaException e) {
      throw e;
    } catch (UnsupportedAudioFileException | IOException | RuntimeException e) {
      throw new MediaException("clip " + index + " could not be decoded: " + e.getMessage(), false);
    } catch (OutOfMemoryError e) {
      throw new MediaException("clip " + index + " is too large to decode in this worker's memory", true);
    }
  }

  private static double sample(ByteBuffer b, int at, int bits, AudioFormat.Encoding e) {
    if (e.equals(AudioFormat.Encoding.PCM_FLOAT)) {
      return bits == 32 ? Math.max(-1, Math.min(1, b.getFloat(at))) : 0;
    }
    boolean unsigned = e.equals(AudioFormat.Encoding.PCM_UNSIGNED);
    return switch (bits) {
      case 8 -> unsigned ? ((b.get(at) & 0xff) - 128) / 128.0 : b.get(at) / 128.0;
      case 16 -> unsigned ? ((b.getShort(at) & 0xffff) - 32768) / 32768.0 : b.getShort(at) / 32768.0;
      case 24 -> {
        int v = b.order() == ByteOrder.LITTLE_ENDIAN
            ? (b.get(at) & 0xff) | (b.get(at + 1) & 0xff) << 8 | b.get(at + 2) << 16
            : (b.get(at + 2) & 0xff) | (b.get(at + 1) & 0xff) << 8 | b.get(at) << 16;
        yield v / 8388608.0;
      }
      default -> b.getInt(at) / 2147483648.0;
    };
  }

  /** Linear resampling to {@code rate}, sample i of the output at source time i / rate; zeros past the end. */
  static float[] resample(Clip clip, int rate, int length) {
    float[] out = new float[length];
    float[] src = clip.samples();
    double step = clip.rate() / rate;
    for (int i = 0; i < length; i++) {
      double t = i * step;
      int a = (int) Math.floor(t);
      if (a >= src.length) {
        break;
      }
      double f = t - a;
      float next = a + 1 < src.length ? src[a + 1] : 0;
      out[i] = (float) (src[a] * (1 - f) + next * f);
    }
    return out;
  }
}
