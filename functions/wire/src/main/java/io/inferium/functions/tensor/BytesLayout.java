package io.inferium.functions.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The Triton/KServe binary layout of a {@link DataType#BYTES} tensor: per element a 4-byte
 * little-endian length, then that many bytes. One place writes and reads it so the JSON codec and
 * the test factories cannot drift apart.
 */
final class BytesLayout {

  private BytesLayout() {}

  /** Packs the elements into a fresh little-endian buffer positioned at its first byte. */
  static ByteBuffer pack(byte[][] elements) {
    long size = 0;
    for (byte[] e : elements) {
      size += Integer.BYTES + e.length;
    }
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("BYTES tensor of " + size + " bytes exceeds the 2 GiB buffer limit");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] e : elements) {
      buf.putInt(e.length).put(e);
    }
    return buf.flip();
  }

  /**
   * Splits a BYTES tensor into its elements.
   *
   * @throws IllegalArgumentException if the buffer does not hold exactly {@code elementCount}
   *     well-formed elements: a server-side bug, not a client error
   */
  static byte[][] unpack(Tensor t) {
    if (t.type() != DataType.BYTES) {
      throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.type() + ", not BYTES");
    }
    long count = t.elementCount();
    if (count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("tensor '" + t.name() + "' has too many elements: " + count);
    }
    ByteBuffer buf = t.view();
    byte[][] out = new byte[(int) count][];
    for (int i = 0; i < out.length; i++) {
      if (buf.remaining() < Integer.BYTES) {
        throw malformed(t, "element " + i + " has no length prefix");
      }
      int length = buf.getInt();
      if (length < 0 || length > buf.remaining()) {
        throw malformed(t, "element " + i + " claims " + Integer.toUnsignedString(length)
            + " bytes, " + buf.remaining() + " left");
      }
      out[i] = new byte[length];
      buf.get(out[i]);
    }
    if (buf.hasRemaining()) {
      throw malformed(t, buf.remaining() + " bytes left after " + count + " elements");
    }
    return out;
  }

  private static IllegalArgumentException malformed(Tensor t, String detail) {
    return new IllegalArgumentException(
        "BYTES tensor '" + t.name() + "' " + Arrays.toString(t.shape()) + " is malformed: " + detail);
  }
}
