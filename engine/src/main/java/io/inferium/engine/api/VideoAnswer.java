package io.inferium.engine.api;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.MediaOptions;
import io.inferium.functions.VideoScores;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A video function's answer from the worker's regrouped output ({@code [videos, max_frames, classes]} and
 * {@code frame_index [videos, max_frames]}, see the node's {@code VideoInputs.Frames}): per video, the top-k labels
 * of the frames' mean score (after each frame's softmax when the spec asks for it) as {@code predictions}, and each
 * sampled frame's best label with its time as {@code frames}; plus the video seconds to bill.
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
    int width = scores.pooled()[0].length;
    int topK = Math.min(width, upload.topK() != null ? upload.topK() : media.postprocess().topK());
    List<String> labels = fn.spec().labels();
    JsonArray predictions = new JsonArray();
    JsonArray frames = new JsonArray();
    for (int v = 0; v < scores.pooled().length; v++) {
      JsonArray perFrame = new JsonArray();
      for (int f = 0; f < scores.frames()[v].length; f++) {
        int slot = scores.slots()[v][f];
        JsonObject best = PredictRoutes.labels(scores.frames()[v][f], labels, false, 1).getJsonObject(0);
        perFrame.add(best.put("frame", slot).put("time", media.video().time(slot)));
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
}
