package io.inferium.functions.generation;

import java.nio.FloatBuffer;

/**
 * One sequence's attention keys and values: per layer, a {@code [heads, capacity, headDim]} array
 * of which the first {@code length} positions are filled. Capacity doubles as the sequence grows,
 * so appending a decoded token copies only that token's vectors.
 */
final class KvCache {

  private final int heads;
  private final int headDim;
  private final float[][] keys;
  private final float[][] values;
  private int capacity;
  private int length;

  KvCache(int layers, int heads, int headDim, int initialCapacity) {
    this.heads = heads;
    this.headDim = headDim;
    this.capacity = Math.max(1, initialCapacity);
    this.keys = new float[layers][heads * capacity * headDim];
    this.values = new float[layers][heads * capacity * headDim];
  }

  int length() {
    return length;
  }

  /**
   * Writes this cache as row {@code row} of a {@code [batch, heads, batchLength, headDim]} tensor,
   * left-padded: its positions land at the end of the row. The pad region is left as it is; the
   * attention mask gives it zero weight.
   */
  void writeRow(FloatBuffer batch, int layer, boolean value, int row, int batchLength) {
    float[] src = value ? values[layer] : keys[layer];
    for (int h = 0; h < heads; h++) {
      int dst = ((row * heads + h) * batchLength + (batchLength - length)) * headDim;
      batch.put(dst, src, h * capacity * headDim, length * headDim);
    }
  }

  /**
   * Appends positions {@code [from, from + count)} of row {@code row} of a
   * {@code [batch, heads, total, headDim]} present tensor to layer {@code layer}. Call
   * {@link #advance} once all layers have their new positions.
   */
  void append(FloatBuffer present, int layer, boolean value, int row, int total, int from, int count) {
    ensureCapacity(length + count);
    float[] dst = value ? values[layer] : keys[layer];
    for (int h = 0; h < heads; h++) {
      int src = ((row * heads + h) * total + from) * headDim;
      present.get(src, dst, (h * capacity + length) * headDim, count * headDim);
    }
  }

  void advance(int count) {
    length += count;
  }

  private void ensureCapacity(int needed) {
    if (needed <= capacity) {
      return;
    }
    int grown = Math.max(needed, capacity * 2);
    for (int layer = 0; layer < keys.length; layer++) {
      keys[layer] = regrow(keys[layer], grown);
      values[layer] = regrow(values[layer], grown);
    }
    capacity = grown;
  }

  private float[] regrow(float[] old, int grown) {
    float[] fresh = new float[heads * grown * headDim];
    for (int h = 0; h < heads; h++) {
      System.arraycopy(old, h * capacity * headDim, fresh, h * grown * headDim, length * headDim);
    }
    return fresh;
  }
}
