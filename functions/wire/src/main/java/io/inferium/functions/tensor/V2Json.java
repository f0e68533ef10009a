package io.inferium.functions.tensor;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The KServe Open Inference Protocol v2 JSON form of a tensor, converted to and from {@link Tensor}.
 * JSON exists only at the HTTP edge; everything behind it carries raw little-endian bytes.
 *
 * <p>Decoding an input object {@code {name, shape, datatype, data[, parameters]}}:
 * <ul>
 *   <li>{@code name} must be a non-empty string; {@code shape} an array of non-negative integers
 *       (empty for a scalar); {@code datatype} any {@link DataType} name.</li>
 *   <li>{@code data} may be flat or nested; nested arrays are flattened in row-major order and only
 *       the total element count is checked against the shape, so ragged nesting is tolerated. A bare
 *       value that is not an array counts as one element.</li>
 *   <li>{@code BOOL} takes {@code true}/{@code false}, and also the numbers 0 and 1, which clients
 *       converting from numpy often send; any other number is rejected.</li>
 *   <li>Integer types take integral JSON numbers within the type's range, UINT64 up to 2^64-1. A
 *       number written with a fraction or exponent ({@code 3.0}, {@code 1e3}) is accepted when its
 *       value is an integer no larger than 2^53, where a double is still exact.</li>
 *   <li>{@code FP16}, {@code BF16}, {@code FP32}, {@code FP64} take any JSON number, rounded once to
 *       nearest-even (finite values beyond the type's range become infinities, as IEEE 754 does).
 *       JSON has no NaN or infinities, so these are also accepted as the strings {@code "NaN"},
 *       {@code "Infinity"}, {@code "-Infinity"}, {@code "inf"}, {@code "-inf"} (any case).</li>
 *   <li>{@code BYTES} takes strings, stored as UTF-8 in the Triton binary layout.</li>
 * </ul>
 * Any violation throws {@link TensorFormatException} naming the input (and element index).
 *
 * <p>Encoding an output writes {@code {name, datatype, shape, data}} with flat row-major data.
 * FP16 and BF16 print as floats; finite floats print in their shortest round-tripping form;
 * non-finite values print as the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"};
 * UINT64 above 2^63-1 prints as its unsigned decimal. BYTES elements are decoded as UTF-8, as Triton
 * does for JSON; bytes that are not valid UTF-8 come out with U+FFFD replacement characters and need
 * the binary tensor data extension to travel intact.
 */
public final class V2Json {

  private static final String ACCEPTED_TYPES =
      Arrays.stream(DataType.values()).map(DataType::v2Name).collect(Collectors.joining(", "));

  private V2Json() {}

  /**
   * Decodes one V2 request input object {@code {name, shape, datatype, data[, parameters]}} into a
   * tensor.
   *
   * @throws TensorFormatException if the object breaks any of the rules in the class description
   */
  public static Tensor decodeInput(JsonObject input) {
    String name = name(input.getValue("name"));
    DataType type = datatype(name, input.getValue("datatype"));
    long[] shape = shape(name, input.getValue("shape"));
    Object data = data(name, input);

    long expected = elementCount(name, shape);
    long got = countLeaves(data);
    if (got != expected) {
      throw new TensorFormatException("input '" + name + "': shape " + shapeText(shape) + " needs "
          + expected + (expected == 1 ? " element" : " elements") + ", got " + got);
    }
    ByteBuffer bytes = type == DataType.BYTES ? packStrings(name, data, (int) expected)
        : packFixed(name, type, shape, data, expected);
    return new Tensor(name, type, shape, bytes);
  }

  /** Whether an input object says its data travel in the binary extension ({@code parameters.binary_data_size}). */
  public static boolean isBinary(JsonObject input) {
    return input.getValue("parameters") instanceof JsonObject p && p.containsKey("binary_data_size");
  }

  /**
   * Decodes an input whose data travel after the JSON header (Triton's binary tensor data extension):
   * {@code parameters.binary_data_size} bytes taken from {@code binary}, which advances past them. The
   * bytes are used as they are (little-endian; BYTES as 4-byte length + bytes per element), not copied.
   */
  public static Tensor decodeBinaryInput(JsonObject input, ByteBuffer binary) {
    String name = name(input.getValue("name"));
    DataType type = datatype(name, input.getValue("datatype"));
    long[] shape = shape(name, input.getValue("shape"));
    Object sizeValue = ((JsonObject) input.getValue("parameters")).getValue("binary_data_size");
    if (!(sizeValue instanceof Integer || sizeValue instanceof Long) || ((Number) sizeValue).longValue() < 0) {
      throw new TensorFormatException("input '" + name + "': parameters.binary_data_size must be a non-negative integer, got "
          + JsonElements.describe(sizeValue));
    }
    long size = ((Number) sizeValue).longValue();
    if (size > binary.remaining()) {
      throw new TensorFormatException("input '" + name + "': binary_data_size " + size + " but only "
          + binary.remaining() + " bytes remain after the JSON header and earlier inputs");
    }
    long count = elementCount(name, shape);
    ByteBuffer data = binary.slice(binary.position(), (int) size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    if (type.isFixedWidth()) {
      long needed = byteCount(name, type, shape, count);
      if (needed != size) {
        throw new TensorFormatException("input '" + name + "': shape " + shapeText(shape) + " of " + type + " needs "
            + needed + " bytes, binary_data_size is " + size);
      }
    } else {
      if (count > size / 4) {
        throw new TensorFormatException("input '" + name + "': shape " + shapeText(shape) + " of BYTES needs at least "
            + count + " 4-byte length prefixes, binary_data_size is " + size);
      }
      long elements = 0;
      int pos = 0;
      while (pos + 4 <= size) {
        long len = Integer.toUnsignedLong(data.getInt(pos));
        pos += 4;
        if (pos + len > size) {
          break;
        }
        pos += (int) len;
        elements++;
      }
      if (pos != size || elements != count) {
        throw new TensorFormatException("input '" + name + "': binary BYTES data must be " + count
            + " elements of a 4-byte little-endian length and the bytes; the " + size + " bytes do not parse so");
      }
    }
    binary.position(binary.position() + (int) size);
    return new Tensor(name, type, shape, data);
  }

  /** An output object whose data follow the JSON header: {@code parameters.binary_data_size}, no {@code data}. */
  public static JsonObject encodeBinaryOutput(Tensor t) {
    return new JsonObject()
        .put("name", t.name())
        .put("datatype", t.type().v2Name())
        .put("shape", shapeJson(t.shape()))
        .put("parameters", new JsonObject().put("binary_data_size", t.byteSize()));
  }

  /**
   * Encodes a tensor as a V2 output object {@code {name, datatype, shape, data}}, data flat in
   * row-major order.
   *
   * @throws IllegalArgumentException if the tensor's bytes do not match its shape (a server bug)
   */
  public static JsonObject encodeOutput(Tensor t) {
    return new JsonObject()
        .put("name", t.name())
        .put("datatype", t.type().v2Name())
        .put("shape", shapeJson(t.shape()))
        .put("data", dataJson(t));
  }

  /** A shape as a JSON array of integers ({@code []} for a scalar), as V2 metadata and outputs write it. */
  public static JsonArray shapeJson(long[] shape) {
    JsonArray out = new JsonArray(new ArrayList<>(shape.length));
    for (long d : shape) {
      out.add(d);
    }
    return out;
  }

  private static String name(Object v) {
    if (v instanceof String s && !s.isEmpty()) {
      return s;
    }
    throw new TensorFormatException(
        "input needs a 'name': expected a non-empty string, got " + JsonElements.describe(v));
  }

  private static DataType datatype(String name, Object v) {
    if (v instanceof String s) {
      return DataType.fromV2(s).orElseThrow(() -> new TensorFormatException("input '" + name
          + "': unknown datatype " + JsonElements.describe(s) + ", expected one of " + ACCEPTED_TYPES));
    }
    throw new TensorFormatException("input '" + name + "': 'datatype' must be one of " + ACCEPTED_TYPES
        + ", got " + JsonElements.describe(v));
  }

  private static long[] shape(String name, Object v) {
    if (!(v instanceof JsonArray dims)) {
      throw new TensorFormatException("input '" + name
          + "': 'shape' must be an array of non-negative integers, got " + JsonElements.describe(v));
    }
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      Object d = dims.getValue(i);
      long dim = -1;
      if (d instanceof Integer || d instanceof Long) {
        dim = ((Number) d).longValue();
      } else if (d instanceof Double x && x == Math.rint(x) && Math.abs(x) <= 0x1p53) {
        dim = x.longValue();
      }
      if (dim < 0) {
        throw new TensorFormatException("input '" + name + "': shape dimension " + i
            + " must be a non-negative integer, got " + JsonElements.describe(d));
      }
      shape[i] = dim;
    }
    return shape;
  }

  private static Object data(String name, JsonObject input) {
    Object data = input.getValue("data");
    if (data != null) {
      return data;
    }
    JsonObject parameters = input.getValue("parameters") instanceof JsonObject p ? p : null;
    if (parameters != null && parameters.containsKey("binary_data_size")) {
      throw new TensorFormatException("input '" + name + "': binary_data_size is set, but the request has no "
          + "Inference-Header-Content-Length header to say where the JSON ends and the binary data begin");
    }
    throw new TensorFormatException("input '" + name + "': missing 'data'");
  }

  private static long elementCount(String name, long[] shape) {
    try {
      return Tensor.elementCount(shape);
    } catch (ArithmeticException overflow) {
      throw new TensorFormatException("input '" + name + "': shape " + shapeText(shape)
          + " has more elements than a tensor can hold");
    }
  }

  /**
   * Bytes of a fixed-width tensor, computed without overflow: a shape such as [2^60, 4] of FP32 would
   * otherwise wrap to 0 bytes and pass a size check.
   */
  private static long byteCount(String name, DataType type, long[] shape, long count) {
    try {
      return Math.multiplyExact(count, type.byteSize());
    } catch (ArithmeticException overflow) {
      throw new TensorFormatException("input '" + name + "': shape " + shapeText(shape) + " of " + type
          + " has more bytes than a tensor can hold");
    }
  }

  private static long countLeaves(Object node) {
    if (node instanceof JsonArray a) {
      long n = 0;
      for (int i = 0; i < a.size(); i++) {
        n += countLeaves(a.getValue(i));
      }
      return n;
    }
    return 1;
  }

  /** Receives the leaves of a nested data array with their flat row-major index. */
  @FunctionalInterface
  private interface LeafSink {
    void accept(int index, Object value);
  }

  private static int forEachLeaf(Object node, int index, LeafSink sink) {
    if (node instanceof JsonArray a) {
      int next = index;
      for (int i = 0; i < a.size(); i++) {
        next = forEachLeaf(a.getValue(i), next, sink);
      }
      return next;
    }
    sink.accept(index, node);
    return index + 1;
  }

  private static ByteBuffer packFixed(String name, DataType type, long[] shape, Object data, long count) {
    long size = byteCount(name, type, shape, count);
    if (size > Integer.MAX_VALUE) {
      throw new TensorFormatException("input '" + name + "': " + type + shapeText(shape) + " is " + size
          + " bytes, over the 2 GiB limit of one tensor");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    LeafSink sink = switch (type) {
      case BOOL -> (i, v) -> buf.put(JsonElements.bool(name, i, v) ? (byte) 1 : (byte) 0);
      case UINT8, INT8 -> (i, v) -> buf.put((byte) JsonElements.integer(name, type, i, v));
      case UINT16, INT16 -> (i, v) -> buf.putShort((short) JsonElements.integer(name, type, i, v));
      case UINT32, INT32 -> (i, v) -> buf.putInt((int) JsonElements.integer(name, type, i, v));
      case UINT64, INT64 -> (i, v) -> buf.putLong(JsonElements.integer(name, type, i, v));
      case FP16 -> (i, v) -> buf.putShort(Half.fromDouble(JsonElements.real(name, type, i, v)));
      case BF16 -> (i, v) -> buf.putShort(BFloat16.fromDouble(JsonElements.real(name, type, i, v)));
      case FP32 -> (i, v) -> buf.putFloat((float) JsonElements.real(name, type, i, v));
      case FP64 -> (i, v) -> buf.putDouble(JsonElements.real(name, type, i, v));
      case BYTES -> throw new IllegalArgumentException("BYTES is not fixed-width");
    };
    forEachLeaf(data, 0, sink);
    return buf.flip();
  }

  private static ByteBuffer packStrings(String name, Object data, int count) {
    byte[][] elements = new byte[count][];
    forEachLeaf(data, 0, (i, v) -> elements[i] = JsonElements.utf8(name, i, v));
    try {
      return BytesLayout.pack(elements);
    } catch (IllegalArgumentException tooLarge) {
      throw new TensorFormatException("input '" + name + "': " + tooLarge.getMessage());
    }
  }

  private static JsonArray dataJson(Tensor t) {
    if (t.type() == DataType.BYTES) {
      String[] strings = Tensors.toStrings(t);
      return new JsonArray(new ArrayList<>(Arrays.asList(strings)));
    }
    ByteBuffer b = Tensors.fixedView(t);
    int count = (int) t.elementCount();
    List<Object> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(switch (t.type()) {
        case BOOL -> b.get() != 0;
        case UINT8 -> b.get() & 0xff;
        case UINT16 -> b.getShort() & 0xffff;
        case UINT32 -> b.getInt() & 0xffff_ffffL;
        case UINT64 -> JsonElements.unsigned64(b.getLong());
        case INT8 -> (int) b.get();
        case INT16 -> (int) b.getShort();
        case INT32 -> b.getInt();
        case INT64 -> b.getLong();
        case FP16 -> JsonElements.json(Half.toFloat(b.getShort()));
        case BF16 -> JsonElements.json(BFloat16.toFloat(b.getShort()));
        case FP32 -> JsonElements.json(b.getFloat());
        case FP64 -> JsonElements.json(b.getDouble());
        case BYTES -> throw new AssertionError("handled above");
      });
    }
    return new JsonArray(out);
  }

  private static String shapeText(long[] shape) {
    return shapeJson(shape).encode();
  }
}
