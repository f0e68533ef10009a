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
 * @param seek      which frame a sample takes: {@link Seek#EXACT} the frame shown at its time, {@link Seek#KEYFRAME}
 *                  the last key frame at or before it
 */
public record VideoPreprocess(double fps, int maxFrames, Seek seek) {

  /** How a sample time finds its frame. */
  public enum Seek {
    /**
     * The frame shown at the sample's time, as if every frame were decoded in order; the worker seeks to the last IDR
     * key frame at or before each sample time and skips the groups of pictures no sample falls in.
     */
    EXACT("exact"),
    /**
     * The last IDR key frame at or before the sample's time (the first one for a time before it): only key frames are
     * decoded, each once, so sparse samples of a long or large video cost a few intra pictures each.
     */
    KEYFRAME("keyframe");

    private final String json;

    Seek(String json) {
      this.json = json;
    }

    public String json() {
      return json;
    }
  }

  /** Sampling that takes the frame shown at each sample time ({@link Seek#EXACT}). */
  public VideoPreprocess(double fps, int maxFrames) {
    this(fps, maxFrames, Seek.EXACT);
  }

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
  static final java.util.Set<String> FIELDS = java.util.Set.of("fps", "max_frames", "seek");

  /**
   * Adds the sampling (and {@code "type": "video"}) to a frame's image pre-processing object; {@code seek} only when it
   * is not the default, so a worker that predates it still reads an exact spec.
   */
  public JsonObject toJson(JsonObject frame) {
    JsonObject out = frame.copy().put("type", "video").put("fps", fps).put("max_frames", maxFrames);
    return seek == Seek.EXACT ? out : out.put("seek", seek.json());
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
    Object k = p.getValue("seek");
    Seek seek = Seek.EXACT;
    if (k != null) {
      seek = java.util.Arrays.stream(Seek.values()).filter(x -> x.json().equals(k)).findFirst().orElseThrow(() ->
          bad("preprocess.seek", "expected \"exact\" (the frame shown at each sample time) or \"keyframe\" (the key frame "
              + "at or before it, decoding key frames only), got " + k));
    }
    return new VideoPreprocess(f == null ? DEFAULT_FPS : ((Number) f).doubleValue(), m == null ? DEFAULT_MAX_FRAMES : (Integer) m,
        seek);
  }

  /** When sampled frame {@code i} is shown, seconds from the start. */
  public double time(int i) {
    return i / fps;
  }

  private static IllegalArgumentException bad(String field, String message) {
    return new IllegalArgumentException("field '" + field + "': " + message);
  }
}
