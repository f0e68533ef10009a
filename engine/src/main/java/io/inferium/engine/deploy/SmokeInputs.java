package io.inferium.engine.deploy;

import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Inputs for the deploy-time smoke inference: each declared input at its declared shape with open
 * dimensions set to 1, filled with zeros (false, empty strings). Zeros keep data-dependent models
 * (a loop count, a gather index) on their cheapest path.
 */
final class SmokeInputs {

  private SmokeInputs() {}

  static List<Tensor> synthesize(ModelSignature signature) {
    List<Tensor> out = new ArrayList<>();
    for (TensorSpec in : signature.inputs()) {
      long[] shape = Arrays.stream(in.shape()).map(d -> d < 0 ? 1 : d).toArray();
      int count = Math.toIntExact(Tensor.elementCount(shape));
      if (in.type() == DataType.BYTES) {
        String[] empty = new String[count];
        Arrays.fill(empty, "");
        out.add(Tensors.strings(in.name(), shape, empty));
      } else {
        out.add(new Tensor(in.name(), in.type(), shape, ByteBuffer.allocate(count * in.type().byteSize())));
      }
    }
    return out;
  }

  /** Names of floating-point outputs holding NaN or an infinity, with counts. */
  static List<String> nonFinite(List<Tensor> outputs) {
    List<String> found = new ArrayList<>();
    for (Tensor t : outputs) {
      if (!t.type().isFloatingPoint()) {
        continue;
      }
      long bad = Arrays.stream(Tensors.toDoubleArray(t)).filter(v -> !Double.isFinite(v)).count();
      if (bad > 0) {
        found.add(t.name() + " (" + bad + " of " + t.elementCount() + " values)");
      }
    }
    return found;
  }
}
