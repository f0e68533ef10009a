package io.inferium.functions;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How a media function turns media into the model's input ({@code preprocess}, done by the worker)
 * and the model's output into an answer ({@code postprocess}, done by the gateway on the output
 * tensor). Only image and audio kinds have them, and they must have a {@code preprocess}.
 *
 * @param preprocess  an image function's decoding target: size, resize mode, channels, layout, mean/std, dtype
 *                    (a video function's: each sampled frame's)
 * @param audio       an audio function's: sample rate, length, mono mix (exactly one of the two is set)
 * @param postprocess which output is read and how it is turned into labels or an embedding
 * @param video       a video function's frame sampling (rate, most frames), beside {@code preprocess}; else null
 */
public record MediaOptions(ImagePreprocess preprocess, AudioPreprocess audio, Postprocess postprocess, VideoPreprocess video) {

  public MediaOptions(ImagePreprocess preprocess, AudioPreprocess audio, Postprocess postprocess) {
    this(preprocess, audio, postprocess, null);
  }

  /**
   * @param output    the model output to read; null: the first one
   * @param topK      image-classifier: how many labels to answer, best first
   * @param softmax   image-classifier: apply softmax to the output row (for models that emit logits)
   * @param normalize image-embedding: scale each embedding to unit length
   */
  public record Postprocess(String output, int topK, boolean softmax, boolean normalize) {

    public static final int DEFAULT_TOP_K = 5;
    public static final int MAX_TOP_K = 1000;
    public static final Postprocess DEFAULT = new Postprocess(null, DEFAULT_TOP_K, false, false);
    static final Set<String> FIELDS = Set.of("output", "top_k", "softmax", "normalize", "labels");

    JsonObject toJson() {
      JsonObject o = new JsonObject().put("top_k", topK).put("softmax", softmax).put("normalize", normalize);
      if (output != null) {
        o.put("output", output);
      }
      return o;
    }
  }

  /** The model input the image feeds: the one {@code preprocess.input} names, else the model's first input. */
  public String input(ModelSignature signature) {
    String named = preprocess != null ? preprocess.input() : audio.input();
    if (named != null || signature == null || signature.inputs().isEmpty()) {
      return named;
    }
    return signature.inputs().get(0).name();
  }

  /** What a worker needs to pre-process this function's images (INFER meta {@code media}). */
  public JsonObject workerMeta(ModelSignature signature) {
    if (video != null) {
      return video.toJson(preprocess.withInput(input(signature)).toJson());
    }
    return preprocess != null ? preprocess.withInput(input(signature)).toJson()
        : audio.withInput(input(signature)).withModelRank(inputRank(signature)).toJson();
  }

  /** The rank of the model input the media feeds, -1 when not known. */
  private int inputRank(ModelSignature signature) {
    String name = input(signature);
    return signature == null || name == null ? -1 : signature.input(name).map(t -> t.shape().length).orElse(-1);
  }

  JsonObject toJson(JsonObject spec) {
    spec.put("preprocess", video != null ? video.toJson(preprocess.toJson()).copy() : preprocess != null ? preprocess.toJson()
        : audio.toJson().copy());
    return spec.put("postprocess", postprocess.toJson());
  }

