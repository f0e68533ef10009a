package io.inferium.engine.text;

import static io.inferium.infra.testing.Eventually.await;
import static io.inferium.infra.testing.Eventually.failure;
import static io.inferium.infra.testing.Eventually.until;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.failure.BadRequest;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.FakeWorker;
import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.ModelBlobs;
import io.inferium.infra.testing.MigratedDatabase;
import io.inferium.verifier.LedgerSettings;
import io.inferium.verifier.NodeLedger;
import io.inferium.verifier.consensus.ConsensusVerifier;
import io.inferium.verifier.consensus.TokenAgreement;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Text under {@code redundant(3)} against in-memory fake workers and the real ledger on PostgreSQL: k distinct
 * workers, tokens held until the verdict, the liar (another token, one token more, the right ids with other text) never
 * served and the outvoted one slashed, unseeded sampling refused before any run, fewer workers than k; under
 * {@code audit(1)} the served answer re-run on other operators' workers and a lying server caught after it answered.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedundantTextTest {

  private static final String SHA = "c".repeat(64);
  private MigratedDatabase db;
  private NodeLedger ledger;
  private final List<Worker> workers = new CopyOnWriteArrayList<>();
  private SimpleMeterRegistry registry;

  @BeforeAll
  void open() throws Exception {
    db = MigratedDatabase.open();
    ledger = new NodeLedger(db.database().pool(), LedgerSettings.defaults(), new SimpleMeterRegistry());
  }

  @AfterAll
  void close() throws Exception {
    db.close();
  }

  private static FunctionRecord fn() {
    JsonObject spec = new JsonObject().put("name", "r3").put("kind", "text-generation").put("timeout_ms", 60_000)
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3));
    return new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, null, FunctionState.READY, null, new JsonObject(),
        null, null, null);
  }

  private Generations generations(int n) throws Exception {
    return scheduler(false, java.util.Collections.nCopies(n, Worker.LOCAL_OPERATOR).toArray(String[]::new));
  }

  /**
   * A scheduler over fake workers of the given operators (one worker per entry), on a networked gateway's dispatcher
   * (redundant copies span operators) or a lone gateway's.
   */
  private Generations scheduler(boolean networked, String... operators) throws Exception {
    workers.clear();
    for (String operator : operators) {
      FakeWorker w = new FakeWorker(64);
      w.operator = operator;
      await(ledger.register(w.workerId(), null));
      workers.add(w);
    }
    registry = new SimpleMeterRegistry();
    EngineMetrics metrics = new EngineMetrics(registry);
    WorkerCall.Factory calls = new WorkerCall.Factory(new ModelBlobs(Path.of("/nonexistent"), null),
        f -> Future.succeededFuture(new JsonObject().put("kind", f.spec().kind().wire())), metrics);
    Dispatcher dispatcher = new Dispatcher(() -> workers, id -> false);
    Generations g = new Generations(db.vertx(), networked ? dispatcher.networked(id -> Double.NaN) : dispatcher, calls,
        new TextMetrics(metrics));
    g.verifyWith(new RedundantText.Judge<>(new ConsensusVerifier<>(ledger, TokenAgreement.INSTANCE, new Random(1)),
        TokenAgreement.INSTANCE), new RedundantText.Judge<>(ConsensusVerifier.forTensors(ledger, new Random(1)),
        io.inferium.verifier.consensus.TensorAgreement.INSTANCE));
    return g;
  }

  private static JsonObject seeded() {
    return new JsonObject().put("prompt", "hi").put("params", new JsonObject().put("temperature", 0.8).put("seed", 7));
  }

  private static long in(long ms) {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
  }

  private FakeWorker fake(int i) {
    return (FakeWorker) workers.get(i);
  }

  private static void honest(FakeWorker w) throws InterruptedException {
    FakeWorker.Call c = w.awaitCall(1);
    w.token(c, 11, "a");
    w.token(c, 12, "b");
    w.finish(c, new int[] {11, 12});
  }

  private Map<String, Integer> slashes() {
    return await(ledger.list()).stream()
        .collect(Collectors.toMap(n -> n.getString("node_id"), n -> n.getInteger("slashes")));
  }

  /** Runs one seeded generation with workers 0 and 1 honest and worker 2 doing {@code liar}; returns the served text. */
  private String withLiar(java.util.function.Consumer<FakeWorker> liar) throws Exception {
    Generations g = generations(3);
    List<String> served = new CopyOnWriteArrayList<>();
    List<Integer> servedEarly = new ArrayList<>();
    Generations.Generation gen = g.submit(fn(), seeded(), in(10_000), chunks -> chunks.forEach(c -> served.add(c.text())));
    honest(fake(0));
    liar.accept(fake(2));
    Thread.sleep(50);
    servedEarly.add(served.size());
    honest(fake(1));
    Generations.Finished done = await(gen.future());
    assertEquals(0, servedEarly.get(0), "no token reaches the client before the majority agrees");
    for (int i = 0; i < 3; i++) {
      assertEquals(1, fake(i).calls.size(), "one run per worker: k distinct workers");
    }
    assertEquals("verified", done.verdict());
    assertEquals(2, gen.streamedTokens());
    return String.join("", served);
  }

  @Test
  void aLiarIsOutvotedNeverServedAndSlashed() throws Exception {
    assertEquals("ab", withLiar(w -> {
      try {
        FakeWorker.Call c = w.awaitCall(1);
        w.token(c, 11, "a");
        w.token(c, 99, "LIE");
        w.finish(c, new int[] {11, 99});
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }));
    String liar = fake(2).workerId();
    until("the liar is slashed once", () -> slashes().getOrDefault(liar, 0) == 1);
    assertEquals(0, slashes().get(fake(0).workerId()));
  }

  @Test
  void oneTokenMoreIsADisagreementToo() throws Exception {
    assertEquals("ab", withLiar(w -> {
      try {
        FakeWorker.Call c = w.awaitCall(1);
        w.token(c, 11, "a");
        w.token(c, 12, "b");
        w.token(c, 13, "c");
        w.finish(c, new int[] {11, 12, 13});
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }));
    String liar = fake(2).workerId();
    until("the longer answer is outvoted", () -> slashes().getOrDefault(liar, 0) == 1);
  }

  @Test
  void theRightIdsWithOtherTextAreADisagreement() throws Exception {
    // The ids are what the node signs, the text is what the client would read: both are compared.
    assertEquals("ab", withLiar(w -> {
      try {
        FakeWorker.Call c = w.awaitCall(1);
        w.token(c, 11, "a");
        w.token(c, 12, "LIE");
        w.finish(c, new int[] {11, 12});
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }));
    String liar = fake(2).workerId();
    until("the text liar is slashed", () -> slashes().getOrDefault(liar, 0) == 1);
  }

  @Test
  void aLateNodeDoesNotHoldTheAnswerOnceAMajorityAgrees() throws Exception {
    Generations g = generations(3);
    List<String> served = new CopyOnWriteArrayList<>();
    long t0 = System.nanoTime();
    Generations.Generation gen = g.submit(fn(), seeded(), in(30_000), chunks -> chunks.forEach(c -> served.add(c.text())));
    FakeWorker.Call late = fake(2).awaitCall(1); // started, never answers
    honest(fake(0));
    honest(fake(1));
    Generations.Finished done = await(gen.future());
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "answered long before the 30 s deadline");
    assertEquals("verified", done.verdict());
    assertEquals("ab", String.join("", served));
    assertEquals(false, late.cancelled(), "the late run goes on: it is still judged");
    // It ends later, with a lie: the client already has the majority's text, and the ledger still slashes it.
    fake(2).token(late, 11, "a");
    fake(2).token(late, 66, "z");
    fake(2).finish(late, new int[] {11, 66});
    until("the late liar is slashed all the same", () -> slashes().getOrDefault(fake(2).workerId(), 0) == 1);
  }

  @Test
  void unseededSamplingIsRefusedBeforeAnyRun() throws Exception {
    Generations g = generations(3);
    Generations.Generation gen = g.submit(fn(), new JsonObject().put("prompt", "hi")
        .put("params", new JsonObject().put("temperature", 0.8)), in(10_000), c -> { });
    Throwable e = failure(gen.future());
    assertInstanceOf(BadRequest.class, e);
    assertTrue(e.getMessage().startsWith("field 'seed'"), e.getMessage());
    Thread.sleep(50);
    workers.forEach(w -> assertEquals(0, ((FakeWorker) w).calls.size()));
  }

  @Test
  void twoWorkersThatDisagreeAreDisputedAndServeNothing() throws Exception {
    Generations g = generations(2);
    List<String> served = new CopyOnWriteArrayList<>();
    Generations.Generation gen = g.submit(fn(), seeded().put("params", new JsonObject().put("temperature", 0)), in(10_000),
        chunks -> chunks.forEach(c -> served.add(c.text())));
    honest(fake(0));
    FakeWorker.Call c = fake(1).awaitCall(1);
    fake(1).token(c, 5, "x");
    fake(1).finish(c, new int[] {5});
    Throwable e = failure(gen.future());
    WorkerFailure f = assertInstanceOf(WorkerFailure.class, e);
    assertEquals("disputed", f.code());
    assertEquals(List.of(), served, "no run's text is served without a majority");
  }

  private static FunctionRecord audited() {
    JsonObject spec = new JsonObject().put("name", "au").put("kind", "text-generation").put("timeout_ms", 60_000)
        .put("verification", new JsonObject().put("policy", "audit").put("p", 1.0));
    return new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, null, FunctionState.READY, null, new JsonObject(),
        null, null, null);
  }

  private double audits(String outcome) {
    io.micrometer.core.instrument.Counter c = registry.find("inferium.audits").tag("function", "au")
        .tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void anAuditReRunsTheServedGenerationOnOtherOperatorsAndCatchesTheLiarAfterItsAnswer() throws Exception {
    // A networked gateway: fake(1) shares the server's operator, so it is never its auditor.
    Generations g = scheduler(true, "op-a", "op-a", "op-b", "op-c");
    List<String> served = new CopyOnWriteArrayList<>();
    Generations.Generation gen = g.submit(audited(), seeded(), in(10_000), chunks -> chunks.forEach(c -> served.add(c.text())));
    FakeWorker.Call lie = fake(0).awaitCall(1);
    fake(0).token(lie, 11, "a");
    fake(0).token(lie, 99, "LIE");
    fake(0).finish(lie, new int[] {11, 99});
    Generations.Finished done = await(gen.future());
    assertEquals(fake(0).workerId(), done.workerId());
    assertEquals("aLIE", String.join("", served), "optimistic: the answer streams as the server made it");
    honest(fake(2));
    honest(fake(3));
    until("the audit catches the server", () -> audits("caught") == 1);
    until("the caught server is slashed", () -> slashes().getOrDefault(fake(0).workerId(), 0) == 1);
    assertEquals(0, slashes().get(fake(2).workerId()));
    assertEquals(0, fake(1).calls.size(), "no auditor of the server's own operator");
    assertEquals(List.of(), await(ledger.list()).stream()
        .filter(n -> n.getString("node_id").equals(fake(0).workerId())).flatMap(n -> n.getJsonArray("recent_events").stream())
        .map(JsonObject.class::cast).filter(e -> "slash".equals(e.getString("kind")) && !e.getString("task_id").endsWith("/audit"))
        .toList(), "the slash names the audit task");
  }

  @Test
  void onALoneGatewayATextAuditRunsOnTheOtherLocalWorkers() throws Exception {
    // Every local worker has the gateway's operator: auditing only across operators would skip every audit here.
    Generations g = generations(3);
    Generations.Generation gen = g.submit(audited(), seeded(), in(10_000), c -> { });
    FakeWorker.Call lie = fake(0).awaitCall(1);
    fake(0).token(lie, 99, "LIE");
    fake(0).finish(lie, new int[] {99});
    assertEquals(fake(0).workerId(), await(gen.future()).workerId());
    honest(fake(1));
    honest(fake(2));
    until("the audit runs on the two other local workers and catches it", () -> audits("caught") == 1);
    assertEquals(0.0, audits("skipped"));
  }

  /** One sequence at a time per worker; under {@code audit(1)}, or unverified (same model: the same queue). */
  private static FunctionRecord oneAtATime(boolean audited) {
    JsonObject spec = new JsonObject().put("name", audited ? "au" : "plain").put("kind", "text-generation")
        .put("timeout_ms", 60_000).put("text", new JsonObject().put("max_running_sequences", 1));
    if (audited) {
      spec.put("verification", new JsonObject().put("policy", "audit").put("p", 1.0));
    }
    return new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, null, FunctionState.READY, null, new JsonObject(),
        null, null, null);
  }

  private static JsonObject seeded(String prompt) {
    return seeded().put("prompt", prompt);
  }

  private static String prompt(FakeWorker.Call call) {
    return call.meta.getString("prompt");
  }

  private static void honest(FakeWorker w, FakeWorker.Call c) {
    w.token(c, 11, "a");
    w.token(c, 12, "b");
    w.finish(c, new int[] {11, 12});
  }

  /** Worker 0 serving an audited "one", and workers 1 and 2 then busy with unaudited "two" and "three". */
  private record Busy(FakeWorker liar, Generations.Generation one, FakeWorker.Call served, FakeWorker.Call two,
      FakeWorker.Call three) {

    /** Worker 0 answers "one" with a lie, and its client gets it. */
    void lie() throws Exception {
      liar.token(served, 99, "LIE");
      liar.finish(served, new int[] {99});
      await(one.future());
    }
  }

  private Busy busyWhileWorker0Serves(Generations g) throws Exception {
    FunctionRecord fn = oneAtATime(false);
    Generations.Generation one = g.submit(oneAtATime(true), seeded("one"), in(30_000), c -> { });
    FakeWorker.Call served = fake(0).awaitCall(1);
    g.submit(fn, seeded("two"), in(30_000), c -> { });
    g.submit(fn, seeded("three"), in(30_000), c -> { });
    return new Busy(fake(0), one, served, fake(1).awaitCall(1), fake(2).awaitCall(1));
  }

  @Test
  void aTextAuditTakesFreedWorkersAheadOfQueuedCallsButNeverHoldsBackACallItCannotUseTheWorkerFor() throws Exception {
    Generations g = generations(3);
    FunctionRecord fn = oneAtATime(false);
    Busy busy = busyWhileWorker0Serves(g);
    FakeWorker.Call two = busy.two();
    FakeWorker.Call three = busy.three();
    Generations.Generation four = g.submit(fn, seeded("four"), in(30_000), c -> { });

    // The liar answers while its peers are busy: its audit waits for them, and the worker it freed (which may not
    // audit itself) goes to the call queued behind the audit.
    busy.lie();
    assertEquals("four", prompt(fake(0).awaitCall(2)));
    g.submit(fn, seeded("five"), in(30_000), c -> { });

    // Each peer, as it frees, re-runs "one" before "five", queued earlier than that but after the audit.
    honest(fake(1), two);
    assertEquals("one", prompt(fake(1).awaitCall(2)));
    honest(fake(2), three);
    assertEquals("one", prompt(fake(2).awaitCall(2)));
    Thread.sleep(50);
    assertEquals(List.of(2, 2, 2), List.of(fake(0).calls.size(), fake(1).calls.size(), fake(2).calls.size()),
        "five waits for a worker");
    honest(fake(1), fake(1).calls.get(1));
    honest(fake(2), fake(2).calls.get(1));
    until("the liar is caught", () -> audits("caught") == 1);
    honest(fake(0), fake(0).calls.get(1));
    assertEquals(2, await(four.future()).completionTokens());
    until("then five runs", () -> workers.stream().anyMatch(w -> ((FakeWorker) w).calls.stream()
        .anyMatch(c -> "five".equals(prompt(c)))));
  }

  @Test
  void anAuditorThatLeavesBeforeItsRunStartsIsReplacedByAnotherDraw() throws Exception {
    Generations g = generations(3);
    Busy busy = busyWhileWorker0Serves(g);
    FakeWorker.Call two = busy.two();

    // The liar answers while both peers are busy: its audit's two runs are pinned to them and wait.
    busy.lie();
    Thread.sleep(100);
    // A new worker attaches and one drawn auditor leaves before its run could start: that run is drawn again.
    FakeWorker late = new FakeWorker(64);
    await(ledger.register(late.workerId(), null));
    workers.add(late);
    workers.remove(fake(2));
    assertEquals("one", prompt(late.awaitCall(1)), "the run pinned to the worker that left goes to the new one");
    honest(late, late.calls.get(0));
    honest(fake(1), two);
    assertEquals("one", prompt(fake(1).awaitCall(2)));
    honest(fake(1), fake(1).calls.get(1));
    until("the liar is caught", () -> audits("caught") == 1);
    assertEquals(0.0, audits("skipped"));
  }

  @Test
  void anEmbedderTheOwnerMayNoLongerCallFailsTheCallAndSlashesNobody() throws Exception {
    Generations g = generations(3);
    // The tenant's text function names an embedder that is now another tenant's private function.
    FunctionRecord embedder = new FunctionRecord(FunctionSpec.fromJson(new JsonObject().put("name", "emb")
        .put("kind", "embedding").put("visibility", "private")), 1, "d".repeat(64), 1, "tenant-b", FunctionState.READY,
        null, new JsonObject(), null, null, null);
    g.verifyWith(new RedundantText.Judge<>(new ConsensusVerifier<>(ledger, TokenAgreement.INSTANCE, new Random(1)),
        TokenAgreement.INSTANCE), new RedundantText.Judge<>(ConsensusVerifier.forTensors(ledger, new Random(1)),
        io.inferium.verifier.consensus.TensorAgreement.INSTANCE), new RedundantText.Judge<>(new ConsensusVerifier<>(ledger,
        io.inferium.verifier.consensus.SemanticAgreement.INSTANCE, new Random(1)),
        io.inferium.verifier.consensus.SemanticAgreement.INSTANCE), name -> Future.succeededFuture(java.util.Optional.of(embedder)));
    JsonObject spec = new JsonObject().put("name", "sem").put("kind", "text-generation").put("timeout_ms", 60_000)
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3)
            .put("similarity", new JsonObject().put("function", "emb").put("threshold", 0.9)));
    FunctionRecord fn = new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, "tenant-a", FunctionState.READY, null,
        new JsonObject(), null, null, null);
    List<String> served = new CopyOnWriteArrayList<>();
    Generations.Generation gen = g.submit(fn, new JsonObject().put("prompt", "hi")
        .put("params", new JsonObject().put("temperature", 0.8)), in(10_000), chunks -> chunks.forEach(c -> served.add(c.text())));
    for (int i = 0; i < 3; i++) {
      honest(fake(i));
    }
    Throwable e = failure(gen.future());
    WorkerFailure f = assertInstanceOf(WorkerFailure.class, e);
    assertEquals("similarity", f.code());
    assertTrue(f.getMessage().contains("'emb'"), f.getMessage());
    assertEquals(List.of(), served, "nothing unjudged is served");
    workers.forEach(w -> assertEquals(1, ((FakeWorker) w).calls.size(), "no embedding call went out"));
    for (Worker w : workers) {
      assertEquals(0, slashes().getOrDefault(w.workerId(), 0), "an embedder that is gone is nobody's lie");
    }
  }

  @Test
  void anAuditedEmbeddingIsComparedByCosineAfterItWasAnswered() throws Exception {
    Generations g = generations(3);
    fake(1).operator = "op-b";
    fake(2).operator = "op-c";
    JsonObject spec = new JsonObject().put("name", "au").put("kind", "embedding").put("timeout_ms", 60_000)
        .put("verification", new JsonObject().put("policy", "audit").put("p", 1.0).put("threshold", 0.99));
    FunctionRecord fn = new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, null, FunctionState.READY, null,
        new JsonObject(), null, null, null);
    Future<WorkerCall.Reply> answer = g.call(fn, WorkerCall.Kind.EMBED, new JsonObject().put("input",
        new io.vertx.core.json.JsonArray().add("x")), in(10_000));
    long[] shape = {1, 2};
    fake(0).answer(fake(0).awaitCall(1), List.of(io.inferium.functions.tensor.Tensors.fp32("embeddings", shape, 1f, 0f)));
    assertEquals(fake(0).workerId(), await(answer).workerId(), "answered at once by the server");
    for (int i = 1; i < 3; i++) {
      fake(i).answer(fake(i).awaitCall(1), List.of(io.inferium.functions.tensor.Tensors.fp32("embeddings", shape, 0f, 1f)));
    }
    until("orthogonal to both auditors' vectors: caught", () -> audits("caught") == 1);
    until("the caught server is slashed", () -> slashes().getOrDefault(fake(0).workerId(), 0) == 1);
  }

  @Test
  void anUnseededGenerationWithoutASimilarityEmbedderIsServedButNotAudited() throws Exception {
    Generations g = generations(3);
    fake(1).operator = "op-b";
    fake(2).operator = "op-c";
    Generations.Generation gen = g.submit(audited(), new JsonObject().put("prompt", "hi")
        .put("params", new JsonObject().put("temperature", 0.8)), in(10_000), c -> { });
    honest(fake(0));
    assertEquals(2, await(gen.future()).completionTokens());
    Thread.sleep(200);
    assertEquals(0, fake(1).calls.size() + fake(2).calls.size(), "nothing to compare it by: no audit run");
    assertEquals(0.0, audits("caught") + audits("clean") + audits("inconclusive") + audits("skipped"));
  }

  @Test
  void onANetworkedGatewayTheRunsGoToDistinctOperatorsNotJustDistinctNodes() throws Exception {
    Generations g = scheduler(true, "op-a", "op-a", "op-b", "op-c");
    Generations.Generation gen = g.submit(fn(), seeded(), in(10_000), chunks -> { });
    for (int i : new int[] {2, 3}) {
      honest(fake(i));
    }
    // One of op-a's two nodes runs the third copy, never both.
    FakeWorker first = fake(0);
    FakeWorker second = fake(1);
    io.inferium.infra.testing.Eventually.until("op-a's copy to start", java.time.Duration.ofSeconds(10),
        () -> first.calls.size() + second.calls.size() == 1);
    honest(first.calls.isEmpty() ? second : first);
    assertEquals("verified", await(gen.future()).verdict());
    Thread.sleep(50);
    assertEquals(1, first.calls.size() + second.calls.size(), "one run per operator");
  }

  @Test
  void aTextFunctionThatNoWorkerCanEverHostIsRefusedAtOnceNamingItsRequires() throws Exception {
    Generations g = scheduler(true, "op-a", "op-b", "op-c");
    JsonObject spec = new JsonObject().put("name", "gpu-chat").put("kind", "text-generation").put("timeout_ms", 60_000)
        .put("requires", new JsonObject().put("gpu", true));
    FunctionRecord fn = new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, null, FunctionState.READY, null,
        new JsonObject(), null, null, null);
    long start = System.nanoTime();
    Throwable e = failure(g.submit(fn, seeded(), in(60_000), chunks -> { }).future());
    assertInstanceOf(io.inferium.engine.failure.NoWorkerAvailable.class, e);
    assertTrue(e.getMessage().contains("requires {\"gpu\":true}"), e.getMessage());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "not after the deadline");
    for (int i = 0; i < 3; i++) {
      assertEquals(0, fake(i).calls.size());
    }
  }
}
