package io.inferium.functions.tensor;

/**
 * IEEE 754 binary16 ("half", V2 {@code FP16}) conversions, since Java 17 has no
 * {@code Float.floatToFloat16}. A half is carried as its 16 raw bits in a {@code short}.
 *
 * <p>{@link #fromFloat} rounds to nearest, ties to even, produces subnormals and signed zeros,
 * overflows to infinity, and keeps NaN a NaN (sign and the top payload bits kept). {@link #toFloat}
 * is exact: every half value is representable as a float.
 */
public final class Half {

  private static final int SIGN = 0x8000;
  private static final int INFINITY = 0x7c00;
  private static final int QUIET = 0x0200;
  /** float exponent bias (127) minus half exponent bias (15). */
  private static final int BIAS_DELTA = 112;

  private Half() {}

  /** The half nearest to {@code f} (ties to even), as raw bits. */
  public static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & SIGN;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;

    if (exp == 0xff) {
      if (mant == 0) {
        return (short) (sign | INFINITY);
      }
      // Truncating the payload could leave zero, which would turn the NaN into an infinity.
      int payload = mant >>> 13;
      return (short) (sign | INFINITY | (payload == 0 ? QUIET : payload));
    }

    int halfExp = exp - BIAS_DELTA;
    if (halfExp >= 0x1f) {
      return (short) (sign | INFINITY);
    }
    if (halfExp <= 0) {
      return (short) (sign | subnormal(exp, mant));
    }
    int h = (halfExp << 10) | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) {
      // A carry out of the mantissa correctly bumps the exponent, up to infinity.
      h++;
    }
    return (short) (sign | h);
  }

  /**
   * The half nearest to {@code d} (ties to even), as raw bits. Correctly rounded: going through
   * {@code (float) d} first would round twice and can land on the wrong side of a midpoint.
   */
  public static short fromDouble(double d) {
    return fromFloat(toFloatRoundToOdd(d));
  }

  /**
   * Narrows a double to float rounding to odd: truncate, then set the last bit if anything was
   * dropped. A float keeps more than two extra bits over half and bfloat16, so rounding this result
   * again to nearest-even gives the same bits as rounding {@code d} once.
   */
  static float toFloatRoundToOdd(double d) {
    float f = (float) d;
    if (f == d || Double.isNaN(d)) {
      return f;
    }
    int bits = Float.floatToRawIntBits(f);
    if (Math.abs((double) f) > Math.abs(d)) {
      // Sign-magnitude bits: one step down in magnitude whatever the sign (infinity steps to max).
      bits--;
    }
    return Float.intBitsToFloat(bits | 1);
  }

  /** Half magnitude bits for a float below the smallest normal half (2^-14). */
  private static int subnormal(int exp, int mant) {
    if (exp == 0) {
      // Zero or a float subnormal: far below half the smallest half subnormal (2^-25).
      return 0;
    }
    int m = mant | 0x800000;
    // Half subnormals count units of 2^-24; m counts units of 2^(exp - 150).
    int shift = 126 - exp;
    if (shift > 24) {
      return 0;
    }
    int q = m >>> shift;
    int rest = m & ((1 << shift) - 1);
    int halfway = 1 << (shift - 1);
    if (rest > halfway || (rest == halfway && (q & 1) != 0)) {
      // Rounding the largest subnormal up yields 0x400, the smallest normal: still correct bits.
      q++;
    }
    return q;
  }

  /** The exact float value of the half with raw bits {@code h}. */
  public static float toFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & SIGN) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      // Zero or subnormal: mant * 2^-24 is exact in a float.
      float magnitude = mant * 0x1p-24f;
      return sign != 0 ? -magnitude : magnitude;
    }
    return Float.intBitsToFloat(sign | ((exp + BIAS_DELTA) << 23) | (mant << 13));
  }
}
