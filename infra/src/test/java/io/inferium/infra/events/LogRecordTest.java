package io.inferium.infra.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A record's value decoded once for every consumer group that reads the same record. */
class LogRecordTest {

  record Decoded(String id) {}

  @Test
  void aValueIsDecodedOnceForEveryReaderAndAFailedDecodeLeavesNothing() {
    LogRecord r = new LogRecord("t", 0, 7, "k", new JsonObject().put("id", "a"));
    AtomicInteger decodes = new AtomicInteger();
    Decoded first = r.decoded(Decoded.class, v -> new Decoded(v.getString("id") + decodes.incrementAndGet()));
    Decoded second = r.decoded(Decoded.class, v -> new Decoded(v.getString("id") + decodes.incrementAndGet()));
    assertSame(first, second);
    assertEquals(1, decodes.get());
    // Another type decodes again (and is what the record holds from then on).
    assertEquals("A", r.decoded(String.class, v -> v.getString("id").toUpperCase()));
    LogRecord bad = new LogRecord("t", 0, 8, "k", new JsonObject());
    for (int i = 0; i < 2; i++) {
      assertThrows(IllegalArgumentException.class, () -> bad.decoded(Decoded.class, v -> {
        throw new IllegalArgumentException("no id");
      }));
    }
    assertEquals(new LogRecord("t", 0, 7, "k", new JsonObject().put("id", "a")), r, "equality by the fields, as a record");
  }
}
