package io.inferium.engine.api;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.MediaOptions;
import io.inferium.functions.VideoPreprocess;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;

/**
 * A video function's answer from the worker's regrouped output ({@code [videos, max_frames, classes]} and
 * {@code frame_index [videos, max_frames]}, see the node's {@code VideoInputs.Frames}): per video, the top-k labels
 * of the frames' mean score (after each frame's softmax when the spec asks for it) as {@code predictions}, and each
 * sampled frame's best label with its sample index and time as {@code frames} (with {@code source_frame} and
 * {@code source_time}, the decoded frame the sample took, where the worker sends them); plus the video seconds to bill.
 */
final class VideoAnswer {

  private VideoAnswer() {}

  /**
   * Puts {@code predictions} and {@code frames} into {@code body}.
   *
   * @return the milliseconds billed: per video its declared duration up to the sampled window
   *         ({@code max_frames / fps}), but never less than the time of the last frame the worker sampled (so a header
   *         that understates the duration does not make the frames free)
   */
  static long answer(FunctionRecord fn, MediaUpload upload, List<Tensor> outputs, JsonObject body) {
    MediaOptions media = fn.spec().media();
    VideoPreprocess sampling = media.video();
    int n = upload.images().size();
    Tensor scores = outputs.get(0);
    Tensor index = outputs.get(outputs.size() - 1);
    int max = sampling.maxFrames();
    if (outputs.size() < 2 || index.type() != DataType.INT32 || !"frame_index".equals(index.name())
        || !Arrays.equals(index.shape(), new long[] {n, max}) || scores.shape().length < 2 || scores.shape()[0] != n
        || scores.shape()[1] != max || !scores.type().isFixedWidth()) {
      throw new ApiError(502, "the worker's video output is " + scores.type() + Arrays.toString(scores.shape())
          + ": expected [" + n + ", " + max + ", ...] and frame_index");
    }
    double[] all = Tensors.toDoubleArray(scores);
    long[] slots = Tensors.toLongArray(index);
    Tensor frameOut = source(outputs, "source_frame", n, max);
    Tensor timeOut = source(outputs, "source_time", n, max);
    long[] sourceFrame = frameOut == null ? null : Tensors.toLongArray(frameOut);
    double[] times = timeOut == null ? null : Tensors.toDoubleArray(timeOut);
    int width = all.length / (n * max);
    int topK = Math.min(width, upload.topK() != null ? upload.topK() : media.postprocess().topK());
    List<String> labels = fn.spec().labels();
    JsonArray predictions = new JsonArray();
    JsonArray frames = new JsonArray();
    long billed = 0;
    long window = (long) Math.ceil(max * 1000 / sampling.fps());
    for (int v = 0; v < n; v++) {
      double[] mean = new double[width];
      int count = 0;
      long last = 0;
      JsonArray perFrame = new JsonArray();
      for (int f = 0; f < max && slots[v * max + f] >= 0; f++, count++) {
        double[] row = Arrays.copyOfRange(all, (v * max + f) * width, (v * max + f + 1) * width);
        double[] s = media.postprocess().softmax() ? PredictRoutes.softmax(row) : row;
        for (int c = 0; c < width; c++) {
          mean[c] += s[c];
        }
        last = slots[v * max + f];
        JsonObject best = PredictRoutes.labels(s, labels, false, 1).getJsonObject(0);
        best.put("frame", last).put("time", sampling.time((int) last));
        if (sourceFrame != null && times != null) {
          best.put("source_frame", sourceFrame[v * max + f]).put("source_time", Math.round(times[v * max + f] * 1e6) / 1e6);
        }
        perFrame.add(best);
      }
      if (count == 0) {
        throw new ApiError(502, "the worker sampled no frame of video " + v);
      }
      for (int c = 0; c < width; c++) {
        mean[c] /= count;
      }
      predictions.add(PredictRoutes.labels(mean, labels, false, topK));
      frames.add(perFrame);
      billed += Math.max(Math.min(upload.millis()[v], window), (long) Math.ceil(sampling.time((int) last) * 1000));
    }
    body.put("predictions", predictions).put("frames", frames);
    return billed;
  }

  /** An optional per-row output of the worker ({@code [videos, max_frames]}), checked; null where it is absent. */
  private static Tensor source(List<Tensor> outputs, String name, int n, int max) {
    Tensor t = outputs.stream().filter(o -> name.equals(o.name())).findFirst().orElse(null);
    if (t == null) {
      return null;
    }
    if (!t.type().isFixedWidth() || !Arrays.equals(t.shape(), new long[] {n, max})) {
      throw new ApiError(502, "the worker's " + name + " is " + t.type() + Arrays.toString(t.shape()) + ": expected ["
          + n + ", " + max + "]");
    }
    return t;
  }
}
