package io.inferium.functions.tensor;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What one leaf of a V2 {@code data} array means for a datatype, in both directions. The rules are
 * documented on {@link V2Json}; every error names the input and the flat element index.
 */
final class JsonElements {

  static final String NAN = "NaN";
  static final String INFINITY = "Infinity";
  static final String NEGATIVE_INFINITY = "-Infinity";

  /** Above this a double no longer holds every integer, so "1.0E17" may not be what was meant. */
  private static final double EXACT_DOUBLE_LIMIT = 0x1p53;
  private static final int DESCRIBE_LIMIT = 40;

  private JsonElements() {}

  static boolean bool(String input, int index, Object v) {
    if (v instanceof Boolean b) {
      return b;
    }
    // Big numbers are excluded: 1.00000000000000000001 would pass as 1 once narrowed to double.
    if (v instanceof Number n && !(v instanceof BigInteger) && !(v instanceof BigDecimal)) {
      double d = n.doubleValue();
      if (d == 0 || d == 1) {
        return d == 1;
      }
    }
    throw invalid(input, DataType.BOOL, index, "true or false (or 0 or 1)", v);
  }

  /** An integer element as its two's-complement bits (a UINT64 above 2^63-1 comes back negative). */
  static long integer(String input, DataType type, int index, Object v) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      long value = ((Number) v).longValue();
      if (inRange(type, value)) {
        return value;
      }
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isFinite(d) && d == Math.rint(d)) {
        if (Math.abs(d) > EXACT_DOUBLE_LIMIT) {
          throw invalid(input, type, index, "an integer in " + range(type)
              + " (write integers above 2^53 without a fraction or exponent)", v);
        }
        if (inRange(type, (long) d)) {
          return (long) d;
        }
      }
    } else if (v instanceof BigInteger || v instanceof BigDecimal) {
      BigInteger big = exactInteger((Number) v);
      if (big != null && type == DataType.UINT64 && big.signum() >= 0 && big.bitLength() <= 64) {
        return big.longValue();
      }
      if (big != null && big.bitLength() < 64 && inRange(type, big.longValue())) {
        return big.longValue();
      }
    }
    throw invalid(input, type, index, "an integer in " + range(type), v);
  }

  /** A floating-point element; JSON has no NaN or infinities, so those arrive as strings. */
  static double real(String input, DataType type, int index, Object v) {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof String s) {
      switch (s.toLowerCase(Locale.ROOT)) {
        case "nan":
          return Double.NaN;
        case "inf", "+inf", "infinity", "+infinity":
          return Double.POSITIVE_INFINITY;
        case "-inf", "-infinity":
          return Double.NEGATIVE_INFINITY;
        default:
          break;
      }
    }
    throw invalid(input, type, index,
        "a number or one of \"" + NAN + "\", \"" + INFINITY + "\", \"" + NEGATIVE_INFINITY + "\"", v);
  }

  static byte[] utf8(String input, int index, Object v) {
    if (v instanceof String s) {
      return s.getBytes(StandardCharsets.UTF_8);
    }
    throw invalid(input, DataType.BYTES, index, "a string", v);
  }

  /** A float for the JSON writer: finite values as {@link Float} so they print in shortest form. */
  static Object json(float f) {
    return Float.isFinite(f) ? (Object) f : nonFinite(f);
  }

  static Object json(double d) {
    return Double.isFinite(d) ? (Object) d : nonFinite(d);
  }

  /** UINT64 bits as a JSON number: above 2^63-1 the signed long would print negative. */
  static Object unsigned64(long bits) {
    return bits >= 0 ? (Object) bits : new BigInteger(Long.toUnsignedString(bits));
  }

  /** A short rendering of a JSON value for error messages. */
  static String describe(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof JsonArray) {
      return "an array";
    }
    if (v instanceof JsonObject) {
      return "an object";
    }
    String text = v instanceof String ? Json.encode(v) : v.toString();
    return text.length() <= DESCRIBE_LIMIT ? text : text.substring(0, DESCRIBE_LIMIT) + "...";
  }

  private static String nonFinite(double d) {
    if (Double.isNaN(d)) {
      return NAN;
    }
    return d > 0 ? INFINITY : NEGATIVE_INFINITY;
  }

  private static BigInteger exactInteger(Number n) {
    if (n instanceof BigInteger big) {
      return big;
    }
    try {
      return ((BigDecimal) n).toBigIntegerExact();
    } catch (ArithmeticException fractional) {
      return null;
    }
  }

  private static boolean inRange(DataType type, long v) {
    return switch (type) {
      case UINT8 -> v >= 0 && v <= 0xff;
      case UINT16 -> v >= 0 && v <= 0xffff;
      case UINT32 -> v >= 0 && v <= 0xffff_ffffL;
      case UINT64 -> v >= 0;
      case INT8 -> v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
      case INT16 -> v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
      case INT32 -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
      case INT64 -> true;
      default -> throw new IllegalArgumentException(type + " is not an integer type");
    };
  }

  private static String range(DataType type) {
    return switch (type) {
      case UINT8 -> "0..255";
      case UINT16 -> "0..65535";
      case UINT32 -> "0..4294967295";
      case UINT64 -> "0..18446744073709551615";
      case INT8 -> "-128..127";
      case INT16 -> "-32768..32767";
      case INT32 -> "-2147483648..2147483647";
      case INT64 -> "-9223372036854775808..9223372036854775807";
      default -> throw new IllegalArgumentException(type + " is not an integer type");
    };
  }

  private static TensorFormatException invalid(
      String input, DataType type, int index, String expected, Object got) {
    return new TensorFormatException("input '" + input + "': element " + index + " of " + type
        + " must be " + expected + ", got " + describe(got));
  }
}
