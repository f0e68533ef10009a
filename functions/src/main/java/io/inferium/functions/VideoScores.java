package io.inferium.functions;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import java.util.Arrays;
import java.util.List;

/**
 * A video function's scores read from the worker's regrouped output ({@code [videos, max_frames, classes]} and
 * {@code frame_index [videos, max_frames]}, see the node's {@code VideoInputs.Frames}): each sampled frame's scores
 * (soft-maxed first when the spec asks for it) and, per video, their mean — the pooled prediction that
 * {@code /predict}, arena battles and benchmarks all rank by — with the video milliseconds a call is billed.
 *
 * @param pooled per video, the mean of its frames' scores
 * @param frames per video, each sampled frame's scores
 * @param slots  per video, each sampled frame's sample index (time = index / fps)
 * @param millis per video, the milliseconds billed: its declared duration up to the sampled window
 *               ({@code max_frames / fps}), but never less than the time of the last frame the worker sampled (so a
 *               header that understates the duration does not make the frames free)
 */
public record VideoScores(double[][] pooled, double[][][] frames, int[][] slots, long[] millis) {

  /** The milliseconds of all the videos together. */
  public long totalMillis() {
    return Arrays.stream(millis).sum();
  }

  /**
   * @param declared each video's duration as its header declares it, milliseconds
   * @throws IllegalArgumentException when the outputs are not what a video function's worker answers
   */
  public static VideoScores of(MediaOptions media, List<Tensor> outputs, long[] declared) {
    VideoPreprocess sampling = media.video();
    int n = declared.length;
    int max = sampling.maxFrames();
    Tensor scores = outputs.get(0);
    Tensor index = outputs.get(outputs.size() - 1);
    if (outputs.size() < 2 || index.type() != DataType.INT32 || !"frame_index".equals(index.name())
        || !Arrays.equals(index.shape(), new long[] {n, max}) || scores.shape().length < 2 || scores.shape()[0] != n
        || scores.shape()[1] != max || !scores.type().isFixedWidth()) {
      throw new IllegalArgumentException("the worker's video output is " + scores.type() + Arrays.toString(scores.shape())
          + ": expected [" + n + ", " + max + ", ...] and frame_index");
    }
    double[] all = Tensors.toDoubleArray(scores);
    long[] index64 = Tensors.toLongArray(index);
    int width = all.length / (n * max);
    long window = (long) Math.ceil(max * 1000 / sampling.fps());
    double[][] pooled = new double[n][];
    double[][][] frames = new double[n][][];
    int[][] slots = new int[n][];
    long[] millis = new long[n];
    for (int v = 0; v < n; v++) {
      int count = 0;
      while (count < max && index64[v * max + count] >= 0) {
        count++;
      }
      if (count == 0) {
        throw new IllegalArgumentException("the worker sampled no frame of video " + v);
      }
      double[] mean = new double[width];
      frames[v] = new double[count][];
      slots[v] = new int[count];
      for (int f = 0; f < count; f++) {
        double[] row = Arrays.copyOfRange(all, (v * max + f) * width, (v * max + f + 1) * width);
        double[] s = media.postprocess().softmax() ? softmax(row) : row;
        for (int c = 0; c < width; c++) {
          mean[c] += s[c];
        }
        frames[v][f] = s;
        slots[v][f] = (int) index64[v * max + f];
      }
      for (int c = 0; c < width; c++) {
        mean[c] /= count;
      }
      pooled[v] = mean;
      long last = (long) Math.ceil(sampling.time(slots[v][count - 1]) * 1000);
      millis[v] = Math.max(Math.min(declared[v], window), last);
    }
    return new VideoScores(pooled, frames, slots, millis);
  }

  /** The softmax of {@code x} (shifted by its maximum, so large scores do not overflow). */
  public static double[] softmax(double[] x) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : x) {
      max = Math.max(max, v);
    }
    double[] out = new double[x.length];
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      out[i] = Math.exp(x[i] - max);
      sum += out[i];
    }
    for (int i = 0; i < x.length; i++) {
      out[i] /= sum;
    }
    return out;
  }
}
