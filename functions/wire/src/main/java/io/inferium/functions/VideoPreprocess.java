package io.inferium.functions;

import io.vertx.core.json.JsonObject;

/**
 * How a video becomes a per-frame model's input (a {@code video} function's spec {@code preprocess}: these
 * sampling fields beside the {@link ImagePreprocess} fields each frame gets): the worker decodes the MP4
 * (H.264), takes the frame shown at every {@code 1 / fps} seconds from the start, at most {@code maxFrames}
 * of them, and pre-processes each like an image. Sent with every INFER of a video function (frame meta
 * {@code media}, with {@code "type": "video"} beside the image fields).
 *
 * @param fps       frames sampled per second of video
 * @param maxFrames most frames sampled from one video (the rest of a longer video is not decoded)
 */
public record VideoPreprocess(double fps, int maxFrames) {

  /** Longest video a request may send (its header's duration), seconds. */
  public static final int MAX_SOURCE_SECONDS = 600;
  /** Most frames a spec may sample from one video. */
  public static final int MAX_FRAMES = 256;
  /** Most sampled frames per second. */
  public static final double MAX_FPS = 30;
  /** How long a worker may spend decoding one INFER's videos before it gives up (a 400 naming it). */
  public static final int MAX_DECODE_SECONDS = 30;
  /** Most pre-processed pixels of one video (frames × width × height): 48 MiB of FP32 RGB. */
  public static final long MAX_PIXELS_PER_VIDEO = 1L << 22;
  /** Most pre-processed values one INFER's videos may make together (256 MiB of FP32); a batch over it is re-run per request. */
  public static final long MAX_VALUES_PER_INFER = 1L << 26;
  public static final double DEFAULT_FPS = 1;
  public static final int DEFAULT_MAX_FRAMES = 16;

  /** The sampling fields, apart from the frames' image fields. */
  static final java.util.Set<String> FIELDS = java.util.Set.of("fps", "max_frames");

  /** Adds the sampling (and {@code "type": "video"}) to a frame's image pre-processing object. */
  public JsonObject toJson(JsonObject frame) {
    return frame.copy().put("type", "video").put("fps", fps).put("max_frames", maxFrames);
  }

  /** The frame's {@link ImagePreprocess} fields of a video {@code preprocess} object: all but sampling and type. */
  public static JsonObject frameFields(JsonObject p) {
    JsonObject frame = p.copy();
    FIELDS.forEach(frame::remove);
    frame.remove("type");
    return frame;
  }

  /**
   * Parses and bounds the sampling fields of a {@code preprocess} object (other fields ignored).
   *
   * @throws IllegalArgumentException whose message names the field
   */
  public static VideoPreprocess fromJson(JsonObject p) {
    Object f = p.getValue("fps");
    if (f != null && (!(f instanceof Number n) || !(n.doubleValue() > 0) || n.doubleValue() > MAX_FPS)) {
      throw bad("preprocess.fps", "expected the frames to sample per second, a number in (0, " + (int) MAX_FPS + "], got " + f);
    }
    Object m = p.getValue("max_frames");
    if (m != null && (!(m instanceof Integer n) || n < 1 || n > MAX_FRAMES)) {
      throw bad("preprocess.max_frames", "expected an integer in [1, " + MAX_FRAMES + "], got " + m);
    }
    return new VideoPreprocess(f == null ? DEFAULT_FPS : ((Number) f).doubleValue(), m == null ? DEFAULT_MAX_FRAMES : (Integer) m);
  }

  /** When sampled frame {@code i} is shown, seconds from the start. */
  public double time(int i) {
    return i / fps;
  }

  private static IllegalArgumentException bad(String field, String message) {
    return new IllegalArgumentException("field '" + field + "': " + message);
  }
}
