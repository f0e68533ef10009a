package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code InferRequest.parse}: every way a V2 infer body is refused, and what a good one gives. */
class InferRequestTest {

  private static final ModelSignature SIGNATURE = new ModelSignature(
      List.of(new TensorSpec("a", DataType.FP32, new long[] {-1, 2}), new TensorSpec("b", DataType.INT64, new long[] {2})),
      List.of(new TensorSpec("sum", DataType.FP32, new long[] {-1, 2}), new TensorSpec("product", DataType.FP32, new long[] {-1, 2})));

  private static final String A = "{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1.5, -2]}";
  private static final String B = "{\"name\": \"b\", \"datatype\": \"INT64\", \"shape\": [2], \"data\": [7, 8]}";

  private static InferRequest parse(String body) {
    return InferRequest.parse(body == null ? null : Buffer.buffer(body), SIGNATURE);
  }

  /** Parses a body that must be refused and returns the message of the 400 it becomes. */
  private static String rejected(String body) {
    RuntimeException e = assertThrows(RuntimeException.class, () -> parse(body));
    ApiError error = Failures.classify(e);
    assertEquals(400, error.status(), () -> "status for " + e);
    return error.getMessage();
  }

  private static String withInputs(String... inputs) {
    return "{\"inputs\": [" + String.join(", ", inputs) + "]}";
  }

  @Test
  void aValidRequestGivesCheckedTensorsOutputsAndTimeout() {
    InferRequest req = parse("{\"id\": \"req-1\", \"parameters\": {\"timeout\": 2500, \"tag\": \"x\"}, "
        + "\"inputs\": [" + B + ", " + A + "], \"outputs\": [{\"name\": \"product\"}]}");

    assertEquals("req-1", req.id());
    assertEquals(new JsonObject().put("timeout", 2500).put("tag", "x"), req.parameters());
    assertEquals(2500L, req.timeoutMicros());
    assertEquals(List.of("b", "a"), req.inputs().stream().map(Tensor::name).toList(), "in request order");
    Tensor a = req.inputs().get(1);
    assertEquals(DataType.FP32, a.type());
    assertArrayEquals(new long[] {1, 2}, a.shape());
    assertArrayEquals(new float[] {1.5f, -2f}, Tensors.toFloatArray(a));
    assertArrayEquals(new long[] {7, 8}, Tensors.toLongArray(req.inputs().get(0)));
    assertEquals(List.of("product"), req.outputs());
  }

  @Test
  void optionalFieldsMayBeLeftOut() {
    InferRequest req = parse(withInputs(A, B));

    assertNull(req.id());
    assertNull(req.parameters());
    assertNull(req.timeoutMicros());
    assertEquals(List.of(), req.outputs(), "no outputs means all of them");
    assertEquals(2, req.inputs().size());
  }

  @Test
  void parametersWithoutTimeoutLeaveItOpen() {
    assertNull(parse("{\"parameters\": {}, \"inputs\": [" + A + ", " + B + "]}").timeoutMicros());
  }

  @Test
  void aSimilarityEmbedderIsRefusedOnATensorRequest() {
    assertEquals("parameter 'verification.similarity': applies to text-generation functions only (set in their spec); "
        + "tensor outputs are compared directly", rejected("{\"parameters\": {\"verification\": {\"policy\": \"redundant\", "
        + "\"similarity\": {\"function\": \"e\", \"threshold\": 0.9}}}, \"inputs\": [" + A + ", " + B + "]}"));
  }

  @Test
  void anEmptyBodyIsRefused() {
    assertEquals("empty body: expected a JSON object with an 'inputs' array", rejected(""));
    assertEquals("empty body: expected a JSON object with an 'inputs' array", rejected(null));
  }

