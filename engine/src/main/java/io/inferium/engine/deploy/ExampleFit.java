package io.inferium.engine.deploy;

import io.inferium.functions.ExampleInputs;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.onnx.Dim;
import io.inferium.functions.onnx.OnnxModel;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whether a spec's example input sets fit a model's inputs: every input given once, under its name,
 * with its element type, at a shape its declared dimensions allow. Checked twice: against the ONNX
 * file's declared inputs when the deploy is posted (so a mismatch is a 400 naming the example, the input
 * and the field), and against what ONNX Runtime reports once the sandbox loaded the model.
 */
final class ExampleFit {

  /** One model input; {@code type} null when the file gives none Inferium knows, {@code shape} null when absent. */
  record Declared(String name, DataType type, long[] shape) {

    String describe() {
      return name + ": " + (type == null ? "?" : type.v2Name())
          + (shape == null ? "[?]" : Arrays.stream(shape).mapToObj(d -> d < 0 ? "?" : Long.toString(d))
              .collect(Collectors.joining(",", "[", "]")));
    }

    boolean accepts(long[] concrete) {
      return shape == null || new TensorSpec(name, DataType.FP32, shape).accepts(concrete);
    }
  }

  private ExampleFit() {}

  static List<Declared> declared(OnnxModel model) {
    return model.inputs().stream().map(v -> new Declared(v.name(), v.dataType().orElse(null),
        v.shape() == null ? null : v.shape().stream().mapToLong(Dim::value).toArray())).toList();
  }

  static List<Declared> declared(ModelSignature signature) {
    return signature.inputs().stream().map(t -> new Declared(t.name(), t.type(), t.shape())).toList();
  }

  /** The first way an example does not fit, as a message naming example, input and field; empty when all fit. */
  static Optional<String> problem(List<JsonObject> examples, List<Declared> inputs) {
    String takes = inputs.stream().map(Declared::describe).collect(Collectors.joining(", "));
    for (int i = 0; i < examples.size(); i++) {
      List<Tensor> given = ExampleInputs.tensors(examples.get(i));
      Set<String> seen = new HashSet<>();
      for (int j = 0; j < given.size(); j++) {
        Tensor t = given.get(j);
        String at = "field 'examples[" + i + "].inputs[" + j + "]";
        Declared d = inputs.stream().filter(in -> in.name().equals(t.name())).findFirst().orElse(null);
        if (d == null) {
          return Optional.of(at + ".name': the model has no input '" + t.name() + "' (it takes " + takes + ")");
        }
        if (d.type() != null && d.type() != t.type()) {
          return Optional.of(at + ".datatype': input '" + t.name() + "' is " + t.type().v2Name() + ", the model takes "
              + d.describe());
        }
        if (!d.accepts(t.shape())) {
          return Optional.of(at + ".shape': input '" + t.name() + "' has shape " + Arrays.toString(t.shape())
              + ", the model takes " + d.describe());
        }
        seen.add(t.name());
      }
      for (Declared d : inputs) {
        if (!seen.contains(d.name())) {
          return Optional.of("field 'examples[" + i + "].inputs': input '" + d.name() + "' is missing (the model takes "
              + takes + ")");
        }
      }
    }
    return Optional.empty();
  }
}
