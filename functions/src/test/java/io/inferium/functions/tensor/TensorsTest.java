package io.inferium.functions.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class TensorsTest {

  @Test
  void factoriesWriteLittleEndianAndReadersGetTheValuesBack() {
    Tensor f = Tensors.fp32("f", new long[] {2}, 1.5f, -0f);
    assertEquals(DataType.FP32, f.type());
    assertArrayEquals(new byte[] {0, 0, (byte) 0xc0, 0x3f, 0, 0, 0, (byte) 0x80}, f.bytes());
    assertArrayEquals(new float[] {1.5f, -0f}, Tensors.toFloatArray(f));
    assertArrayEquals(new double[] {1.5, -0.0}, Tensors.toDoubleArray(f));

    Tensor i = Tensors.int64("i", new long[] {1, 3}, 1, -1, Long.MAX_VALUE);
    assertArrayEquals(new long[] {1, -1, Long.MAX_VALUE}, Tensors.toLongArray(i));
    assertEquals(24, i.byteSize());

    Tensor b = Tensors.bool("b", new long[] {3}, true, false, true);
    assertArrayEquals(new byte[] {1, 0, 1}, b.bytes());
    assertArrayEquals(new long[] {1, 0, 1}, Tensors.toLongArray(b));

    Tensor s = Tensors.strings("s", new long[] {2}, "h\u00e9", "");
    assertArrayEquals(new byte[] {3, 0, 0, 0, 'h', (byte) 0xc3, (byte) 0xa9, 0, 0, 0, 0}, s.bytes());
    assertArrayEquals(new String[] {"h\u00e9", ""}, Tensors.toStrings(s));
  }

  @Test
  void scalarsAndEmptyTensors() {
    Tensor scalar = Tensors.fp32("x", new long[0], 7f);
    assertArrayEquals(new float[] {7f}, Tensors.toFloatArray(scalar));
    Tensor empty = Tensors.int64("e", new long[] {0, 5});
    assertEquals(0, empty.byteSize());
    assertArrayEquals(new long[0], Tensors.toLongArray(empty));
  }

  @Test
  void factoriesCopyTheShape() {
    long[] shape = {2};
    Tensor t = Tensors.fp32("f", shape, 1, 2);
    shape[0] = 99;
    assertArrayEquals(new long[] {2}, t.shape());
  }

  @Test
  void readersWidenEveryIntegerTypeCorrectly() {
    assertArrayEquals(new long[] {255, 0}, Tensors.toLongArray(raw(DataType.UINT8, 2, -1, 0)));
    assertArrayEquals(new long[] {-1, 0}, Tensors.toLongArray(raw(DataType.INT8, 2, -1, 0)));
    assertArrayEquals(new long[] {65535}, Tensors.toLongArray(raw(DataType.UINT16, 1, -1, -1)));
    assertArrayEquals(new long[] {-1}, Tensors.toLongArray(raw(DataType.INT16, 1, -1, -1)));
    assertArrayEquals(new long[] {4294967295L}, Tensors.toLongArray(raw(DataType.UINT32, 1, -1, -1, -1, -1)));
    assertArrayEquals(new long[] {-1}, Tensors.toLongArray(raw(DataType.INT32, 1, -1, -1, -1, -1)));
    Tensor u64 = raw(DataType.UINT64, 1, -1, -1, -1, -1, -1, -1, -1, -1);
    assertArrayEquals(new long[] {-1}, Tensors.toLongArray(u64));
    assertArrayEquals(new double[] {0x1p64}, Tensors.toDoubleArray(u64));
    assertArrayEquals(new double[] {4294967295.0}, Tensors.toDoubleArray(raw(DataType.UINT32, 1, -1, -1, -1, -1)));
  }

  @Test
  void unsignedToDoubleRoundsToNearest() {
    assertEquals(0x1p63, Tensors.unsignedToDouble(Long.MIN_VALUE));
    // 2^63 + 2^10 + 1 is just above the midpoint between 2^63 and 2^63 + 2^11.
    assertEquals(0x1p63 + 0x1p11, Tensors.unsignedToDouble(Long.MIN_VALUE + 1025));
    assertEquals(0x1p63, Tensors.unsignedToDouble(Long.MIN_VALUE + 1024));
  }

  @Test
  void halfWidthFloatsWidenExactly() {
    Tensor h = raw(DataType.FP16, 2, 0x00, 0x3c, 0x01, 0x00);
    assertArrayEquals(new float[] {1f, 0x1p-24f}, Tensors.toFloatArray(h));
    Tensor bf = raw(DataType.BF16, 1, 0x49, 0x40);
    assertArrayEquals(new double[] {3.140625}, Tensors.toDoubleArray(bf));
  }

  @Test
  void mismatchesAreRejected() {
    IllegalArgumentException count =
        assertThrows(IllegalArgumentException.class, () -> Tensors.fp32("f", new long[] {2, 2}, 1, 2, 3));
    assertEquals("tensor 'f': shape [2, 2] needs 4 values, got 3", count.getMessage());
    Tensor i = Tensors.int64("i", new long[] {1}, 1);
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class, () -> Tensors.toFloatArray(i));
    assertEquals("tensor 'i' is INT64 and cannot be read as float[]", type.getMessage());
    Tensor emptyFloat = Tensors.fp32("f", new long[] {0});
    assertThrows(IllegalArgumentException.class, () -> Tensors.toLongArray(emptyFloat));
    assertThrows(IllegalArgumentException.class, () -> Tensors.toStrings(i));
    Tensor s = Tensors.strings("s", new long[] {1}, "x");
    assertThrows(IllegalArgumentException.class, () -> Tensors.toDoubleArray(s));
  }

  @Test
  void malformedBytesLayoutIsRejected() {
    Tensor shortLength = raw(DataType.BYTES, 1, 5, 0, 0, 0, 'a');
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensors.toStrings(shortLength));
    assertEquals("BYTES tensor 'r' [1] is malformed: element 0 claims 5 bytes, 1 left", e.getMessage());
    Tensor trailing = raw(DataType.BYTES, 1, 0, 0, 0, 0, 'z');
    assertThrows(IllegalArgumentException.class, () -> Tensors.toStrings(trailing));
    Tensor truncated = raw(DataType.BYTES, 2, 0, 0, 0, 0);
    assertThrows(IllegalArgumentException.class, () -> Tensors.toStrings(truncated));
  }

  @Test
  void invalidUtf8DecodesWithReplacementCharacters() {
    Tensor t = raw(DataType.BYTES, 1, 2, 0, 0, 0, 'a', 0xff);
    assertArrayEquals(new String[] {"a\ufffd"}, Tensors.toStrings(t));
  }

  private static Tensor raw(DataType type, long count, int... bytes) {
    ByteBuffer buf = ByteBuffer.allocate(bytes.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int b : bytes) {
      buf.put((byte) b);
    }
    return new Tensor("r", type, new long[] {count}, buf.flip());
  }
}
