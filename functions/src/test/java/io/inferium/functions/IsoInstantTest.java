package io.inferium.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The completion event's fast timestamp against the JDK's own, which it must match exactly. */
class IsoInstantTest {

  @Test
  void writesAndReadsExactlyAsTheJdkDoes() {
    SplittableRandom random = new SplittableRandom(11);
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    for (int i = 0; i < 20_000; i++) {
      long seconds = random.nextLong(0, max + 1);
      int nanos = switch (i % 4) {
        case 0 -> 0;
        case 1 -> random.nextInt(1000) * 1_000_000;
        case 2 -> random.nextInt(1_000_000) * 1_000;
        default -> random.nextInt(1_000_000_000);
      };
      Instant at = Instant.ofEpochSecond(seconds, nanos);
      String text = IsoInstant.format(at);
      assertEquals(at.toString(), text);
      assertEquals(at, IsoInstant.parse(text), text);
    }
    for (Instant at : List.of(Instant.EPOCH, Instant.parse("2024-02-29T23:59:59.999999999Z"), Instant.now(),
        Instant.ofEpochSecond(-1), Instant.parse("+10000-01-01T00:00:00Z"), Instant.MIN, Instant.MAX)) {
      assertEquals(at.toString(), IsoInstant.format(at));
      assertEquals(at, IsoInstant.parse(at.toString()));
    }
  }

  @Test
  void whatItDoesNotKnowTheJdkDecides() {
    // Other forms, odd dates and bad text: the same instant as the JDK reads, or the same exception.
    for (String text : List.of("2026-12-05T03:57:44.5Z", "2026-12-05T03:57:44.1234Z", "2016-12-31T23:59:60Z",
        "2026-12-05T24:00:00Z", "2026-12-05T03:57:44.Z", "2026-02-30T00:00:00Z", "2024-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-12-05T03:57:44.1234567890Z", "2026-12-05 03:57:44Z", "2026-12-0xT03:57:44Z",
        "2026-12-05T03:57:44", "2026-12-05T03:57:44+01:00", "")) {
      Instant jdk;
      try {
        jdk = Instant.parse(text);
      } catch (DateTimeParseException e) {
        assertThrows(DateTimeParseException.class, () -> IsoInstant.parse(text), text);
        continue;
      }
      assertEquals(jdk, IsoInstant.parse(text), text);
    }
    assertThrows(DateTimeParseException.class, () -> IsoInstant.parse("2026-02-30T00:00:00Z"));
  }
}
