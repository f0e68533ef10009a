package io.inferium.engine;

import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.ExecutionDevice;
import io.inferium.functions.runtime.LoadedModel;
import io.inferium.functions.runtime.OnnxRunner;
import io.inferium.functions.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * ONNX Runtime's own answer for a model and inputs, computed in the test JVM (never in the gateway)
 * on a large-stack thread, to compare with what the gateway returns.
 */
final class OrtReference {

  private OrtReference() {}

  static List<Tensor> run(Path model, List<Tensor> inputs) throws Exception {
    CompletableFuture<List<Tensor>> result = new CompletableFuture<>();
    Thread t = new Thread(null, () -> {
      try (LoadedModel m = OnnxRunner.create(ExecutionDevice.CPU, 1).load(model)) {
        result.complete(m.run(inputs, List.of(), new Cancellation()));
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    }, "ort-reference", 8L << 20);
    t.start();
    return result.get(60, TimeUnit.SECONDS);
  }
}
