package io.inferium.functions.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.fuzz.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzes the V2 JSON decoder and the binary tensor data extension: whatever the input, the decoder
 * returns a tensor whose bytes match its shape and datatype, or throws {@link TensorFormatException}
 * (a 400) — never another exception, never a tensor that claims more elements than it carries.
 */
class V2JsonFuzzTest {

  static final List<String> WORDS = List.of("name", "shape", "datatype", "data", "parameters", "binary_data_size",
      "x", "FP32", "FP16", "BF16", "FP64", "INT8", "INT64", "UINT64", "BOOL", "BYTES", "UINT8", "INT32");

  @Provide
  Arbitrary<JsonObject> inputs() {
    Arbitrary<Object> dim = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(0, 4)
        .map(i -> (Object) i)), net.jqwik.api.Tuple.of(1, Json.number()));
    Arbitrary<JsonArray> shape = dim.list().ofMaxSize(4).map(l -> new JsonArray(new java.util.ArrayList<>(l)));
    Arbitrary<Object> data = Json.value(WORDS, 3);
    Arbitrary<JsonObject> plausible = Combinators.combine(Arbitraries.of(WORDS), shape, data, Json.value(WORDS, 1))
        .as((type, s, d, params) -> {
          JsonObject o = new JsonObject().put("name", "x").put("datatype", type).put("shape", s).put("data", d);
          if (params instanceof JsonObject p) {
            o.put("parameters", p);
          }
          return o;
        });
    Arbitrary<JsonObject> valid = Arbitraries.of(
        new JsonObject().put("name", "x").put("datatype", "FP32").put("shape", new JsonArray().add(2).add(2))
            .put("data", new JsonArray().add(1).add(2.5).add(-3).add(4)),
        new JsonObject().put("name", "s").put("datatype", "BYTES").put("shape", new JsonArray().add(2))
            .put("data", new JsonArray().add("a").add("bc")));
    return Arbitraries.oneOf(plausible, Json.object(WORDS, Json.value(WORDS, 2)),
        valid.flatMap(v -> Json.mutated(v, WORDS)));
  }

  @Property(seed = "20261204")
  void decodeInputReturnsAConsistentTensorOrSaysWhy(@ForAll("inputs") JsonObject input) {
    try {
      consistent(V2Json.decodeInput(input));
    } catch (TensorFormatException expected) {
      // a clear 400
    }
  }

  @Provide
  Arbitrary<JsonObject> binaryInputs() {
    // Powers of two make products that wrap to exactly 0 (or another small size) in 64 bits.
    Arbitrary<Object> dim = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 8)
        .map(i -> (Object) i)), net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0, 63).map(k -> (Object) (1L << k))),
        net.jqwik.api.Tuple.of(1, Json.number()));
    Arbitrary<JsonArray> shape = dim.list().ofMaxSize(4).map(l -> new JsonArray(new java.util.ArrayList<>(l)));
    Arbitrary<Object> size = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 64)
        .map(i -> (Object) i)), net.jqwik.api.Tuple.of(2, Arbitraries.just((Object) 0)), net.jqwik.api.Tuple.of(1, Json.leaf(WORDS)));
    Arbitrary<JsonObject> random = Combinators.combine(Arbitraries.of(Arrays.stream(DataType.values()).map(DataType::v2Name)
            .toList()), shape, size)
        .as((type, s, n) -> new JsonObject().put("name", "x").put("datatype", type).put("shape", s)
            .put("parameters", new JsonObject().put("binary_data_size", n)));
    // Shapes whose byte count is 2^62..2^66 (a dictionary of the sizes where 64-bit arithmetic wraps),
    // split over one to three dimensions, claiming a binary part of 0 to 16 bytes.
    Arbitrary<JsonObject> wrapping = Combinators.combine(Arbitraries.of(DataType.FP16, DataType.FP32, DataType.FP64,
            DataType.INT64), Arbitraries.integers().between(62, 66), Arbitraries.integers().between(1, 3),
            Arbitraries.integers().between(0, 60), Arbitraries.of(0, 0, 4, 8, 16))
        .as((type, bits, rank, cut, n) -> {
          int elementBits = bits - Integer.numberOfTrailingZeros(type.byteSize());
          JsonArray dims = new JsonArray();
          int left = elementBits;
          for (int d = 1; d < rank; d++) {
            int take = Math.min(left, cut % 63);
            dims.add(1L << take);
            left -= take;
          }
          dims.add(left >= 63 ? Long.MAX_VALUE : 1L << left);
          return new JsonObject().put("name", "x").put("datatype", type.v2Name()).put("shape", dims)
              .put("parameters", new JsonObject().put("binary_data_size", n));
        });
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, random), net.jqwik.api.Tuple.of(1, wrapping));
  }

  @Property(seed = "20261204")
  void decodeBinaryInputReturnsAConsistentTensorOrSaysWhy(@ForAll("binaryInputs") JsonObject input,
      @ForAll @Size(max = 64) byte[] bytes) {
    ByteBuffer binary = ByteBuffer.wrap(bytes);
    try {
      Tensor t = V2Json.decodeBinaryInput(input, binary);
      consistent(t);
      assertTrue(binary.position() <= bytes.length);
    } catch (TensorFormatException expected) {
      // a clear 400
    }
  }

  /** The bug the fuzzer found: 2^62 FP32 elements are 2^64 bytes, which wrapped to 0 and matched an empty body. */
  @Example
  void aHugeShapeWhoseByteCountOverflowsIsRefused() {
    JsonObject input = new JsonObject().put("name", "x").put("datatype", "FP32")
        .put("shape", new JsonArray().add(1L << 60).add(4)).put("parameters", new JsonObject().put("binary_data_size", 0));
    TensorFormatException e = assertThrows(TensorFormatException.class,
        () -> V2Json.decodeBinaryInput(input, ByteBuffer.allocate(0)));
    assertTrue(e.getMessage().contains("more"), e.getMessage());
  }

  private static void consistent(Tensor t) {
    long count = t.elementCount();
    if (t.type().isFixedWidth()) {
      assertEquals(Math.multiplyExact(count, (long) t.type().byteSize()), t.byteSize(),
          "bytes of " + t.type() + Arrays.toString(t.shape()));
    } else {
      assertEquals(count, Tensors.toStrings(t).length);
    }
  }
}