  @ParameterizedTest
  @ValueSource(strings = {"{", "{\"inputs\": [}", "[1, 2]", "\"inputs\"", "42", "null", "{} {}"})
  void malformedJsonIsRefused(String body) {
    String message = rejected(body);

    assertTrue(message.startsWith("malformed JSON: "), message);
  }

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", quoteCharacter = '`', value = {
      "{}                                => field 'inputs': expected an array of tensors, got nothing",
      "{\"inputs\": null}                => field 'inputs': expected an array of tensors, got nothing",
      "{\"inputs\": {\"name\": \"a\"}}   => field 'inputs': expected an array of tensors, got {\"name\":\"a\"}",
      "{\"inputs\": \"a\"}               => field 'inputs': expected an array of tensors, got a",
      "{\"inputs\": [5]}                 => inputs[0]: expected a tensor object, got 5",
  })
  void inputsMustBeAnArrayOfTensorObjects(String body, String message) {
    assertEquals(message, rejected(body));
  }

  @Test
  void anUnknownInputNamesTheModelsInputs() {
    String c = "{\"name\": \"c\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}";

    assertEquals("unknown input 'c' (the model's inputs: a, b)", rejected(withInputs(A, c, B)));
  }

  @Test
  void anInputGivenTwiceIsRefused() {
    assertEquals("input 'a' given twice", rejected(withInputs(A, B, A)));
  }

  @Test
  void aWrongDatatypeNamesBoth() {
    String a = "{\"name\": \"a\", \"datatype\": \"FP64\", \"shape\": [1, 2], \"data\": [1, 2]}";

    assertEquals("input 'a': expected datatype FP32, got FP64", rejected(withInputs(a, B)));
  }

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", value = {
      "[1, 3] => [1,3]",
      "[2]    => [2]",
      "[1, 2, 1] => [1,2,1]",
  })
  void aWrongShapeShowsTheExpectedOne(String shape, String shown) {
    int elements = 1;
    for (String d : shape.replaceAll("[\\[\\] ]", "").split(",")) {
      elements *= Integer.parseInt(d);
    }
    String data = String.join(", ", Collections.nCopies(elements, "1"));
    String a = "{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": " + shape + ", \"data\": [" + data + "]}";

    assertEquals("input 'a': expected shape [-1,2] (-1 = any size), got " + shown, rejected(withInputs(a, B)));
  }

  @Test
  void aFixedDimensionMustMatchExactly() {
    String b = "{\"name\": \"b\", \"datatype\": \"INT64\", \"shape\": [3], \"data\": [1, 2, 3]}";

    assertEquals("input 'b': expected shape [2] (-1 = any size), got [3]", rejected(withInputs(A, b)));
  }

  @Test
  void aMissingInputIsNamedWithItsTypeAndShape() {
    assertEquals("missing input 'b' (INT64 [2])", rejected(withInputs(A)));
    assertEquals("missing input 'a' (FP32 [-1,2])", rejected(withInputs()));
  }

  @Test
  void aTensorTheClientDescribedWronglyIsA400NamingIt() {
    String a = "{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1]}";

    assertEquals("input 'a': shape [1,2] needs 2 elements, got 1", rejected(withInputs(a, B)));
  }

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", quoteCharacter = '`', value = {
      "[{\"name\": \"nope\"}]   => unknown output 'nope' (the model's outputs: sum, product)",
      "[\"sum\"]               => outputs[0]: expected an object with a 'name', got sum",
      "[{\"name\": 3}]         => outputs[0]: expected an object with a 'name', got {\"name\":3}",
      "{\"name\": \"sum\"}     => field 'outputs': expected an array, got {\"name\":\"sum\"}",
  })
  void requestedOutputsMustBeTheModels(String outputs, String message) {
    assertEquals(message, rejected("{\"inputs\": [" + A + ", " + B + "], \"outputs\": " + outputs + "}"));
  }

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", quoteCharacter = '`', value = {
      "5            => field 'id': expected a string, got 5",
      "true         => field 'id': expected a string, got true",
      "{\"x\": 1}   => field 'id': expected a string, got {\"x\":1}",
  })
  void anIdMustBeAString(String id, String message) {
    assertEquals(message, rejected("{\"id\": " + id + ", \"inputs\": [" + A + ", " + B + "]}"));
  }

  @Test
  void parametersMustBeAnObject() {
    assertEquals("field 'parameters': expected an object, got [1]",
        rejected("{\"parameters\": [1], \"inputs\": [" + A + ", " + B + "]}"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-5", "\"100\"", "null", "0.5", "{}"})
  void aTimeoutMustBeAPositiveNumberOfMicroseconds(String timeout) {
    String message = rejected("{\"parameters\": {\"timeout\": " + timeout + "}, \"inputs\": [" + A + ", " + B + "]}");

    assertTrue(message.startsWith("parameter 'timeout': expected a positive integer of microseconds, got "), message);
  }

  @Test
  void aBinaryShapeWhoseByteCountOverflowsIsA400NamingTheInputAndShape() {
    // [2^60, 2] of FP32 is 2^63 bytes: in plain long arithmetic that wraps negative, [2^60, 4] wraps to 0.
    for (String shape : List.of("[1152921504606846976, 2]", "[4611686018427387904, 2]")) {
      String json = "{\"inputs\": [{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": " + shape
          + ", \"parameters\": {\"binary_data_size\": 0}}, " + B + "]}";
      RuntimeException e = assertThrows(RuntimeException.class, () -> InferRequest.parse(Buffer.buffer(json),
          Integer.toString(json.length()), SIGNATURE));
      ApiError error = Failures.classify(e);
      assertEquals(400, error.status(), error.getMessage());
      assertTrue(error.getMessage().contains("input 'a'") && error.getMessage().contains(shape.replace(" ", "")),
          error.getMessage());
    }
  }
}
