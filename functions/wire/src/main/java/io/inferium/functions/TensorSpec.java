package io.inferium.functions;

import io.inferium.functions.tensor.DataType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;

/**
 * A model input or output as the runtime reports it: name, element type and shape, where -1 marks a
 * dimension the model leaves open (symbolic or unknown).
 */
public record TensorSpec(String name, DataType type, long[] shape) {

  /** True when the first dimension is open, so requests can be concatenated along it. */
  public boolean batchable() {
    return shape.length > 0 && shape[0] < 0;
  }

  /** Whether a concrete shape fits: same rank, and every fixed dimension equal. */
  public boolean accepts(long[] concrete) {
    if (concrete.length != shape.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] >= 0 && shape[i] != concrete[i]) {
        return false;
      }
    }
    return true;
  }

  public JsonObject toJson() {
    JsonArray dims = new JsonArray();
    for (long d : shape) {
      dims.add(d);
    }
    return new JsonObject().put("name", name).put("datatype", type.v2Name()).put("shape", dims);
  }

  public static TensorSpec fromJson(JsonObject json) {
    JsonArray dims = json.getJsonArray("shape");
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.getLong(i);
    }
    return new TensorSpec(json.getString("name"),
        DataType.fromV2(json.getString("datatype")).orElseThrow(), shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ":" + type + Arrays.toString(shape);
  }
}
