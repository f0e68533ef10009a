package io.inferium.engine.text;

import static io.inferium.infra.testing.Eventually.await;
import static io.inferium.infra.testing.Eventually.failure;
import static io.inferium.infra.testing.Eventually.until;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.api.ApiError;
import io.inferium.engine.api.Failures;
import io.inferium.engine.failure.ClientGone;
import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.failure.QueueFull;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.FakeWorker;
import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.ModelBlobs;
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

/** The text scheduler against in-memory fake workers: running sets, reservations, failover, admission. */
class GenerationsTest {

  private static final String SHA = "b".repeat(64);

  private final Vertx vertx = Vertx.vertx();
  private final List<Worker> workers = new CopyOnWriteArrayList<>();
  private final List<JsonObject> loadFieldsAsked = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  private static FunctionRecord fn(String kind, int running, int waiting) {
    JsonObject spec = new JsonObject().put("name", "g").put("kind", kind).put("timeout_ms", 60_000)
        .put("text", new JsonObject().put("max_running_sequences", running).put("max_waiting", waiting));
    return new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, null, FunctionState.READY, null,
        new JsonObject(), null, null, null);
  }

  private Generations generations() {
    EngineMetrics metrics = new EngineMetrics(new SimpleMeterRegistry());
    WorkerCall.Factory calls = new WorkerCall.Factory(new ModelBlobs(Path.of("/nonexistent"), null), f -> {
      JsonObject fields = new JsonObject().put("kind", f.spec().kind().wire());
      loadFieldsAsked.add(fields);
      return Future.succeededFuture(fields);
    }, metrics);
    return new Generations(vertx, new Dispatcher(() -> workers, id -> false), calls, new TextMetrics(metrics));
  }

  private FakeWorker worker(int maxOutstanding) {
    FakeWorker w = new FakeWorker(maxOutstanding);
    workers.add(w);
    return w;
  }

  private static long in(long ms) {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
  }

  private static JsonObject prompt() {
    return new JsonObject().put("prompt", "hi").put("params", new JsonObject());
  }

  @Test
  void aWorkerRunsAtMostTheRunningSetAndTheRestWait() throws Exception {
    FakeWorker w = worker(64);
    Generations g = generations();
    FunctionRecord f = fn("text-generation", 2, 10);
    Generations.Generation a = g.submit(f, prompt(), in(10_000), c -> {});
    Generations.Generation b = g.submit(f, prompt(), in(10_000), c -> {});
    Generations.Generation c = g.submit(f, prompt(), in(10_000), x -> {});
    FakeWorker.Call first = w.awaitCall(2);
    Thread.sleep(50);
    assertEquals(2, w.calls.size(), "max_running_sequences 2: the third waits");
    w.finish(w.calls.get(0), new int[0]);
    await(a.future());
    FakeWorker.Call third = w.awaitCall(3);
    w.finish(first, new int[0]);
    w.finish(third, new int[0]);
    await(b.future());
    await(c.future());
    assertEquals("text-generation", loadFieldsAsked.get(0).getString("kind"), "the load carried the bundle's fields");
  }

  @Test
  void aRunningGenerationReservesItsWorker() throws Exception {
    FakeWorker w = worker(64);
    Generations g = generations();
    Generations.Generation gen = g.submit(fn("text-generation", 4, 10), prompt(), in(10_000), c -> {});
    FakeWorker.Call call = w.awaitCall(1);
    assertEquals(1, w.reserved(), "the generation counts against the worker while it runs");
    assertEquals(1, w.inUse(SHA));
    w.token(call, 42, "x");
    w.finish(call, new int[] {42});
    Generations.Finished done = await(gen.future());
    assertEquals(w.workerId(), done.workerId());
    assertEquals(1, gen.streamedTokens());
    until("released after the generation", () -> w.reserved() == 0 && w.inUse(SHA) == 0);
  }

  @Test
  void tokensReachTheCallerAsTheyAreStreamed() throws Exception {
    FakeWorker w = worker(64);
    Generations g = generations();
    List<Generations.Chunk> seen = new CopyOnWriteArrayList<>();
    Generations.Generation gen = g.submit(fn("text-generation", 4, 10), prompt(), in(10_000), seen::addAll);
    FakeWorker.Call call = w.awaitCall(1);
    w.token(call, 7, "a");
    w.token(call, 8, "b");
    until("both tokens reached the caller before the end", () -> seen.size() == 2);
    w.finish(call, new int[] {7, 8});
    await(gen.future());
    assertEquals(List.of(7, 8), seen.stream().map(Generations.Chunk::tokenId).toList(), "in order, once each");
  }

  @Test
  void theFunctionsTokenWindowRidesWithEachGeneration() throws Exception {
    FakeWorker w = worker(64);
    Generations g = generations();
    JsonObject spec = new JsonObject().put("name", "chat").put("kind", "text-generation")
        .put("text", new JsonObject().put("token_window_ms", 16));
    FunctionRecord chat = new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, null, FunctionState.READY, null,
        new JsonObject(), null, null, null);
    Generations.Generation gen = g.submit(chat, prompt(), in(10_000), c -> {});
    FakeWorker.Call call = w.awaitCall(1);
    assertEquals(16, call.meta.getInteger("token_window_ms"), "the worker holds this function's tokens up to 16 ms");
    w.finish(call, new int[0]);
    await(gen.future());
    Generations.Generation plain = g.submit(fn("text-generation", 4, 10), prompt(), in(10_000), c -> {});
    FakeWorker.Call second = w.awaitCall(2);
    assertEquals(2, second.meta.getInteger("token_window_ms"), "the default window");
    w.finish(second, new int[0]);
    await(plain.future());
  }

  @Test
  void aLostWorkerBeforeTheFirstTokenIsReplaced() throws Exception {
    FakeWorker dying = worker(64);
    Generations g = generations();
    Generations.Generation gen = g.submit(fn("text-generation", 4, 10), prompt(), in(10_000), c -> {});
    FakeWorker.Call call = dying.awaitCall(1);
    workers.remove(dying);
    FakeWorker spare = worker(64);
    dying.lose(call);
    FakeWorker.Call again = spare.awaitCall(1);
    spare.finish(again, new int[0]);
    assertEquals(spare.workerId(), await(gen.future()).workerId());
  }

  @Test
  void aLostWorkerAfterTheFirstTokenFailsTheGeneration() throws Exception {
    FakeWorker dying = worker(64);
    FakeWorker spare = worker(64);
    Generations g = generations();
    Generations.Generation gen = g.submit(fn("text-generation", 4, 10), prompt(), in(10_000), c -> {});
    until("sent once", () -> dying.calls.size() + spare.calls.size() == 1);
    FakeWorker holder = dying.calls.isEmpty() ? spare : dying;
    FakeWorker.Call call = holder.calls.get(0);
    holder.token(call, 5, "x");
    until("token streamed", () -> gen.streamedTokens() == 1);
    holder.lose(call);
    Throwable err = failure(gen.future());
    assertTrue(err instanceof WorkerFailure wf && wf.lost(), String.valueOf(err));
    Thread.sleep(50);
    assertEquals(1, dying.calls.size() + spare.calls.size(), "never re-run after the client saw a token");
  }

  @Test
  void aFullTextQueueIs429WithRetryAfter() throws Exception {
    FakeWorker w = worker(64);
    Generations g = generations();
    FunctionRecord f = fn("text-generation", 1, 1);
    Generations.Generation running = g.submit(f, prompt(), in(10_000), c -> {});
    w.awaitCall(1);
    Generations.Generation waiting = g.submit(f, prompt(), in(10_000), c -> {});
    Generations.Generation refused = g.submit(f, prompt(), in(10_000), c -> {});
    Throwable err = failure(refused.future());
    assertInstanceOf(QueueFull.class, err);
    ApiError api = Failures.classify(err);
    assertEquals(429, api.status());
    assertTrue(api.retryAfterSeconds() >= 1);
    assertFalse(waiting.future().isComplete());
    running.cancel();
    waiting.cancel();
  }

  @Test
  void aDeadlineWhileRunningWithdrawsChargingTheNodeAndAClientLeavingDoesNot() throws Exception {
    FakeWorker w = worker(64);
    Generations g = generations();
    FunctionRecord f = fn("text-generation", 4, 10);
    Generations.Generation late = g.submit(f, prompt(), in(100), c -> {});
    Generations.Generation left = g.submit(f, prompt(), in(10_000), c -> {});
    w.awaitCall(2);
    assertInstanceOf(DeadlineExceeded.class, failure(late.future()));
    left.cancel();
    assertInstanceOf(ClientGone.class, failure(left.future()));
    until("both withdrawn", () -> w.calls.stream().allMatch(FakeWorker.Call::cancelled));
    long charged = w.calls.stream().filter(c -> Boolean.TRUE.equals(c.cancelledNodeAtFault)).count();
    assertEquals(1, charged, "only the overrun deadline is the node's fault");
    until("released after withdrawal", () -> w.reserved() == 0);
  }

  @Test
  void aDeadlineWhileQueuedNeverReachesAWorker() throws Exception {
    FakeWorker w = worker(64);
    Generations g = generations();
    FunctionRecord f = fn("text-generation", 1, 10);
    Generations.Generation running = g.submit(f, prompt(), in(10_000), c -> {});
    w.awaitCall(1);
    Generations.Generation queued = g.submit(f, prompt(), in(300), c -> {});
    assertInstanceOf(DeadlineExceeded.class, failure(queued.future()));
    assertEquals(1, w.calls.size());
    running.cancel();
  }

  @Test
  void anEmbeddingWaitsForABusyWorkerInsteadOfFailingFast() throws Exception {
    FakeWorker w = worker(1);
    w.reserve(); // the only worker is at its in-flight limit (a tensor batch, say)
    Generations g = generations();
    Embeddings embeddings = new Embeddings(g);
    Future<Embeddings.Result> result = embeddings.embed(fn("embedding", 4, 10), List.of("a", "b"), in(10_000));
    Thread.sleep(80);
    assertFalse(result.isComplete(), "a momentarily busy worker means a wait, not a 503");
    assertEquals(0, w.calls.size());
    w.release();
    FakeWorker.Call call = w.awaitCall(1);
    assertEquals(FrameType.EMBED, call.type);
    w.answer(call, List.of(Tensors.fp32("embeddings", new long[] {2, 2}, new float[] {1, 0, 0, 1})));
    Embeddings.Result r = await(result);
    assertEquals(w.workerId(), r.workerId());
    until("released", () -> w.reserved() == 0);
  }

  @Test
  void scoringGoesThroughTheSameQueues() throws Exception {
    FakeWorker w = worker(4);
    Generations g = generations();
    LogLikelihoods scoring = new LogLikelihoods(g);
    Future<LogLikelihoods.Result> result = scoring.score(fn("text-generation", 4, 10), "ctx", List.of(" a", " b"),
        in(10_000));
    FakeWorker.Call call = w.awaitCall(1);
    assertEquals(FrameType.SCORE, call.type);
    w.answer(call, List.of(Tensors.fp32("log_likelihoods", new long[] {2}, -1.5f, -0.5f)));
    LogLikelihoods.Result r = await(result);
    assertEquals(-0.5, r.logLikelihoods()[1]);
  }
}
