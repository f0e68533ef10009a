package io.inferium.chain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.CompletionEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.web3j.utils.Numeric;

class ReceiptTest {

  private static final String MODEL = "ab".repeat(32);
  private static final String INPUT = "01".repeat(32);
  private static final Instant AT = Instant.parse("2025-12-05T02:00:00.123456789Z");

  /**
   * The leaf OpenZeppelin's JS library computes for the same values: {@code StandardMerkleTree.of([v], LEAF_TYPES)
   * .leafHash(v)} with {@code @openzeppelin/merkle-tree} 1.0.8, v = [1, "req-7", "résumé-fn", 3, 0xabab…, 0x0101…,
   * 0x00…, ["w-1","w-2"], keccak256(evidence JSON), "agree", 12, 100, 1764900000123456].
   */
  @Test
  void leafMatchesOpenZeppelinsJavaScriptLeafHash() {
    Receipt receipt = new Receipt("req-7", "résumé-fn", 3, MODEL, INPUT, null, List.of("w-1", "w-2"),
        "{\"signatures\":[\"c2ln\"],\"workers\":[\"w-1\",\"w-2\"]}", "agree", 12, 100,
        Instant.EPOCH.plusNanos(1_764_900_000_123_456_000L));
    assertEquals("0xb77e759a38142bb81c807c7e15126f0a0dc212f31fb9bfdf3a1371f9cf80e6f9", Numeric.toHexString(receipt.leaf()));
  }

  /** The hand-written ABI encoding is byte for byte web3j's general one, for every shape the tuple takes. */
  @Test
  void abiEncodingIsWeb3jsForEveryShape() {
    java.util.Random random = new java.util.Random(13);
    List<String> texts = List.of("", "a", "x".repeat(31), "y".repeat(32), "z".repeat(33), "résumé-ünïcode-✓", "w".repeat(200));
    for (int i = 0; i < 300; i++) {
      List<String> nodes = new java.util.ArrayList<>();
      for (int n = random.nextInt(4); n > 0; n--) {
        nodes.add(texts.get(random.nextInt(texts.size())));
      }
      Receipt r = new Receipt("req-" + texts.get(random.nextInt(texts.size())), texts.get(random.nextInt(texts.size())),
          random.nextInt(Integer.MAX_VALUE), random.nextBoolean() ? null : MODEL, random.nextBoolean() ? null : INPUT,
          random.nextBoolean() ? null : "ff".repeat(32), nodes, random.nextBoolean() ? "{}" : "{\"s\":\"" + texts.get(i % 7) + "\"}",
          random.nextBoolean() ? null : texts.get(random.nextInt(texts.size())), random.nextLong() & Long.MAX_VALUE,
          random.nextInt(1_000_000), Instant.EPOCH.plusNanos((random.nextLong() & 0xffff_ffff_ffffL) * 1000));
      byte[] web3j = Numeric.hexStringToByteArray(org.web3j.abi.FunctionEncoder.encodeConstructor(r.abiValues()));
      assertArrayEquals(web3j, r.abiEncoded(), "receipt " + i + ": " + r);
      assertArrayEquals(io.inferium.chain.merkle.MerkleTree.leafHash(r.abiValues()), r.leaf(), "receipt " + i);
    }
  }

  @Test
  void builtFromTheCompletionEventWithCanonicalEvidence() {
    Receipt receipt = Receipt.of(event(new JsonObject().put("workers", new JsonArray().add("w-1")).put("seal",
        new JsonObject().put("sig", "AA==").put("root", "ff"))));
    assertEquals("req-1", receipt.requestId());
    assertEquals("embed", receipt.function());
    assertEquals(2, receipt.version());
    assertEquals(MODEL, receipt.modelSha256());
    assertEquals(List.of("w-1"), receipt.nodes());
    assertEquals("{\"seal\":{\"root\":\"ff\",\"sig\":\"AA==\"},\"workers\":[\"w-1\"]}", receipt.evidenceJson());
    assertEquals("agree", receipt.verdict());
    assertEquals(250, receipt.chargeMicroUsd());
    assertEquals(AT.getEpochSecond() * 1_000_000 + 123_456, receipt.answeredAtMicros());

    Receipt reordered = Receipt.of(event(new JsonObject().put("seal", new JsonObject().put("root", "ff").put("sig", "AA=="))
        .put("workers", new JsonArray().add("w-1"))));
    assertArrayEquals(receipt.leaf(), reordered.leaf(), "key order does not change the leaf");
  }

