package io.inferium.engine.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ExampleFitTest {

  private static final ModelSignature SIG = new ModelSignature(List.of(
      new TensorSpec("a", DataType.FP32, new long[] {-1, 4}), new TensorSpec("n", DataType.INT64, new long[] {})),
      List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 4})));

  private static JsonObject set(long rows, String type) {
    JsonArray data = new JsonArray();
    for (int i = 0; i < rows * 4; i++) {
      data.add(i);
    }
    return new JsonObject().put("inputs", new JsonArray()
        .add(new JsonObject().put("name", "a").put("datatype", type).put("shape", new JsonArray().add(rows).add(4)).put("data", data))
        .add(new JsonObject().put("name", "n").put("datatype", "INT64").put("shape", new JsonArray()).put("data", 7)));
  }

  @Test
  void anOpenDimensionTakesAnySizeAndAFixedOneOnlyItsOwn() {
    assertEquals(Optional.empty(), ExampleFit.problem(List.of(set(1, "FP32"), set(5, "FP32")), ExampleFit.declared(SIG)));
    assertEquals(Optional.of("field 'examples[1].inputs[0].datatype': input 'a' is FP64, the model takes a: FP32[?,4]"),
        ExampleFit.problem(List.of(set(1, "FP32"), set(1, "FP64")), ExampleFit.declared(SIG)));
    ModelSignature fixed = new ModelSignature(List.of(new TensorSpec("a", DataType.FP32, new long[] {2, 4}),
        new TensorSpec("n", DataType.INT64, new long[] {})), SIG.outputs());
    assertEquals(Optional.of("field 'examples[0].inputs[0].shape': input 'a' has shape [3, 4], the model takes a: FP32[2,4]"),
        ExampleFit.problem(List.of(set(3, "FP32")), ExampleFit.declared(fixed)));
  }

  @Test
  void anInputWhoseTypeOrShapeTheFileDoesNotDeclareIsCheckedByNameOnly() {
    List<ExampleFit.Declared> loose = List.of(new ExampleFit.Declared("a", null, null), new ExampleFit.Declared("n", null, null));
    assertEquals(Optional.empty(), ExampleFit.problem(List.of(set(3, "INT8")), loose));
    assertEquals(Optional.of("field 'examples[0].inputs': input 'm' is missing (the model takes a: ?[?], n: ?[?], m: ?[?])"),
        ExampleFit.problem(List.of(set(3, "INT8")), List.of(loose.get(0), loose.get(1), new ExampleFit.Declared("m", null, null))));
  }
}
