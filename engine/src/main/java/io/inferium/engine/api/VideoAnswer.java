package io.inferium.engine.api;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.MediaOptions;
import io.inferium.functions.VideoScores;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;

/**
 * A video function's answer from the worker's regrouped output ({@code [videos, max_frames, classes]}, optionally
 * {@code source_frame} and {@code source_time}, and {@code frame_index [videos, max_frames]}, see the node's
 * {@code VideoInputs.Frames}): per video, the top-k labels of the frames' mean score (after each frame's softmax when
 * the spec asks for it) as {@code predictions}, and each sampled frame's best label with its time (and the decoded
 * frame it took) as {@code frames}; plus the video seconds to bill.
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
    VideoScores scores = scores(fn, upload, outputs);
    MediaOptions media = fn.spec().media();
    int n = scores.pooled().length;
    int max = media.video().maxFrames();
    Tensor frameOut = source(outputs, "source_frame", n, max);
    Tensor timeOut = source(outputs, "source_time", n, max);
    long[] sourceFrame = frameOut == null ? null : Tensors.toLongArray(frameOut);
    double[] times = timeOut == null ? null : Tensors.toDoubleArray(timeOut);
    int width = scores.pooled()[0].length;
    int topK = Math.min(width, upload.topK() != null ? upload.topK() : media.postprocess().topK());
    List<String> labels = fn.spec().labels();
    JsonArray predictions = new JsonArray();
    JsonArray frames = new JsonArray();
    for (int v = 0; v < n; v++) {
      JsonArray perFrame = new JsonArray();
      for (int f = 0; f < scores.frames()[v].length; f++) {
        int slot = scores.slots()[v][f];
        JsonObject best = PredictRoutes.labels(scores.frames()[v][f], labels, false, 1).getJsonObject(0);
        best.put("frame", slot).put("time", media.video().time(slot));
        if (sourceFrame != null && times != null) {
          best.put("source_frame", sourceFrame[v * max + f]).put("source_time", Math.round(times[v * max + f] * 1e6) / 1e6);
        }
        perFrame.add(best);
      }
      predictions.add(PredictRoutes.labels(scores.pooled()[v], labels, false, topK));
      frames.add(perFrame);
    }
    body.put("predictions", predictions).put("frames", frames);
    return scores.totalMillis();
  }

  /** The worker's output read as per-frame and pooled scores; a 502 when it is not a video function's output. */
  static VideoScores scores(FunctionRecord fn, MediaUpload upload, List<Tensor> outputs) {
    try {
      return VideoScores.of(fn.spec().media(), outputs, upload.millis());
    } catch (IllegalArgumentException e) {
      throw new ApiError(502, e.getMessage());
    }
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
