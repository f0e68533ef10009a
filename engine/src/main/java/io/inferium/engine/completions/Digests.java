package io.inferium.engine.completions;

import io.inferium.functions.ContentDigest;
import io.inferium.functions.tensor.Tensor;
import java.util.List;
import java.util.function.Supplier;

/**
 * The input and output digests of one call, not yet computed: {@link Completions#emit(io.inferium.functions.CompletionEvent.Builder, Digests)}
 * hashes small content where it is and large content (a binary tensor request can be 64 MiB: about 0.1 s of
 * SHA-256) on a worker thread, so that no event loop stalls on it.
 *
 * @param bytes  about how many bytes the two digests read
 */
public record Digests(long bytes, Supplier<String> input, Supplier<String> output) {

  /** Digests of a tensor call's inputs and the outputs sent back. */
  public static Digests tensors(List<Tensor> inputs, List<Tensor> outputs) {
    long bytes = inputs.stream().mapToLong(Tensor::byteSize).sum() + outputs.stream().mapToLong(Tensor::byteSize).sum();
    return new Digests(bytes, () -> ContentDigest.tensors(inputs), () -> ContentDigest.tensors(outputs));
  }

  /** Digests of text in (prompt or messages) and text out (each choice as the client received it). */
  public static Digests text(List<String> inputs, List<String> outputs) {
    long chars = inputs.stream().mapToLong(s -> s == null ? 0 : s.length()).sum()
        + outputs.stream().mapToLong(s -> s == null ? 0 : s.length()).sum();
    // UTF-8 takes up to 3 bytes per UTF-16 char.
    return new Digests(3 * chars, () -> ContentDigest.text(inputs), () -> ContentDigest.text(outputs));
  }

  /** Text in, tensors out (embeddings). */
  public static Digests textToTensors(List<String> inputs, List<Tensor> outputs) {
    long bytes = 3 * inputs.stream().mapToLong(s -> s == null ? 0 : s.length()).sum()
        + outputs.stream().mapToLong(Tensor::byteSize).sum();
    return new Digests(bytes, () -> ContentDigest.text(inputs), () -> ContentDigest.tensors(outputs));
  }
}
