package io.inferium.engine.mempool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FunctionQueueTest {

  private static final ModelSignature SIG = new ModelSignature(
      List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 2})),
      List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 2})));

  private static FunctionRecord fn(String batching) {
    JsonObject spec = new JsonObject().put("name", "f");
    if (batching != null) {
      spec.put("batching", new JsonObject(batching));
    }
    return new FunctionRecord(FunctionSpec.fromJson(spec), 1, "0".repeat(64), 1, null, FunctionState.READY, null,
        new JsonObject(), SIG, null, null);
  }

  private static QueuedRequest request(FunctionRecord fn, int rows, int priority) {
    Tensor x = Tensors.fp32("x", new long[] {rows, 2}, new float[rows * 2]);
    return new QueuedRequest(null, fn, List.of(x), List.of(), priority, Long.MAX_VALUE, null);
  }

  @Test
  void lowerPriorityNumbersGoFirstAndEachLevelIsFifo() {
    FunctionRecord fn = fn(null);
    FunctionQueue q = new FunctionQueue(fn, BatchPolicy.of(fn));
    QueuedRequest a = request(fn, 1, 5);
    QueuedRequest b = request(fn, 1, 1);
    QueuedRequest c = request(fn, 1, 5);
    QueuedRequest d = request(fn, 1, 1);
    List.of(a, b, c, d).forEach(q::add);
    assertEquals(List.of(b, d, a, c), q.inOrder());
    assertTrue(q.remove(d));
    q.requeue(List.of(d));
    assertEquals(List.of(d, b, a, c), q.inOrder(), "a re-dispatched request goes back to the front of its level");
  }

  @Test
  void batchesCloseWhenFullAndNeverExceedTheMaximum() {
    FunctionRecord fn = fn("{\"max_batch_size\": 4, \"max_queue_delay_ms\": 1000}");
    FunctionQueue q = new FunctionQueue(fn, BatchPolicy.of(fn));
    QueuedRequest a = request(fn, 3, 5);
    QueuedRequest b = request(fn, 2, 5);
    QueuedRequest c = request(fn, 1, 5);
    List.of(a, b, c).forEach(q::add);
    Batch batch = q.form(System.nanoTime());
    assertEquals(List.of(a), batch.members(), "b (2 rows) does not fit next to a (3): the batch closes, FIFO kept");
    assertEquals(3, batch.rows());
    assertEquals("full", batch.reason());
    batch.members().forEach(q::remove);
    Batch next = q.form(System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
    assertEquals(List.of(b, c), next.members());
    assertEquals("delay", next.reason());
    assertEquals(3, next.rows());
  }

  @Test
  void aBatchWaitsForMatesUntilTheDelayCountedFromTheOldest() {
    FunctionRecord fn = fn("{\"max_batch_size\": 8, \"max_queue_delay_ms\": 50}");
    FunctionQueue q = new FunctionQueue(fn, BatchPolicy.of(fn));
    QueuedRequest a = request(fn, 1, 5);
    q.add(a);
    long now = a.enqueuedNanos;
    assertNull(q.form(now), "under the delay, with room left: wait");
    assertTrue(q.waitNanos(now) > TimeUnit.MILLISECONDS.toNanos(40));
    Batch late = q.form(now + TimeUnit.MILLISECONDS.toNanos(50));
    assertEquals("delay", late.reason());
    assertEquals(List.of(a), late.members());
  }

  @Test
  void preferredSizesAndOtherShapesCloseABatchEarly() {
    FunctionRecord fn = fn("{\"max_batch_size\": 8, \"max_queue_delay_ms\": 1000, \"preferred_batch_sizes\": [2]}");
    FunctionQueue q = new FunctionQueue(fn, BatchPolicy.of(fn));
    q.add(request(fn, 1, 5));
    q.add(request(fn, 1, 5));
    assertEquals("preferred", q.form(System.nanoTime()).reason());

    FunctionRecord plain = fn("{\"max_batch_size\": 8, \"max_queue_delay_ms\": 1000}");
    FunctionQueue mixed = new FunctionQueue(plain, BatchPolicy.of(plain));
    QueuedRequest narrow = request(plain, 1, 5);
    QueuedRequest wide = new QueuedRequest(null, plain, List.of(Tensors.fp32("x", new long[] {1, 3}, 1, 2, 3)), List.of(), 5,
        Long.MAX_VALUE, null);
    mixed.add(narrow);
    mixed.add(wide);
    Batch first = mixed.form(System.nanoTime());
    assertEquals("shape", first.reason());
    assertEquals(List.of(narrow), first.members(), "a request of another shape waits for its own batch");
  }

  @Test
  void unbatchableModelsRunOneRequestAtATime() {
    FunctionRecord fn = fn("{\"max_batch_size\": 0}");
    FunctionQueue q = new FunctionQueue(fn, BatchPolicy.of(fn));
    q.add(request(fn, 1, 5));
    q.add(request(fn, 1, 5));
    Batch b = q.form(System.nanoTime());
    assertEquals(1, b.members().size());
    assertEquals("unbatched", b.reason());
  }
}