  @Test
  void jsonRoundTripKeepsTheLeafAndAnyChangedFieldChangesIt() {
    Receipt receipt = Receipt.of(event(new JsonObject().put("workers", new JsonArray().add("w-1")).put("sig", "AA==")));
    JsonObject json = receipt.toJson();
    assertEquals(Numeric.toHexString(receipt.leaf()), json.getString("leaf"));
    assertArrayEquals(receipt.leaf(), Receipt.fromJson(new JsonObject(json.encode())).leaf());

    List<JsonObject> tampered = List.of(
        json.copy().put("request_id", "req-2"), json.copy().put("function", "embed2"), json.copy().put("version", 3),
        json.copy().put("model_sha256", "cd".repeat(32)), json.copy().put("input_sha256", "02".repeat(32)),
        json.copy().put("output_sha256", null), json.copy().put("nodes", new JsonArray().add("w-2")),
        json.copy().put("evidence_json", "{\"sig\":\"AB==\",\"workers\":[\"w-1\"]}"),
        json.copy().put("verdict", "disagree"), json.copy().put("units", 2), json.copy().put("charge_micro_usd", 251),
        json.copy().put("answered_at_us", json.getLong("answered_at_us") + 1));
    for (JsonObject changed : tampered) {
      assertFalse(Arrays.equals(receipt.leaf(), Receipt.fromJson(changed).leaf()), "changed: " + changed);
    }
  }

  @Test
  void badFieldsAreRefusedByName() {
    IllegalArgumentException shortDigest = assertThrows(IllegalArgumentException.class, () -> new Receipt("r", "f", 1,
        "abc", null, null, List.of(), "{}", null, 1, 1, AT));
    assertTrue(shortDigest.getMessage().contains("modelSha256"), shortDigest.getMessage());
    IllegalArgumentException notHex = assertThrows(IllegalArgumentException.class, () -> new Receipt("r", "f", 1,
        null, "zz".repeat(32), null, List.of(), "{}", null, 1, 1, AT));
    assertTrue(notHex.getMessage().contains("inputSha256"), notHex.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Receipt("r", "f", 1, null, null, null, List.of(), "{}", null,
        1, -1, AT));
    IllegalArgumentException future = assertThrows(IllegalArgumentException.class,
        () -> Receipt.fromJson(new JsonObject().put("format", 2)));
    assertTrue(future.getMessage().contains("format"), future.getMessage());
  }

  @Test
  void aHostileReceiptFileIsRefusedNamingTheField() {
    JsonObject good = Receipt.of(event(new JsonObject())).toJson();
    assertArrayEquals(Receipt.of(event(new JsonObject())).leaf(), Receipt.fromJson(good).leaf());
    List<Object[]> bad = List.of(
        new Object[] {"format", "1"}, new Object[] {"request_id", null}, new Object[] {"request_id", 5},
        new Object[] {"function", new JsonObject()}, new Object[] {"version", -1}, new Object[] {"version", 1L << 40},
        new Object[] {"version", 1.5}, new Object[] {"units", "7"}, new Object[] {"charge_micro_usd", -3},
        new Object[] {"answered_at_us", -1}, new Object[] {"answered_at_us", null}, new Object[] {"nodes", "w-1"},
        new Object[] {"nodes", new JsonArray().add(1)}, new Object[] {"model_sha256", "ab"},
        new Object[] {"output_sha256", 12}, new Object[] {"evidence_json", null}, new Object[] {"verdict", true});
    for (Object[] field : bad) {
      JsonObject hostile = good.copy().put((String) field[0], field[1]);
      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> Receipt.fromJson(hostile),
          field[0] + " = " + field[1]);
      String name = (String) field[0];
      assertTrue(refused.getMessage().contains(name) || refused.getMessage().contains(camel(name)),
          field[0] + ": " + refused.getMessage());
    }
  }

  private static String camel(String snake) {
    StringBuilder out = new StringBuilder();
    boolean up = false;
    for (char c : snake.toCharArray()) {
      if (c == '_') {
        up = true;
      } else {
        out.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return out.toString();
  }

  private static CompletionEvent event(JsonObject evidence) {
    return CompletionEvent.builder("req-1", "embed", 2, "acme", MODEL).at(AT).tenant("t-1")
        .endpoint("embeddings", "text").inputSha256(INPUT).outputSha256("02".repeat(32)).worker("w-1")
        .evidence(evidence).verdict("agree", 0.999).charge(1, 1830, 250).build();
  }
}