  /**
   * Parses the {@code preprocess} and {@code postprocess} fields of a spec; null for a kind without media.
   * {@code labels} is the spec's top-level list, which {@code postprocess.labels} may give instead.
   *
   * @return the options and the labels to use
   */
  static Parsed parse(JsonObject json, FunctionKind kind, List<String> labels) {
    Object pre = json.getValue("preprocess");
    Object post = json.getValue("postprocess");
    if (!kind.media()) {
      if (pre != null || post != null) {
        throw new InvalidSpecException("field '" + (pre != null ? "preprocess" : "postprocess") + "': only media functions "
            + "(image-classifier, image-embedding, image, audio, video) have it, this function's kind is " + kind.wire());
      }
      return new Parsed(null, labels);
    }
    if (pre == null) {
      throw new InvalidSpecException("field 'preprocess': a " + kind.wire() + " function needs it, e.g. {\"size\": 224, "
          + "\"resize\": \"center-crop\", \"channels\": \"rgb\", \"layout\": \"NCHW\", \"mean\": [0.485, 0.456, 0.406], "
          + "\"std\": [0.229, 0.224, 0.225]}");
    }
    ImagePreprocess preprocess = null;
    AudioPreprocess audio = null;
    VideoPreprocess video = null;
    try {
      if (kind == FunctionKind.AUDIO) {
        audio = AudioPreprocess.fromJson(pre);
      } else if (kind == FunctionKind.VIDEO) {
        if (!(pre instanceof JsonObject v)) {
          throw new IllegalArgumentException("field 'preprocess': expected an object such as {\"fps\": 1, \"max_frames\": 16, "
              + "\"size\": 224}, got " + pre);
        }
        video = VideoPreprocess.fromJson(v);
        preprocess = ImagePreprocess.fromJson(VideoPreprocess.frameFields(v));
        if ((long) video.maxFrames() * preprocess.width() * preprocess.height() > VideoPreprocess.MAX_PIXELS_PER_VIDEO) {
          throw new IllegalArgumentException("field 'preprocess.max_frames': " + video.maxFrames() + " frames of "
              + preprocess.width() + " × " + preprocess.height() + " is more than " + VideoPreprocess.MAX_PIXELS_PER_VIDEO
              + " pixels a video once pre-processed");
        }
      } else {
        preprocess = ImagePreprocess.fromJson(pre);
      }
    } catch (IllegalArgumentException e) {
      throw new InvalidSpecException(e.getMessage());
    }
    if (post == null) {
      return new Parsed(new MediaOptions(preprocess, audio, Postprocess.DEFAULT, video), labels);
    }
    if (!(post instanceof JsonObject p)) {
      throw new InvalidSpecException("field 'postprocess': expected an object such as {\"top_k\": 3, \"softmax\": true}, got " + post);
    }
    for (String field : p.fieldNames()) {
      if (!Postprocess.FIELDS.contains(field)) {
        throw new InvalidSpecException("field 'postprocess': unknown field '" + field + "' (accepted: "
            + String.join(", ", Postprocess.FIELDS.stream().sorted().toList()) + ")");
      }
    }
    Object output = p.getValue("output");
    if (output != null && !(output instanceof String)) {
      throw new InvalidSpecException("field 'postprocess.output': expected the name of a model output, got " + output);
    }
    Object k = p.getValue("top_k");
    if (k != null && (!(k instanceof Integer n) || n < 1 || n > Postprocess.MAX_TOP_K)) {
      throw new InvalidSpecException("field 'postprocess.top_k': expected an integer in [1, " + Postprocess.MAX_TOP_K + "], got " + k);
    }
    boolean softmax = flag(p, "softmax");
    boolean normalize = flag(p, "normalize");
    if (softmax && kind != FunctionKind.IMAGE_CLASSIFIER && kind != FunctionKind.AUDIO && kind != FunctionKind.VIDEO) {
      throw new InvalidSpecException("field 'postprocess.softmax': only a classifier's scores (image-classifier, audio, video) are soft-maxed, "
          + "this function's kind is " + kind.wire());
    }
    if (normalize && kind != FunctionKind.IMAGE_EMBEDDING) {
      throw new InvalidSpecException("field 'postprocess.normalize': only an image-embedding is normalized, "
          + "this function's kind is " + kind.wire());
    }
    List<String> merged = labels;
    Object l = p.getValue("labels");
    if (l != null) {
      if (kind != FunctionKind.IMAGE_CLASSIFIER && kind != FunctionKind.AUDIO && kind != FunctionKind.VIDEO) {
        throw new InvalidSpecException("field 'postprocess.labels': only an image-classifier, audio or video function has labels, this function's "
            + "kind is " + kind.wire());
      }
      List<String> given = strings(l);
      if (!labels.isEmpty() && !labels.equals(given)) {
        throw new InvalidSpecException("field 'postprocess.labels': differs from field 'labels'; give the labels once");
      }
      merged = given;
    }
    return new Parsed(new MediaOptions(preprocess, audio, new Postprocess((String) output,
        k == null ? Postprocess.DEFAULT_TOP_K : (Integer) k, softmax, normalize), video), merged);
  }

  record Parsed(MediaOptions media, List<String> labels) {}

  private static boolean flag(JsonObject p, String field) {
    Object v = p.getValue(field);
    if (v != null && !(v instanceof Boolean)) {
      throw new InvalidSpecException("field 'postprocess." + field + "': expected true or false, got " + v);
    }
    return Boolean.TRUE.equals(v);
  }

  private static List<String> strings(Object value) {
    if (!(value instanceof JsonArray a)) {
      throw new InvalidSpecException("field 'postprocess.labels': expected an array of strings, got " + value);
    }
    List<String> out = new ArrayList<>(a.size());
    for (int i = 0; i < a.size(); i++) {
      if (!(a.getValue(i) instanceof String s)) {
        throw new InvalidSpecException("field 'postprocess.labels[" + i + "]': expected a string, got " + a.getValue(i));
      }
      out.add(s);
    }
    return List.copyOf(out);
  }
}
