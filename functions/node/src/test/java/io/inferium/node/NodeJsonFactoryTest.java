package io.inferium.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.json.jackson.JacksonFactory;
import io.vertx.core.spi.JsonFactory;
import io.vertx.core.spi.json.JsonCodec;
import java.time.Instant;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** A node's JSON goes through plain Jackson, without databind; any other JVM keeps Vert.x's own codec. */
class NodeJsonFactoryTest {

  private static JsonCodec codec(boolean node) {
    try {
      if (node) {
        System.setProperty(NodeLogging.NODE_PROPERTY, "true");
      }
      return new NodeJsonFactory().codec();
    } finally {
      System.clearProperty(NodeLogging.NODE_PROPERTY);
    }
  }

  @Test
  void vertxFindsItAndANodeGetsThePlainCodec() {
    assertTrue(ServiceLoader.load(JsonFactory.class).stream().anyMatch(p -> p.type() == NodeJsonFactory.class));
    JsonCodec node = codec(true);
    assertSame(JacksonCodec.class, node.getClass(), "not the databind codec");
    assertSame(JacksonFactory.CODEC, codec(false));
    assertInstanceOf(DatabindCodec.class, codec(false), "jackson-databind is on this class path");
  }

  /** What a node writes, read back through the plain codec: every JSON type and the non-JSON ones Vert.x allows. */
  @Test
  @SuppressWarnings("unchecked")
  void frameMetadataRoundTripsThroughThePlainCodec() {
    JsonCodec plain = codec(true);
    JsonObject meta = new JsonObject().put("worker_id", "w1").put("n", 3).put("big", Long.MAX_VALUE).put("x", 0.25)
        .put("ok", true).put("none", (Object) null).put("list", new JsonArray().add(1).add("two").add(new JsonObject()))
        .put("when", Instant.parse("2026-12-05T22:00:00Z")).put("bytes", new byte[] {1, 2, 3}).put("u", "é\u0000𝄞");
    String text = plain.toString(meta, false);
    assertEquals(new DatabindCodec().toString(meta, false), text, "the same text as the databind codec");
    JsonObject back = new JsonObject((java.util.Map<String, Object>) plain.fromString(text, java.util.Map.class));
    assertEquals(meta.getString("u"), back.getString("u"));
    assertArrayEquals(new byte[] {1, 2, 3}, back.getBinary("bytes"));
    assertEquals(Instant.parse("2026-12-05T22:00:00Z"), back.getInstant("when"));
    assertEquals(Long.MAX_VALUE, back.getLong("big"));
    assertEquals(new JsonArray().add(1).add("two").add(new JsonObject()), back.getJsonArray("list"));
  }
}
