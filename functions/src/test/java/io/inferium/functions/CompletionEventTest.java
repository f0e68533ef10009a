package io.inferium.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompletionEventTest {

  private static CompletionEvent sample() {
    return CompletionEvent.builder("req-1", "f", 3, "dev", "ab12").at(Instant.parse("2026-12-04T10:00:00Z"))
        .tenant("acme").endpoint("v2.infer", "request").inputSha256("11").outputSha256("22").worker("w-1")
        .evidence(new JsonObject().put("node_ids", List.of("n-1"))).verdict("agree", 0.999).charge(1, 1500, 120)
        .timings(240, 1830, 2650).detail("batch_rows", 4).build();
  }

  @Test
  void itsJsonReadsBackToTheSameEventWithItsSchemaVersion() {
    CompletionEvent e = sample();
    JsonObject json = e.toJson();
    assertEquals("io.inferium.completion", json.getString("type"));
    assertEquals("req-1", json.getString("id"));
    assertEquals(CompletionEvent.SCHEMA_VERSION, json.getJsonObject("data").getInteger("schema_version"));
    assertEquals(2, CompletionEvent.schemaVersion(json));
    CompletionEvent back = CompletionEvent.fromJson(new JsonObject(json.encode()));
    assertEquals(e.toJson(), back.toJson());
    assertEquals(List.of("w-1"), back.workers());
    assertEquals(List.of("w-1"), back.evidence().getJsonArray("workers").getList());
    assertEquals("n-1", back.evidence().getJsonArray("node_ids").getString(0));
    assertEquals(new CompletionEvent.Timings(240, 1830, 2650), back.timings());
  }

  @Test
  void itsBytesAreItsJsonByteForByteWithNullsAndEscapes() {
    CompletionEvent e = sample();
    assertEquals(e.toJson().encode(), e.toBuffer().toString());
    // Nulls where nothing was set, characters that need escaping in names and details, no similarity.
    CompletionEvent sparse = CompletionEvent.builder("r\"2", "f\u00e9\n", 1, null, null).endpoint("embeddings", "text")
        .at(Instant.parse("2026-12-04T10:00:00.123456Z")).detail("note", "tab\there \u2028 \uD83D\uDE00")
        .detail("nested", new JsonObject().put("a", List.of(1, 2.5, true))).build();
    assertEquals(sparse.toJson().encode(), sparse.toBuffer().toString());
    assertEquals(sparse.toJson(), CompletionEvent.fromJson(new JsonObject(sparse.toBuffer())).toJson());
  }

  @Test
  void unversionedAndNewerEventsAreToldApartFromDamage() {
    JsonObject legacy = new JsonObject().put("type", CompletionEvent.TYPE).put("id", "x")
        .put("data", new JsonObject().put("function", "f"));
    assertEquals(1, CompletionEvent.schemaVersion(legacy));
    assertThrows(IllegalArgumentException.class, () -> CompletionEvent.fromJson(legacy));
    JsonObject newer = sample().toJson();
    newer.getJsonObject("data").put("schema_version", 3);
    assertEquals(3, CompletionEvent.schemaVersion(newer));
    assertThrows(IllegalArgumentException.class, () -> CompletionEvent.fromJson(newer));
    assertThrows(IllegalArgumentException.class, () -> CompletionEvent.schemaVersion(new JsonObject().put("type", "io.inferium.usage")));
    JsonObject bad = sample().toJson();
    bad.getJsonObject("data").put("schema_version", "two");
    assertThrows(IllegalArgumentException.class, () -> CompletionEvent.schemaVersion(bad));
  }

  @Test
  void anUnverifiedCallHasNoSimilarityAndNegativeChargesAreRefused() {
    CompletionEvent e = CompletionEvent.builder("r", "f", 1, null, null).endpoint("embeddings", "text")
        .verdict(null, 0.5).build();
    assertNull(e.similarity());
    assertEquals(List.of(), e.workers());
    assertThrows(IllegalArgumentException.class, () -> CompletionEvent.builder("r", "f", 1, null, null)
        .endpoint("embeddings", "text").charge(1, 0, -5).build());
  }

  @Test
  void digestsDependOnEveryPartOfTheContent() {
    Tensor a = new Tensor("x", DataType.FP32, new long[] {1, 2}, ByteBuffer.wrap(new byte[8]));
    Tensor reshaped = new Tensor("x", DataType.FP32, new long[] {2, 1}, ByteBuffer.wrap(new byte[8]));
    Tensor renamed = new Tensor("y", DataType.FP32, new long[] {1, 2}, ByteBuffer.wrap(new byte[8]));
    assertEquals(ContentDigest.tensors(List.of(a)), ContentDigest.tensors(List.of(a)));
    assertEquals(64, ContentDigest.tensors(List.of(a)).length());
    assertNotEquals(ContentDigest.tensors(List.of(a)), ContentDigest.tensors(List.of(reshaped)));
    assertNotEquals(ContentDigest.tensors(List.of(a)), ContentDigest.tensors(List.of(renamed)));
    // Length prefixes: moving a boundary between parts changes the digest.
    assertNotEquals(ContentDigest.text(List.of("ab", "c")), ContentDigest.text(List.of("a", "bc")));
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ContentDigest.text(List.of()),
        "nothing hashed is SHA-256 of nothing");
  }
}
