package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.InvalidSpecException;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.TensorFormatException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
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
 * Fuzzes the V2 infer body with the binary tensor data extension: mutated JSON headers, header
 * lengths and binary tails parse to a request whose tensors match their shapes, or fail with a 400
 * ({@link ApiError}, {@link TensorFormatException}, {@link InvalidSpecException}) — nothing else.
 */
class InferRequestFuzzTest {

  private static final ModelSignature SIG = new ModelSignature(
      List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 4}), new TensorSpec("s", DataType.BYTES, new long[] {-1})),
      List.of(new TensorSpec("y", DataType.FP32, new long[] {-1})));

  private static final List<Object> ODD = List.of(0, 1, 2, 4, 16, -1, 1L << 31, 1L << 60, Long.MAX_VALUE, 0.5, "4", "x", "s",
      "FP32", "BYTES", "INT64", true, new JsonObject(), new JsonArray());

  @Provide
  Arbitrary<JsonObject> headers() {
    Arbitrary<Object> odd = Arbitraries.of(ODD);
    Arbitrary<Object> dim = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, Arbitraries.of(1, 2, 4).map(i -> (Object) i)),
        net.jqwik.api.Tuple.of(1, odd));
    Arbitrary<JsonObject> x = Combinators.combine(dim, dim, Arbitraries.integers().between(0, 48), odd,
        Arbitraries.integers().between(0, 5)).as((rows, cols, size, junk, where) -> {
          JsonObject in = new JsonObject().put("name", "x").put("datatype", "FP32")
              .put("shape", new JsonArray().add(rows).add(cols)).put("parameters", new JsonObject().put("binary_data_size", size));
          switch (where) {
            case 0 -> in.put("datatype", junk);
            case 1 -> in.getJsonObject("parameters").put("binary_data_size", junk);
            case 2 -> in.put("shape", junk);
            case 3 -> in.put("data", new JsonArray().add(junk));
            default -> { }
          }
          return in;
        });
    Arbitrary<JsonObject> s = Combinators.combine(dim, Arbitraries.integers().between(0, 24)).as((n, size) ->
        new JsonObject().put("name", "s").put("datatype", "BYTES").put("shape", new JsonArray().add(n))
            .put("parameters", new JsonObject().put("binary_data_size", size)));
    Arbitrary<JsonObject> params = Arbitraries.of(new JsonObject(), new JsonObject().put("priority", 1),
        new JsonObject().put("timeout", -5), new JsonObject().put("binary_data_output", "yes"),
        new JsonObject().put("verification", new JsonObject().put("policy", "redundant").put("replicas", 1L << 40)),
        new JsonObject().put("verification", "x"));
    return Combinators.combine(x, s, params, Arbitraries.integers().between(0, 3)).as((a, b, p, layout) -> {
      JsonArray inputs = switch (layout) {
        case 0 -> new JsonArray().add(a).add(b);
        case 1 -> new JsonArray().add(b).add(a);
        case 2 -> new JsonArray().add(a).add(a);
        default -> new JsonArray().add(a);
      };
      return new JsonObject().put("inputs", inputs).put("parameters", p)
          .put("outputs", new JsonArray().add(new JsonObject().put("name", "y")));
    });
  }

  @Property(seed = "20261204")
  void binaryBodiesParseOrAnswer400(@ForAll("headers") JsonObject header, @ForAll @Size(max = 96) byte[] tail,
      @ForAll("headerLengths") String headerLength) {
    byte[] json = header.encode().getBytes(StandardCharsets.UTF_8);
    Buffer raw = Buffer.buffer(json).appendBytes(tail);
    String length = headerLength.equals("exact") ? String.valueOf(json.length) : headerLength;
    parseOr400(raw, length);
  }

  @Provide
  Arbitrary<String> headerLengths() {
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, Arbitraries.just("exact")),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("-1", "0", "", " 12 ", "99999999999", "abc", "2147483647", "1e3")),
        net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 400).map(String::valueOf)));
  }

  @Property(seed = "20261204")
  void arbitraryBytesParseOrAnswer400(@ForAll @Size(max = 200) byte[] body, @ForAll("headerLengths") String length) {
    parseOr400(Buffer.buffer(body), length.equals("exact") ? null : length);
  }

  /** The attack of issue 15: 2^60 × 4 FP32 is 2^64 bytes, which wrapped to 0 and matched an empty binary part. */
  @Example
  void aShapeWhoseByteCountOverflowsIsA400() {
    JsonObject header = new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "x")
        .put("datatype", "FP32").put("shape", new JsonArray().add(1L << 60).add(4))
        .put("parameters", new JsonObject().put("binary_data_size", 0))));
    byte[] json = header.encode().getBytes(StandardCharsets.UTF_8);
    assertThrows(TensorFormatException.class, () -> InferRequest.parse(Buffer.buffer(json), String.valueOf(json.length), SIG));
  }

  private static void parseOr400(Buffer raw, String headerLength) {
    InferRequest req;
    try {
      req = InferRequest.parse(raw, headerLength, SIG);
    } catch (ApiError e) {
      assertEquals(400, e.status(), e.getMessage());
      return;
    } catch (TensorFormatException | InvalidSpecException expected) {
      return;
    }
    for (Tensor t : req.inputs()) {
      long count = t.elementCount();
      if (t.type().isFixedWidth()) {
        assertEquals(Math.multiplyExact(count, (long) t.type().byteSize()), t.byteSize());
      }
      assertTrue(t.byteSize() <= raw.length());
    }
  }
}
