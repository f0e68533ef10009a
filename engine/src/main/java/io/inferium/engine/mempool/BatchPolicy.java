package io.inferium.engine.mempool;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How one function version is queued and batched: explicit settings from its spec, the rest derived
 * from the model (every input and output with an open first dimension means it can be batched).
 *
 * @param maxBatchSize      rows per batch; 0 = never batch (each request runs alone)
 * @param maxQueueDelayNanos how long the oldest queued request may wait for batch-mates
 * @param preferredSizes    batch sizes that close a batch at once
 * @param maxQueueSize      queued requests beyond which new ones get 429
 */
public record BatchPolicy(int maxBatchSize, long maxQueueDelayNanos, List<Integer> preferredSizes, int maxQueueSize) {

  public static final int DEFAULT_MAX_BATCH_SIZE = 32;
  public static final int DEFAULT_MAX_QUEUE_DELAY_MS = 0;
  public static final int DEFAULT_MAX_QUEUE_SIZE = 1024;

  public static BatchPolicy of(FunctionRecord fn) {
    FunctionSpec.Batching b = fn.spec().batching();
    boolean batchable = batchable(fn.signature());
    Integer explicit = b == null ? null : b.maxBatchSize();
    int maxBatch = !batchable ? 0 : explicit != null ? explicit : DEFAULT_MAX_BATCH_SIZE;
    int delayMs = b == null || b.maxQueueDelayMs() == null ? DEFAULT_MAX_QUEUE_DELAY_MS : b.maxQueueDelayMs();
    List<Integer> preferred = b == null || b.preferredBatchSizes() == null ? List.of() : b.preferredBatchSizes();
    int queue = b == null || b.maxQueueSize() == null ? DEFAULT_MAX_QUEUE_SIZE : b.maxQueueSize();
    return new BatchPolicy(maxBatch, TimeUnit.MILLISECONDS.toNanos(delayMs), preferred, queue);
  }

  /** Rows can be concatenated only if every input and output has an open first dimension. */
  static boolean batchable(ModelSignature sig) {
    return sig != null && !sig.inputs().isEmpty()
        && sig.inputs().stream().allMatch(TensorSpec::batchable)
        && sig.outputs().stream().allMatch(TensorSpec::batchable);
  }

  /** The same limits without batching (after an output turned out not to split per request). */
  BatchPolicy unbatched() {
    return new BatchPolicy(0, 0, List.of(), maxQueueSize);
  }

  public boolean batching() {
    return maxBatchSize > 0;
  }
}
