package io.inferium.functions;

import io.inferium.functions.tensor.DataType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How an image becomes a model's input tensor (an image function's spec {@code preprocess} object): the
 * worker decodes the image, resizes it to {@code width × height}, orders its channels, scales each
 * value {@code v} in 0..255 to {@code (v / 255 - mean[c]) / std[c]} (FP32) or keeps it (UINT8), and
 * lays the batch out as NCHW or NHWC. The gateway sends this object with every INFER of an image
 * function (frame meta {@code media}), so two functions sharing one model file may pre-process
 * differently.
 *
 * @param input the model input the image feeds; null until resolved against the model's only input
 */
public record ImagePreprocess(int width, int height, Resize resize, Channels channels, Layout layout,
    List<Double> mean, List<Double> std, DataType dtype, String input) {

  /** Largest target side. */
  public static final int MAX_SIDE = 4096;
  /** Most target pixels (width × height), so a batch of pre-processed images stays a few hundred MiB at most. */
  public static final long MAX_TARGET_PIXELS = 1L << 20;
  /** Most pixels a source image may declare (width × height), checked from its header before decoding. */
  public static final long MAX_SOURCE_PIXELS = 4096L * 4096L;
  private static final Set<String> FIELDS = Set.of("size", "resize", "channels", "layout", "mean", "std", "dtype", "input");

  /** {@code stretch}: scale to exactly the size; {@code center-crop}: scale the short side, then crop the middle. */
  public enum Resize {
    STRETCH("stretch"), CENTER_CROP("center-crop");

    private final String wire;

    Resize(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }
  }

  /** Channel order of the tensor: red, green, blue; blue, green, red; or one grey channel (ITU-R BT.601 luma). */
  public enum Channels {
    RGB(3), BGR(3), GRAY(1);

    private final int count;

    Channels(int count) {
      this.count = count;
    }

    public int count() {
      return count;
    }
  }

  /** Dimension order of the tensor. */
  public enum Layout { NCHW, NHWC }

  public ImagePreprocess {
    mean = List.copyOf(mean);
    std = List.copyOf(std);
  }

  /** The shape of a batch of {@code n} images. */
  public long[] shape(long n) {
    return layout == Layout.NCHW ? new long[] {n, channels.count(), height, width}
        : new long[] {n, height, width, channels.count()};
  }

  public ImagePreprocess withInput(String name) {
    return new ImagePreprocess(width, height, resize, channels, layout, mean, std, dtype, name);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject()
        .put("size", new JsonObject().put("width", width).put("height", height))
        .put("resize", resize.wire())
        .put("channels", channels.name().toLowerCase(Locale.ROOT))
        .put("layout", layout.name())
        .put("mean", new JsonArray(new ArrayList<>(mean)))
        .put("std", new JsonArray(new ArrayList<>(std)))
        .put("dtype", dtype.v2Name());
    if (input != null) {
      o.put("input", input);
    }
    return o;
  }

  /**
   * Parses and bounds a {@code preprocess} object.
   *
   * @throws IllegalArgumentException whose message names the field ({@code field 'preprocess.size': ...})
   */
  public static ImagePreprocess fromJson(Object value) {
    if (!(value instanceof JsonObject p)) {
      throw bad("preprocess", "expected an object such as {\"size\": 224, \"channels\": \"rgb\", \"layout\": \"NCHW\"}, got "
          + value);
    }
    for (String field : p.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw bad("preprocess", "unknown field '" + field + "' (accepted: " + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
      }
    }
    int width;
    int height;
    Object size = p.getValue("size");
    if (size instanceof Integer n) {
      width = side("size", n);
      height = width;
    } else if (size instanceof JsonObject s && s.size() == 2 && s.getValue("width") instanceof Integer w
        && s.getValue("height") instanceof Integer h) {
      width = side("size.width", w);
      height = side("size.height", h);
    } else {
      throw bad("preprocess.size", "expected an integer (a square) or {\"width\": w, \"height\": h}, got " + size);
    }
    if ((long) width * height > MAX_TARGET_PIXELS) {
      throw bad("preprocess.size", width + " × " + height + " is more than " + MAX_TARGET_PIXELS + " pixels");
    }
    Resize resize = choice("resize", p.getValue("resize"), Resize.STRETCH, Resize.values());
    Channels channels = choice("channels", p.getValue("channels"), Channels.RGB, Channels.values());
    Layout layout = choice("layout", p.getValue("layout"), Layout.NCHW, Layout.values());
    Object dt = p.getValue("dtype");
    DataType dtype;
    if (dt == null || "FP32".equals(dt)) {
      dtype = DataType.FP32;
    } else if ("UINT8".equals(dt)) {
      dtype = DataType.UINT8;
    } else {
      throw bad("preprocess.dtype", "expected FP32 | UINT8, got " + dt);
    }
    List<Double> mean = perChannel(p, "mean", channels.count(), 0.0, dtype);
    List<Double> std = perChannel(p, "std", channels.count(), 1.0, dtype);
    for (int i = 0; i < std.size(); i++) {
      if (!(std.get(i) > 0)) {
        throw bad("preprocess.std[" + i + "]", "expected a number above 0, got " + std.get(i));
      }
    }
    Object input = p.getValue("input");
    if (input != null && !(input instanceof String)) {
      throw bad("preprocess.input", "expected the name of a model input, got " + input);
    }
    return new ImagePreprocess(width, height, resize, channels, layout, mean, std, dtype, (String) input);
  }

  private static int side(String field, int n) {
    if (n < 1 || n > MAX_SIDE) {
      throw bad("preprocess." + field, "expected an integer in [1, " + MAX_SIDE + "], got " + n);
    }
    return n;
  }

  private static <E extends Enum<E>> E choice(String field, Object value, E dflt, E[] values) {
    if (value == null) {
      return dflt;
    }
    List<String> names = new ArrayList<>();
    for (E e : values) {
      String wire = e instanceof Resize r ? r.wire() : e.name().toLowerCase(Locale.ROOT);
      names.add(wire);
      if (value instanceof String s && s.toLowerCase(Locale.ROOT).equals(wire)) {
        return e;
      }
    }
    throw bad("preprocess." + field, "expected one of " + String.join(" | ", names) + ", got " + value);
  }

  private static List<Double> perChannel(JsonObject p, String field, int channels, double dflt, DataType dtype) {
    Object v = p.getValue(field);
    if (v == null) {
      return java.util.Collections.nCopies(channels, dflt);
    }
    if (dtype == DataType.UINT8) {
      throw bad("preprocess." + field, "UINT8 input takes the pixel values as they are: no " + field);
    }
    if (!(v instanceof JsonArray a) || a.size() != channels) {
      throw bad("preprocess." + field, "expected " + channels + " number" + (channels == 1 ? "" : "s")
          + " (one per channel), got " + v);
    }
    List<Double> out = new ArrayList<>(channels);
    for (int i = 0; i < channels; i++) {
      if (!(a.getValue(i) instanceof Number n) || !Double.isFinite(n.doubleValue())) {
        throw bad("preprocess." + field + "[" + i + "]", "expected a finite number, got " + a.getValue(i));
      }
      out.add(n.doubleValue());
    }
    return out;
  }

  private static IllegalArgumentException bad(String field, String message) {
    return new IllegalArgumentException("field '" + field + "': " + message);
  }
}
