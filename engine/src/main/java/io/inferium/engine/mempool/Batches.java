package io.inferium.engine.mempool;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Concatenates requests' tensors along dimension 0 and splits a batch's outputs back into per-request
 * slices. Splitting shares the output's bytes (no copy). BYTES tensors work too: their layout is a
 * sequence of length-prefixed elements, so concatenation is plain byte concatenation and splitting
 * walks the prefixes.
 */
final class Batches {

  private Batches() {}

  /** One tensor made of {@code parts} stacked along dimension 0; all parts share dtype and trailing dims. */
  static Tensor concat(String name, List<Tensor> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    Tensor first = parts.get(0);
    long rows = 0;
    int bytes = 0;
    for (Tensor t : parts) {
      rows = Math.addExact(rows, t.shape()[0]);
      bytes = Math.addExact(bytes, t.byteSize());
    }
    ByteBuffer out = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (Tensor t : parts) {
      out.put(t.view());
    }
    long[] shape = first.shape().clone();
    shape[0] = rows;
    return new Tensor(name, first.type(), shape, out.flip());
  }

  /** Splits {@code t} along dimension 0 into pieces of the given row counts (which must add up). */
  static List<Tensor> split(Tensor t, long[] rows) {
    try {
      return splitExact(t, rows);
    } catch (ArithmeticException | IndexOutOfBoundsException overflow) {
      throw new IllegalArgumentException("output '" + t.name() + "' shape " + Arrays.toString(t.shape()) + " does not "
          + "describe its " + t.byteSize() + " bytes: it cannot be split per request");
    }
  }

  private static List<Tensor> splitExact(Tensor t, long[] rows) {
    long total = 0;
    for (long r : rows) {
      total = Math.addExact(total, r);
    }
    if (t.shape().length == 0 || t.shape()[0] != total) {
      throw new IllegalArgumentException("output '" + t.name() + "' has shape " + Arrays.toString(t.shape())
          + ", not " + total + " rows: it cannot be split per request");
    }
    // The shape came from a worker: size arithmetic on it must not wrap (an ArithmeticException fails
    // only this batch, where a wrapped size could slice the wrong bytes).
    long perRow = 1;
    for (int i = 1; i < t.shape().length; i++) {
      perRow = Math.multiplyExact(perRow, t.shape()[i]);
    }
    List<Tensor> out = new ArrayList<>(rows.length);
    ByteBuffer data = t.view();
    int offset = 0;
    for (long r : rows) {
      long elements = Math.multiplyExact(r, perRow);
      int length = t.type() == DataType.BYTES
          ? bytesOfElements(data, offset, elements)
          : Math.toIntExact(Math.multiplyExact(elements, t.type().byteSize()));
      long[] shape = t.shape().clone();
      shape[0] = r;
      out.add(new Tensor(t.name(), t.type(), shape, data.slice(offset, length).order(ByteOrder.LITTLE_ENDIAN)));
      offset += length;
    }
    return out;
  }

  private static int bytesOfElements(ByteBuffer data, int start, long elements) {
    int pos = start;
    for (long i = 0; i < elements; i++) {
      int length = data.getInt(pos);
      if (length < 0) {
        throw new IllegalArgumentException("BYTES element " + i + " claims a negative length");
      }
      pos = Math.addExact(pos, Math.addExact(4, length));
    }
    return pos - start;
  }
}
