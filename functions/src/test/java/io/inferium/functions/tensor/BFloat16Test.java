package io.inferium.functions.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BFloat16Test {

  @Test
  void everyBFloat16SurvivesARoundTripThroughFloat() {
    for (int bits = 0; bits <= 0xffff; bits++) {
      short b = (short) bits;
      assertEquals(b, BFloat16.fromFloat(BFloat16.toFloat(b)), "0x" + Integer.toHexString(bits));
    }
  }

  @Test
  void midpointsRoundToEven() {
    for (int high16 = 0; high16 < 0x7f80; high16++) {
      int low = high16 << 16;
      float mid = Float.intBitsToFloat(low | 0x8000);
      int even = (high16 & 1) == 0 ? high16 : high16 + 1;
      assertEquals((short) even, BFloat16.fromFloat(mid));
      assertEquals((short) high16, BFloat16.fromFloat(Float.intBitsToFloat(low | 0x7fff)));
      assertEquals((short) (high16 + 1), BFloat16.fromFloat(Float.intBitsToFloat(low | 0x8001)));
      assertEquals((short) (0x8000 | even), BFloat16.fromFloat(-mid));
    }
  }

  @Test
  void fromDoubleRoundsOnceNotTwice() {
    // Just below the midpoint of 0x3f81 and 0x3f82; via (float) it would tie to even, 0x3f82.
    assertEquals((short) 0x3f81, BFloat16.fromDouble(1 + 3 * 0x1p-8 - 0x1p-40));
    assertEquals((short) 0x3f82, BFloat16.fromDouble(1 + 3 * 0x1p-8));
    assertEquals((short) 0x7f80, BFloat16.fromDouble(1e300));
    assertEquals((short) 0x7f80, BFloat16.fromDouble(Float.MAX_VALUE));
    assertEquals((short) 0x7f7f, BFloat16.fromDouble(0x1.fep127 + 0x1p100));
    assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromDouble(Double.NaN))));
  }

  @Test
  void knownValues() {
    assertEquals((short) 0x3f80, BFloat16.fromFloat(1.0f));
    assertEquals((short) 0x4049, BFloat16.fromFloat((float) Math.PI));
    assertEquals((short) 0xc000, BFloat16.fromFloat(-2.0f));
    assertEquals((short) 0x8000, BFloat16.fromFloat(-0f));
    assertEquals((short) 0x7f80, BFloat16.fromFloat(Float.MAX_VALUE));
    assertEquals((short) 0x7f7f, BFloat16.fromFloat(Float.intBitsToFloat(0x7f7f7fff)));
    assertEquals((short) 0xff80, BFloat16.fromFloat(Float.NEGATIVE_INFINITY));
    assertEquals(3.140625f, BFloat16.toFloat((short) 0x4049));
    assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromFloat(Float.NaN))));
    assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromFloat(Float.intBitsToFloat(0x7f800001)))));
    assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromFloat(Float.intBitsToFloat(0xffffffff)))));
  }
}
