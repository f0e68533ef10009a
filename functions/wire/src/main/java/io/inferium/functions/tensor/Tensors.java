package io.inferium.functions.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds tensors from Java arrays and reads them back: for tests, smoke checks and comparisons
 * with ONNX Runtime, where writing little-endian bytes by hand would hide the intent.
 *
 * <p>Factories throw {@link IllegalArgumentException} when the value count does not match the
 * shape; readers throw it when the tensor's type cannot be read losslessly as the asked-for array
 * or its data is shorter or longer than the shape says.
 */
public final class Tensors {

  private Tensors() {}

  public static Tensor fp32(String name, long[] shape, float... values) {
    ByteBuffer buf = allocate(name, DataType.FP32, shape, values.length);
    for (float v : values) {
      buf.putFloat(v);
    }
    return new Tensor(name, DataType.FP32, shape.clone(), buf.flip());
  }

  public static Tensor int64(String name, long[] shape, long... values) {
    ByteBuffer buf = allocate(name, DataType.INT64, shape, values.length);
    for (long v : values) {
      buf.putLong(v);
    }
    return new Tensor(name, DataType.INT64, shape.clone(), buf.flip());
  }

  public static Tensor bool(String name, long[] shape, boolean... values) {
    ByteBuffer buf = allocate(name, DataType.BOOL, shape, values.length);
    for (boolean v : values) {
      buf.put(v ? (byte) 1 : (byte) 0);
    }
    return new Tensor(name, DataType.BOOL, shape.clone(), buf.flip());
  }

  /** A BYTES tensor holding each string as UTF-8. */
  public static Tensor strings(String name, long[] shape, String... values) {
    checkCount(name, shape, values.length);
    byte[][] elements = new byte[values.length][];
    for (int i = 0; i < values.length; i++) {
      elements[i] = values[i].getBytes(StandardCharsets.UTF_8);
    }
    return new Tensor(name, DataType.BYTES, shape.clone(), BytesLayout.pack(elements));
  }

  /** A BYTES tensor of raw elements (e.g. encoded images), one per element of {@code shape}. */
  public static Tensor byteArrays(String name, long[] shape, java.util.List<byte[]> values) {
    checkCount(name, shape, values.size());
    return new Tensor(name, DataType.BYTES, shape.clone(), BytesLayout.pack(values.toArray(byte[][]::new)));
  }

  /** The raw elements of a BYTES tensor. */
  public static java.util.List<byte[]> toByteArrays(Tensor t) {
    return java.util.List.of(BytesLayout.unpack(t));
  }

  /** Reads an FP32, FP16 or BF16 tensor; the half-width types widen exactly. */
  public static float[] toFloatArray(Tensor t) {
    ByteBuffer b = fixedView(t);
    float[] out = new float[(int) t.elementCount()];
    switch (t.type()) {
      case FP32 -> b.asFloatBuffer().get(out);
      case FP16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = Half.toFloat(b.getShort());
        }
      }
      case BF16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = BFloat16.toFloat(b.getShort());
        }
      }
      default -> throw unreadable(t, "float[]");
    }
    return out;
  }

  /**
   * Reads any integer tensor, or BOOL as 0/1. Unsigned values are zero-extended; a UINT64 above
   * {@link Long#MAX_VALUE} comes back negative (same bits), so read it with
   * {@link Long#toUnsignedString(long)}.
   */
  public static long[] toLongArray(Tensor t) {
    if (t.type().isFloatingPoint()) {
      throw unreadable(t, "long[]");
    }
    ByteBuffer b = fixedView(t);
    long[] out = new long[(int) t.elementCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (t.type()) {
        case BOOL -> b.get() != 0 ? 1 : 0;
        case UINT8 -> b.get() & 0xffL;
        case UINT16 -> b.getShort() & 0xffffL;
        case UINT32 -> b.getInt() & 0xffff_ffffL;
        case INT8 -> b.get();
        case INT16 -> b.getShort();
        case INT32 -> b.getInt();
        case INT64, UINT64 -> b.getLong();
        default -> throw new AssertionError(t.type());
      };
    }
    return out;
  }

  /**
   * Reads any numeric tensor (BOOL as 0/1) as doubles. Exact for every type except 64-bit integers
   * beyond 2^53, which round; UINT64 is read as unsigned.
   */
  public static double[] toDoubleArray(Tensor t) {
    ByteBuffer b = fixedView(t);
    double[] out = new double[(int) t.elementCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (t.type()) {
        case FP64 -> b.getDouble();
        case FP32 -> b.getFloat();
        case FP16 -> Half.toFloat(b.getShort());
        case BF16 -> BFloat16.toFloat(b.getShort());
        case UINT64 -> unsignedToDouble(b.getLong());
        case BOOL -> b.get() != 0 ? 1 : 0;
        case UINT8 -> b.get() & 0xff;
        case UINT16 -> b.getShort() & 0xffff;
        case UINT32 -> b.getInt() & 0xffff_ffffL;
        case INT8 -> b.get();
        case INT16 -> b.getShort();
        case INT32 -> b.getInt();
        case INT64 -> b.getLong();
        case BYTES -> throw unreadable(t, "double[]");
      };
    }
    return out;
  }

  /** Reads a BYTES tensor, decoding each element as UTF-8 (malformed input becomes U+FFFD). */
  public static String[] toStrings(Tensor t) {
    byte[][] elements = BytesLayout.unpack(t);
    String[] out = new String[elements.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = new String(elements[i], StandardCharsets.UTF_8);
    }
    return out;
  }

  static double unsignedToDouble(long v) {
    if (v >= 0) {
      return v;
    }
    // Halve keeping the low bit so the final rounding still sees it, then double back.
    return ((v >>> 1) | (v & 1)) * 2.0;
  }

  private static ByteBuffer allocate(String name, DataType type, long[] shape, int count) {
    checkCount(name, shape, count);
    return ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void checkCount(String name, long[] shape, int count) {
    long expected = Tensor.elementCount(shape);
    if (expected != count) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': shape " + Arrays.toString(shape) + " needs " + expected
              + " values, got " + count);
    }
  }

  /** A little-endian view of a fixed-width tensor whose byte count matches its shape. */
  static ByteBuffer fixedView(Tensor t) {
    if (!t.type().isFixedWidth()) {
      throw unreadable(t, "a numeric array");
    }
    long expected = Math.multiplyExact(t.elementCount(), t.type().byteSize());
    if (t.byteSize() != expected) {
      throw new IllegalArgumentException(
          "tensor '" + t.name() + "': " + t.type() + Arrays.toString(t.shape()) + " needs " + expected
              + " bytes, has " + t.byteSize());
    }
    return t.view();
  }

  private static IllegalArgumentException unreadable(Tensor t, String what) {
    return new IllegalArgumentException(
        "tensor '" + t.name() + "' is " + t.type() + " and cannot be read as " + what);
  }
}
