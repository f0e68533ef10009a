package io.inferium.functions.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named tensor as raw bytes: the shape is in elements, the data is little-endian. For
 * {@link DataType#BYTES} the data is the Triton/KServe binary layout: per element a 4-byte
 * little-endian length followed by that many bytes.
 *
 * <p>The buffer is never copied by this class; callers treat it as read-only once the tensor is built.
 */
public record Tensor(String name, DataType type, long[] shape, ByteBuffer data) {

  public Tensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
    data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Number of elements the shape describes; 1 for a scalar (rank 0). */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public long elementCount() {
    return elementCount(shape);
  }

  /** Bytes in {@link #data()}. */
  public int byteSize() {
    return data.remaining();
  }

  /** A read-only little-endian view positioned at the first byte. */
  public ByteBuffer view() {
    return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A copy of the bytes. */
  public byte[] bytes() {
    byte[] out = new byte[data.remaining()];
    data.duplicate().get(out);
    return out;
  }

  public Tensor withName(String newName) {
    return new Tensor(newName, type, shape, data);
  }

  @Override
  public String toString() {
    return "Tensor[" + name + " " + type + Arrays.toString(shape) + ", " + data.remaining() + " bytes]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t
        && name.equals(t.name)
        && type == t.type
        && Arrays.equals(shape, t.shape)
        && data.equals(t.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, type, Arrays.hashCode(shape), data);
  }
}
