package io.inferium.functions;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;

/** The inputs and outputs of a loaded model, as ONNX Runtime reported them during verification. */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {

  public Optional<TensorSpec> input(String name) {
    return inputs.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  public Optional<TensorSpec> output(String name) {
    return outputs.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("inputs", new JsonArray(inputs.stream().map(TensorSpec::toJson).toList()))
        .put("outputs", new JsonArray(outputs.stream().map(TensorSpec::toJson).toList()));
  }

  public static ModelSignature fromJson(JsonObject json) {
    return new ModelSignature(list(json.getJsonArray("inputs")), list(json.getJsonArray("outputs")));
  }

  private static List<TensorSpec> list(JsonArray array) {
    return array.stream().map(o -> TensorSpec.fromJson((JsonObject) o)).toList();
  }
}
