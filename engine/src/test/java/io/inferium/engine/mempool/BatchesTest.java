package io.inferium.engine.mempool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchesTest {

  @Test
  void concatenatesAlongTheFirstDimensionAndSplitsBack() {
    Tensor a = Tensors.fp32("x", new long[] {1, 2}, 1, 2);
    Tensor b = Tensors.fp32("x", new long[] {3, 2}, 3, 4, 5, 6, 7, 8);
    Tensor joined = Batches.concat("x", List.of(a, b));
    assertArrayEquals(new long[] {4, 2}, joined.shape());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, Tensors.toFloatArray(joined));

    List<Tensor> parts = Batches.split(joined, new long[] {1, 3});
    assertEquals(a, parts.get(0));
    assertEquals(b, parts.get(1));
  }

  @Test
  void stringTensorsSplitOnElementBoundaries() {
    Tensor a = Tensors.strings("s", new long[] {2}, "héllo", "");
    Tensor b = Tensors.strings("s", new long[] {1}, "world, longer");
    Tensor joined = Batches.concat("s", List.of(a, b));
    assertArrayEquals(new String[] {"héllo", "", "world, longer"}, Tensors.toStrings(joined));
    List<Tensor> parts = Batches.split(joined, new long[] {2, 1});
    assertArrayEquals(new String[] {"héllo", ""}, Tensors.toStrings(parts.get(0)));
    assertArrayEquals(new String[] {"world, longer"}, Tensors.toStrings(parts.get(1)));
  }

  @Test
  void aSingleRequestIsPassedThroughUntouched() {
    Tensor a = Tensors.int64("i", new long[] {2}, 7, 8);
    assertTrue(Batches.concat("i", List.of(a)) == a);
  }

  @Test
  void anOutputWithoutTheBatchRowsCannotBeSplit() {
    Tensor scalar = Tensors.fp32("loss", new long[] {}, 1f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Batches.split(scalar, new long[] {1, 2}));
    assertTrue(e.getMessage().contains("output 'loss'") && e.getMessage().contains("3 rows"), e.getMessage());
  }

  @Test
  void anOutputWhoseShapeOverflowsIsRefusedNotWrapped() {
    // 2^62 × 4 × 4 bytes wraps to 0 in plain long arithmetic; the split must not slice by it.
    Tensor lying = new Tensor("y", io.inferium.functions.tensor.DataType.FP32, new long[] {2, 1L << 62, 4},
        java.nio.ByteBuffer.allocate(0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Batches.split(lying, new long[] {1, 1}));
    assertTrue(e.getMessage().contains("output 'y'") && e.getMessage().contains("cannot be split"), e.getMessage());
  }
}
