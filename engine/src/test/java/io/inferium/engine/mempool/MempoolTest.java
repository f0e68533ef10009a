package io.inferium.engine.mempool;

import static io.inferium.infra.testing.Eventually.await;
import static io.inferium.infra.testing.Eventually.failure;
import static io.inferium.infra.testing.Eventually.until;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.api.ApiError;
import io.inferium.engine.api.Failures;
import io.inferium.engine.failure.BadRequest;
import io.inferium.engine.failure.ClientGone;
import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.failure.QueueFull;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.FakeWorker;
import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.engine.schedule.Admission;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The tensor scheduler against in-memory fake workers: batching, admission, deadlines, failover. */
class MempoolTest {

  private static final ModelSignature SIG = new ModelSignature(
      List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 2})),
      List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 2})));

  private final Vertx vertx = Vertx.vertx();
  private final List<Worker> workers = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  private static FunctionRecord fn(String batching) {
    JsonObject spec = new JsonObject().put("name", "f").put("timeout_ms", 60_000);
    if (batching != null) {
      spec.put("batching", new JsonObject(batching));
    }
    return new FunctionRecord(FunctionSpec.fromJson(spec), 1, "a".repeat(64), 1, null, FunctionState.READY, null,
        new JsonObject(), SIG, null, null);
  }

  private Mempool mempool() {
    return mempool(new Admission(Admission.DEFAULT_GLOBAL_LIMIT));
  }

  private Mempool mempool(Admission admission) {
    EngineMetrics metrics = new EngineMetrics(new SimpleMeterRegistry());
    WorkerCall.Factory calls = new WorkerCall.Factory(new ModelBlobs(Path.of("/nonexistent"), null),
        f -> Future.succeededFuture(new JsonObject()), metrics);
    return new Mempool(vertx, new Dispatcher(() -> workers, id -> false), calls, metrics, null, admission);
  }

  private FakeWorker worker(int maxOutstanding) {
    FakeWorker w = new FakeWorker(maxOutstanding);
    workers.add(w);
    return w;
  }

  private static Tensor rows(int n, float value) {
    float[] v = new float[n * 2];
    java.util.Arrays.fill(v, value);
    return Tensors.fp32("x", new long[] {n, 2}, v);
  }

  private static QueuedRequest submit(Mempool m, FunctionRecord f, Tensor x, int priority, long deadlineMs) {
    return m.submit(null, f, List.of(x), List.of(), priority, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs),
        null);
  }

  /** The worker's answer: its input, renamed {@code y} (an identity model). */
  private static void echo(FakeWorker w, FakeWorker.Call call) {
    Tensor x = call.tensors.get(0);
    w.answer(call, List.of(new Tensor("y", x.type(), x.shape(), x.view())));
  }

  private static void assertReleased(FakeWorker w) {
    until("the worker released", () -> w.reserved() == 0 && w.inUse("a".repeat(64)) == 0);
    assertEquals(0, w.reserved(), "every reserve has its release");
    assertEquals(0, w.inUse("a".repeat(64)), "every beginUse has its endUse");
  }

  @Test
  void aBatchClosesWhenFullAndTheRestWaitsForTheDelayFromTheOldest() throws Exception {
    FakeWorker w = worker(4);
    Mempool m = mempool();
    FunctionRecord f = fn("{\"max_batch_size\": 4, \"max_queue_delay_ms\": 150}");
    QueuedRequest a = submit(m, f, rows(2, 1), 0, 10_000);
    QueuedRequest b = submit(m, f, rows(2, 2), 0, 10_000);
    FakeWorker.Call full = w.awaitCall(1);
    assertEquals(4, full.tensors.get(0).shape()[0], "two requests of 2 rows fill a batch of 4");
    long sent = System.nanoTime();
    QueuedRequest c = submit(m, f, rows(2, 3), 0, 10_000);
    echo(w, full);
    Mempool.Outcome oa = await(a.future());
    Mempool.Outcome ob = await(b.future());
    assertEquals(2, oa.batchRequests());
    assertEquals(1f, Tensors.toFloatArray(oa.outputs().get(0))[0]);
    assertEquals(2f, Tensors.toFloatArray(ob.outputs().get(0))[0], "each request gets its own rows back");
    FakeWorker.Call alone = w.awaitCall(2);
    assertTrue(System.nanoTime() - sent >= TimeUnit.MILLISECONDS.toNanos(100),
        "a lone request waits for batch-mates up to the delay");
    assertEquals(2, alone.tensors.get(0).shape()[0]);
    echo(w, alone);
    assertEquals(1, await(c.future()).batchRequests());
    assertReleased(w);
  }

  @Test
  void whileEverySlotIsBusyOnlyAFullBatchGoesAheadAndTheRestGrowsUntilASlotFrees() throws Exception {
    FakeWorker w = new FakeWorker(4, 1);
    workers.add(w);
    Mempool m = mempool();
    FunctionRecord f = fn("{\"max_batch_size\": 4}");
    QueuedRequest a = submit(m, f, rows(1, 1), 0, 10_000);
    FakeWorker.Call first = w.awaitCall(1);
    assertEquals(1, first.tensors.get(0).shape()[0], "an idle slot takes what is queued at once");
    List<QueuedRequest> next = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      next.add(submit(m, f, rows(1, 2), 0, 10_000));
    }
    Thread.sleep(100);
    assertEquals(1, w.calls.size(), "three rows do not go to a worker whose one slot is busy, though its in-flight "
        + "limit has room: they would only wait in its queue");
    next.add(submit(m, f, rows(1, 2), 0, 10_000));
    FakeWorker.Call full = w.awaitCall(2);
    assertEquals(4, full.tensors.get(0).shape()[0], "a full batch goes ahead, so the slot never waits for a transfer");
    echo(w, first);
    await(a.future());
    QueuedRequest late = submit(m, f, rows(1, 3), 0, 10_000);
    Thread.sleep(50);
    assertEquals(2, w.calls.size(), "the slot is still busy with the full batch");
    echo(w, full);
    for (QueuedRequest r : next) {
      assertEquals(4, await(r.future()).batchRows());
    }
    FakeWorker.Call last = w.awaitCall(3);
    assertEquals(1, last.tensors.get(0).shape()[0], "when the slot frees, what waited is sent");
    echo(w, last);
    assertEquals(3f, Tensors.toFloatArray(await(late.future()).outputs().get(0))[0]);
    assertReleased(w);
  }

  @Test
  void unbatchedRequestsStillFillTheInFlightLimitWhileSlotsAreBusy() throws Exception {
    FakeWorker w = new FakeWorker(3, 1);
    workers.add(w);
    Mempool m = mempool();
    FunctionRecord f = fn("{\"max_batch_size\": 0}");
    List<QueuedRequest> rs = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      rs.add(submit(m, f, rows(1, i), 0, 10_000));
    }
    w.awaitCall(3);
    for (int i = 0; i < 3; i++) {
      echo(w, w.calls.get(i));
    }
    for (QueuedRequest r : rs) {
      assertEquals(1, await(r.future()).batchRequests());
    }
    assertReleased(w);
  }

  @Test
  void aDifferentShapeClosesTheBatch() throws Exception {
    FakeWorker w = worker(1);
    Mempool m = mempool();
    FunctionRecord f = fn("{\"max_batch_size\": 8, \"max_queue_delay_ms\": 60000}");
    w.reserve(); // busy: both requests queue before any batch forms
    QueuedRequest a = submit(m, f, rows(1, 1), 0, 10_000);
    QueuedRequest odd = m.submit(null, f, List.of(Tensors.fp32("x", new long[] {1, 3}, new float[3])), List.of(), 0,
        System.nanoTime() + TimeUnit.SECONDS.toNanos(10), null);
    Thread.sleep(50);
    w.release();
    FakeWorker.Call first = w.awaitCall(1);
    assertEquals(1, first.tensors.get(0).shape()[0], "the differently shaped request closed the batch at once");
    echo(w, first);
    assertEquals(1, await(a.future()).batchRequests(), "it did not wait 60 s for batch-mates");
    odd.cancel();
  }

  @Test
  void lowerPriorityNumbersRunFirst() throws Exception {
    FakeWorker w = worker(1);
    Mempool m = mempool();
    FunctionRecord f = fn("{\"max_batch_size\": 0}");
    QueuedRequest busy = submit(m, f, rows(1, 0), 0, 10_000);
    FakeWorker.Call first = w.awaitCall(1);
    QueuedRequest low = submit(m, f, rows(1, 5), 5, 10_000);
    QueuedRequest high = submit(m, f, rows(1, 1), 1, 10_000);
    Thread.sleep(50);
    echo(w, first);
    FakeWorker.Call second = w.awaitCall(2);
    assertEquals(1f, Tensors.toFloatArray(second.tensors.get(0))[0], "priority 1 before priority 5");
    echo(w, second);
    echo(w, w.awaitCall(3));
    await(busy.future());
    await(high.future());
    await(low.future());
  }

  @Test
  void aFullQueueIs429WithRetryAfter() throws Exception {
    FakeWorker w = worker(1);
    w.reserve();
    Mempool m = mempool();
    FunctionRecord f = fn("{\"max_batch_size\": 0, \"max_queue_size\": 2}");
    QueuedRequest a = submit(m, f, rows(1, 0), 0, 10_000);
    QueuedRequest b = submit(m, f, rows(1, 0), 0, 10_000);
    QueuedRequest c = submit(m, f, rows(1, 0), 0, 10_000);
    Throwable err = failure(c.future());
    assertInstanceOf(QueueFull.class, err);
    ApiError api = Failures.classify(err);
    assertEquals(429, api.status());
    assertTrue(api.retryAfterSeconds() >= 1, "a 429 always says when to retry");
    assertFalse(a.future().isComplete() || b.future().isComplete(), "the queued ones still wait");
    a.cancel();
    b.cancel();
  }

  @Test
  void theGlobalBoundHoldsAcrossFunctions() throws Exception {
    FakeWorker w = worker(1);
    w.reserve();
    Mempool m = mempool(new Admission(2));
    QueuedRequest a = submit(m, fn("{\"max_batch_size\": 0}"), rows(1, 0), 0, 10_000);
    FunctionRecord other = new FunctionRecord(FunctionSpec.fromJson(new JsonObject().put("name", "g")
        .put("batching", new JsonObject().put("max_batch_size", 0))), 1, "c".repeat(64), 1, null, FunctionState.READY,
        null, new JsonObject(), SIG, null, null);
    QueuedRequest b = submit(m, other, rows(1, 0), 0, 10_000);
    QueuedRequest c = submit(m, other, rows(1, 0), 0, 10_000);
    Throwable err = failure(c.future());
    assertInstanceOf(QueueFull.class, err, "each function's own queue has room, the gateway's has not");
    assertEquals(429, Failures.classify(err).status());
    assertEquals(2, m.queued());
    a.cancel();
    b.cancel();
  }

  @Test
  void moreRowsThanTheBatchLimitIsABadRequestNotAnApiErrorInsideTheScheduler() throws Exception {
    worker(1);
    Mempool m = mempool();
    FunctionRecord f = fn("{\"max_batch_size\": 2}");
    Throwable err = failure(submit(m, f, rows(3, 0), 0, 10_000).future());
    assertInstanceOf(BadRequest.class, err);
    assertEquals(400, Failures.classify(err).status());
    assertTrue(err.getMessage().contains("max_batch_size of 2"), err.getMessage());
  }

  @Test
  void aDeadlineWhileQueuedFailsWithoutTouchingAWorker() throws Exception {
    FakeWorker w = worker(1);
    w.reserve();
    Mempool m = mempool();
    Throwable err = failure(submit(m, fn("{\"max_batch_size\": 0}"), rows(1, 0), 0, 300).future());
    assertInstanceOf(DeadlineExceeded.class, err);
    assertEquals(0, w.calls.size());
  }

  @Test
  void aDeadlineWhileRunningWithdrawsTheCallChargingTheNode() throws Exception {
    FakeWorker w = worker(1);
    Mempool m = mempool();
    QueuedRequest r = submit(m, fn("{\"max_batch_size\": 0}"), rows(1, 0), 0, 100);
    FakeWorker.Call call = w.awaitCall(1);
    assertInstanceOf(DeadlineExceeded.class, failure(r.future()));
    until("the worker call cancelled", call::cancelled);
    assertEquals(Boolean.TRUE, call.cancelledNodeAtFault, "overrunning a deadline is the node's to answer for");
    echo(w, call); // a late answer changes nothing: the request was answered once
    assertInstanceOf(DeadlineExceeded.class, failure(r.future()));
    assertReleased(w);
  }

  @Test
  void aClientThatLeavesWithdrawsTheCallUncharged() throws Exception {
    FakeWorker w = worker(1);
    Mempool m = mempool();
    QueuedRequest r = submit(m, fn("{\"max_batch_size\": 0}"), rows(1, 0), 0, 10_000);
    FakeWorker.Call call = w.awaitCall(1);
    r.cancel();
    assertInstanceOf(ClientGone.class, failure(r.future()));
    until("the worker call cancelled", call::cancelled);
    assertEquals(Boolean.FALSE, call.cancelledNodeAtFault, "a client hanging up is not the node's fault");
    assertReleased(w);
  }

  @Test
  void aLostWorkerIsReplacedAndTheRequestAnsweredOnce() throws Exception {
    FakeWorker dying = worker(1);
    Mempool m = mempool();
    QueuedRequest r = submit(m, fn("{\"max_batch_size\": 0}"), rows(1, 4), 0, 10_000);
    FakeWorker.Call call = dying.awaitCall(1);
    workers.remove(dying);
    FakeWorker spare = worker(1);
    dying.lose(call);
    FakeWorker.Call again = spare.awaitCall(1);
    echo(spare, again);
    Mempool.Outcome o = await(r.future());
    assertEquals(spare.workerId(), o.workerId());
    assertEquals(4f, Tensors.toFloatArray(o.outputs().get(0))[0]);
    assertReleased(dying);
    assertReleased(spare);
  }

  @Test
  void failoverStopsAfterTheAttemptBound() throws Exception {
    FakeWorker w = worker(1);
    Mempool m = mempool();
    QueuedRequest r = submit(m, fn("{\"max_batch_size\": 0}"), rows(1, 0), 0, 10_000);
    for (int i = 1; i <= Mempool.MAX_ATTEMPTS; i++) {
      w.lose(w.awaitCall(i));
    }
    Throwable err = failure(r.future());
    assertTrue(err instanceof WorkerFailure wf && wf.lost(), String.valueOf(err));
    Thread.sleep(50);
    assertEquals(Mempool.MAX_ATTEMPTS, w.calls.size(), "no run beyond the bound");
  }

  @Test
  void badInputInABatchIsSplitSoOnlyTheBadRequestFails() throws Exception {
    FakeWorker w = worker(1);
    w.reserve();
    Mempool m = mempool();
    FunctionRecord f = fn("{\"max_batch_size\": 8, \"max_queue_delay_ms\": 0}");
    QueuedRequest good = submit(m, f, rows(1, 1), 0, 10_000);
    QueuedRequest bad = submit(m, f, rows(1, -1), 0, 10_000);
    Thread.sleep(30);
    w.release();
    FakeWorker.Call batch = w.awaitCall(1);
    assertEquals(2, batch.tensors.get(0).shape()[0]);
    w.fail(batch, "bad_input");
    // One worker slot: the solo runs go one after the other.
    for (int i = 2; i <= 3; i++) {
      FakeWorker.Call solo = w.awaitCall(i);
      assertEquals(1, solo.tensors.get(0).shape()[0], "each request runs alone after a bad_input batch");
      if (Tensors.toFloatArray(solo.tensors.get(0))[0] < 0) {
        w.fail(solo, "bad_input");
      } else {
        echo(w, solo);
      }
    }
    assertEquals(1, await(good.future()).batchRequests());
    Throwable err = failure(bad.future());
    assertEquals(400, Failures.classify(err).status());
    assertReleased(w);
  }
}
