package io.inferium.functions.tensor;

/**
 * bfloat16 (V2 {@code BF16}) conversions: the top 16 bits of a float, carried as raw bits in a
 * {@code short}.
 *
 * <p>{@link #fromFloat} rounds to nearest, ties to even (not plain truncation), overflows to
 * infinity, and keeps NaN a NaN. {@link #toFloat} is exact.
 */
public final class BFloat16 {

  private BFloat16() {}

  /** The bfloat16 nearest to {@code f} (ties to even), as raw bits. */
  public static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      int top = bits >>> 16;
      // A payload only in the low half would be cut off and leave an infinity: set the quiet bit.
      return (short) ((top & 0x7f) == 0 ? top | 0x40 : top);
    }
    int roundingBias = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  /** The bfloat16 nearest to {@code d} (ties to even), rounding once rather than twice via float. */
  public static short fromDouble(double d) {
    return fromFloat(Half.toFloatRoundToOdd(d));
  }

  /** The exact float value of the bfloat16 with raw bits {@code b}. */
  public static float toFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }
}
