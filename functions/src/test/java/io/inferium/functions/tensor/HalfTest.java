package io.inferium.functions.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfTest {

  @Test
  void everyHalfSurvivesARoundTripThroughFloat() {
    for (int bits = 0; bits <= 0xffff; bits++) {
      short h = (short) bits;
      short back = Half.fromFloat(Half.toFloat(h));
      assertEquals(h, back, () -> "half 0x" + Integer.toHexString(h & 0xffff));
    }
  }

  @Test
  void toFloatMatchesTheBinary16Definition() {
    for (int bits = 0; bits <= 0xffff; bits++) {
      int exp = (bits >>> 10) & 0x1f;
      int mant = bits & 0x3ff;
      double sign = (bits & 0x8000) != 0 ? -1 : 1;
      float f = Half.toFloat((short) bits);
      if (exp == 0x1f) {
        assertEquals(mant != 0, Float.isNaN(f), "NaN-ness of 0x" + Integer.toHexString(bits));
        if (mant == 0) {
          assertEquals(sign * Double.POSITIVE_INFINITY, f, 0.0);
        }
        continue;
      }
      double expected =
          exp == 0 ? sign * Math.scalb((double) mant, -24) : sign * Math.scalb(1024.0 + mant, exp - 25);
      assertEquals(expected, f, 0.0, "0x" + Integer.toHexString(bits));
      assertEquals(
          Double.doubleToRawLongBits(expected) < 0,
          Float.floatToRawIntBits(f) < 0,
          "sign of 0x" + Integer.toHexString(bits));
    }
  }

  @Test
  void midpointsBetweenNeighboursRoundToEven() {
    for (int sign : new int[] {0, 0x8000}) {
      // 0x7bff..0x7c00 included: the midpoint 65520 ties to even, which is infinity.
      for (int low = 0; low < 0x7c00; low++) {
        int high = low + 1;
        double a = Half.toFloat((short) (sign | low));
        double b = high == 0x7c00 ? (sign == 0 ? 65536.0 : -65536.0) : Half.toFloat((short) (sign | high));
        float mid = (float) ((a + b) / 2);
        assertEquals((a + b) / 2, mid, 0.0, "midpoint must be exact in float");
        int even = (low & 1) == 0 ? low : high;
        assertHalf(sign | even, Half.fromFloat(mid));
        assertHalf(sign | low, Half.fromFloat(towardZero(mid)));
        assertHalf(sign | high, Half.fromFloat(awayFromZero(mid)));
      }
    }
  }

  @Test
  void randomFloatsRoundToTheNearestHalf() {
    SplittableRandom random = new SplittableRandom(16);
    for (int i = 0; i < 2_000_000; i++) {
      // Exponents around the half range (2^-26 .. 2^17) so subnormals and overflow are hit.
      float magnitude = Math.scalb((float) random.nextDouble(1.0, 2.0), random.nextInt(-26, 18));
      float f = random.nextBoolean() ? -magnitude : magnitude;
      short h = Half.fromFloat(f);
      float got = Half.toFloat(h);
      if (Math.abs(f) >= 65520f) {
        assertEquals(Math.copySign(Float.POSITIVE_INFINITY, f), got, 0f);
        continue;
      }
      double error = Math.abs((double) got - f);
      for (int neighbour : new int[] {(h & 0x7fff) - 1, (h & 0x7fff) + 1}) {
        if (neighbour < 0 || neighbour >= 0x7c00) {
          continue;
        }
        double other = Half.toFloat((short) ((h & 0x8000) | neighbour));
        assertTrue(error <= Math.abs(other - f), () -> f + " -> " + got + " but " + other + " is nearer");
      }
    }
  }

  @Test
  void fromDoubleRoundsOnceNotTwice() {
    // Just below the midpoint of 0x3c01 and 0x3c02: via (float) it would become the midpoint and
    // then tie to even (0x3c02).
    assertHalf(0x3c01, Half.fromDouble(1 + 3 * 0x1p-11 - 0x1p-40));
    assertHalf(0x3c02, Half.fromDouble(1 + 3 * 0x1p-11));
    assertHalf(0x7bff, Half.fromDouble(65520 - 0x1p-30));
    assertHalf(0x7c00, Half.fromDouble(65520));
    assertHalf(0x7c00, Half.fromDouble(1e300));
    assertHalf(0x0000, Half.fromDouble(1e-300));
    assertHalf(0x8000, Half.fromDouble(-1e-300));
    assertHalf(0x0001, Half.fromDouble(0x1p-25 + 0x1p-60));
    assertTrue(Float.isNaN(Half.toFloat(Half.fromDouble(Double.NaN))));

    SplittableRandom random = new SplittableRandom(53);
    for (int i = 0; i < 1_000_000; i++) {
      double magnitude = Math.scalb(random.nextDouble(1.0, 2.0), random.nextInt(-26, 16));
      double d = random.nextBoolean() ? -magnitude : magnitude;
      short h = Half.fromDouble(d);
      if (Math.abs(d) >= 65520) {
        assertEquals(Math.copySign(Float.POSITIVE_INFINITY, d), Half.toFloat(h), 0f);
        continue;
      }
      BigDecimal exact = new BigDecimal(d);
      BigDecimal error = new BigDecimal(Half.toFloat(h)).subtract(exact).abs();
      for (int neighbour : new int[] {(h & 0x7fff) - 1, (h & 0x7fff) + 1}) {
        if (neighbour < 0 || neighbour >= 0x7c00) {
          continue;
        }
        BigDecimal other = new BigDecimal(Half.toFloat((short) ((h & 0x8000) | neighbour))).subtract(exact).abs();
        int cmp = error.compareTo(other);
        assertTrue(cmp < 0 || (cmp == 0 && (h & 1) == 0), () -> d + " -> 0x" + Integer.toHexString(h & 0xffff));
      }
    }
  }

  @Test
  void knownValues() {
    assertHalf(0x3c00, Half.fromFloat(1.0f));
    assertHalf(0xc000, Half.fromFloat(-2.0f));
    assertHalf(0x3555, Half.fromFloat(1f / 3));
    assertHalf(0x2e66, Half.fromFloat(0.1f));
    assertHalf(0x7bff, Half.fromFloat(65504f));
    assertHalf(0x7bff, Half.fromFloat(65519.996f));
    assertHalf(0x7c00, Half.fromFloat(65520f));
    assertHalf(0xfc00, Half.fromFloat(-1e6f));
    assertHalf(0x0400, Half.fromFloat(0x1p-14f));
    assertHalf(0x03ff, Half.fromFloat(0x1.ff8p-15f));
    assertHalf(0x0001, Half.fromFloat(0x1p-24f));
    assertHalf(0x0000, Half.fromFloat(0x1p-25f));
    assertHalf(0x0001, Half.fromFloat(Math.nextUp(0x1p-25f)));
    assertHalf(0x0002, Half.fromFloat(0x1.4p-23f));
    assertHalf(0x0004, Half.fromFloat(0x1.cp-23f));
    assertHalf(0x3c00, Half.fromFloat(1f + 0x1p-11f));
    assertHalf(0x3c02, Half.fromFloat(1f + 3 * 0x1p-11f));
    assertHalf(0x0000, Half.fromFloat(0f));
    assertHalf(0x8000, Half.fromFloat(-0f));
    assertHalf(0x8000, Half.fromFloat(-Float.MIN_VALUE));
    assertHalf(0x7c00, Half.fromFloat(Float.POSITIVE_INFINITY));
    assertHalf(0xfc00, Half.fromFloat(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(Half.toFloat(Half.fromFloat(Float.NaN))));
    // A float NaN whose payload lies only in bits a half cannot hold must stay a NaN.
    assertTrue(Float.isNaN(Half.toFloat(Half.fromFloat(Float.intBitsToFloat(0x7f800001)))));

    assertEquals(65504f, Half.toFloat((short) 0x7bff));
    assertEquals(0x1p-24f, Half.toFloat((short) 0x0001));
    assertEquals(-0f, Half.toFloat((short) 0x8000));
    assertEquals(Float.NEGATIVE_INFINITY, Half.toFloat((short) 0xfc00));
  }

  private static float towardZero(float f) {
    return f > 0 ? Math.nextDown(f) : Math.nextUp(f);
  }

  private static float awayFromZero(float f) {
    return f > 0 ? Math.nextUp(f) : Math.nextDown(f);
  }

  private static void assertHalf(int expected, short actual) {
    assertEquals(
        (short) expected,
        actual,
        () -> "expected 0x" + Integer.toHexString(expected) + " got 0x" + Integer.toHexString(actual & 0xffff));
  }
}
