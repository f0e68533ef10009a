package io.inferium.functions;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * {@link Instant#toString()} and {@link Instant#parse} for the one form every completion event's {@code time} has
 * ({@code 2026-12-05T03:57:44.952618626Z}: years 0000-9999, UTC, a fraction of 0, 3, 6 or 9 digits), written and read
 * without the JDK's general formatter: {@code Instant.parse} was over half of reading a completion event and
 * {@code Instant.toString} a third of writing one (JFR, {@code add} at 32 connections). Anything else goes through
 * the JDK, so results are always exactly the JDK's.
 */
final class IsoInstant {

  /** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years written with four digits and no sign. */
  private static final long FIRST_SECOND = -62_167_219_200L;
  private static final long LAST_SECOND = 253_402_300_799L;

  private IsoInstant() {
  }

  /** Exactly {@code at.toString()}. */
  static String format(Instant at) {
    long seconds = at.getEpochSecond();
    int nanos = at.getNano();
    if (seconds < FIRST_SECOND || seconds > LAST_SECOND) {
      return at.toString();
    }
    LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
    int year = t.getYear();
    StringBuilder b = new StringBuilder(30);
    pad(b, year, 4).append('-');
    pad(b, t.getMonthValue(), 2).append('-');
    pad(b, t.getDayOfMonth(), 2).append('T');
    pad(b, t.getHour(), 2).append(':');
    pad(b, t.getMinute(), 2).append(':');
    pad(b, t.getSecond(), 2);
    if (nanos != 0) {
      b.append('.');
      if (nanos % 1_000_000 == 0) {
        pad(b, nanos / 1_000_000, 3);
      } else if (nanos % 1_000 == 0) {
        pad(b, nanos / 1_000, 6);
      } else {
        pad(b, nanos, 9);
      }
    }
    return b.append('Z').toString();
  }

  private static StringBuilder pad(StringBuilder b, int value, int digits) {
    for (int d = digits - 1, p = pow10(d); d >= 0; d--, p /= 10) {
      b.append((char) ('0' + value / p % 10));
    }
    return b;
  }

  private static int pow10(int n) {
    int p = 1;
    for (int i = 0; i < n; i++) {
      p *= 10;
    }
    return p;
  }

  /** Exactly {@code Instant.parse(text)} (the same value, or the same exception type for bad text). */
  static Instant parse(String text) {
    int n = text.length();
    // yyyy-MM-ddTHH:mm:ss then Z, or a dot, 1-9 digits and Z.
    if (n < 20 || text.charAt(4) != '-' || text.charAt(7) != '-' || text.charAt(10) != 'T' || text.charAt(13) != ':'
        || text.charAt(16) != ':' || text.charAt(n - 1) != 'Z') {
      return Instant.parse(text);
    }
    int year = digits(text, 0, 4);
    int month = digits(text, 5, 7);
    int day = digits(text, 8, 10);
    int hour = digits(text, 11, 13);
    int minute = digits(text, 14, 16);
    int second = digits(text, 17, 19);
    int nanos = 0;
    if (n > 20) {
      int fraction = n - 21;
      if (text.charAt(19) != '.' || fraction < 1 || fraction > 9) {
        return Instant.parse(text);
      }
      int f = digits(text, 20, n - 1);
      nanos = f < 0 ? -1 : f * pow10(9 - fraction);
    } else if (text.charAt(19) != 'Z') {
      return Instant.parse(text);
    }
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59
        || second < 0 || second > 59 || nanos < 0) {
      // Out of range, not digits, or a leap second (which the JDK's parser accepts and smooths): the JDK decides.
      return Instant.parse(text);
    }
    if (day > 28 && day > LocalDate.of(year, month, 1).lengthOfMonth()) {
      return Instant.parse(text);
    }
    long epochDay = LocalDate.of(year, month, day).toEpochDay();
    return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
  }

  /** The decimal value of {@code text[from, to)}, or -1 when a character is not an ASCII digit. */
  private static int digits(String text, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }
}
