package io.inferium.functions.onnx;

import io.inferium.functions.tensor.DataType;
import java.util.List;
import java.util.Optional;

/**
 * A graph input or output as the model declares it.
 *
 * @param name     the value's name in the graph
 * @param elemType the ONNX {@code TensorProto.DataType} number, or 0 when the value has no tensor
 *                 type (no type at all, or a sequence, map, optional or sparse tensor)
 * @param shape    the declared dimensions, or null when the shape is absent (an empty list is a scalar)
 */
public record ValueInfo(String name, int elemType, List<Dim> shape) {

  public ValueInfo {
    shape = shape == null ? null : List.copyOf(shape);
  }

  /** True when the value is a tensor with an element type and a declared shape. */
  public boolean typed() {
    return elemType != 0 && shape != null;
  }

  /** The element type as Inferium names it; empty for no type or one Inferium does not carry. */
  public Optional<DataType> dataType() {
    return DataType.fromOnnx(elemType);
  }

  /** Type and shape as a developer would write them, e.g. {@code FP32[batch,4]}. */
  public String signature() {
    String type = elemType == 0 ? "untyped" : dataType().map(DataType::v2Name).orElse(OnnxNames.elemType(elemType));
    if (shape == null) {
      return type + "[shape unknown]";
    }
    StringBuilder out = new StringBuilder(type).append('[');
    for (int i = 0; i < shape.size(); i++) {
      out.append(i == 0 ? "" : ",").append(shape.get(i));
    }
    return out.append(']').toString();
  }
}
