package io.inferium.engine.mempool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.FakeWorker;
import io.inferium.engine.gateway.Worker;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.inferium.infra.testing.Eventually;
import io.inferium.infra.testing.MigratedDatabase;
import io.inferium.verifier.LedgerSettings;
import io.inferium.verifier.NodeLedger;
import io.inferium.verifier.consensus.ConsensusVerifier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Audits under load, against in-memory fake workers and the real ledger on PostgreSQL: an audit whose auditors are
 * busy waits for them and takes each the moment it frees, ahead of queued client work, so a liar that answers while
 * its peers are busy is still audited and caught; the wait is bounded by the function's time limit and by how many
 * audits may wait at once, and what it gives up is counted as skipped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WaitingAuditsTest {

  private static final String SHA = "a".repeat(64);
  private static final ModelSignature SIG = new ModelSignature(
      List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 2})),
      List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 2})));

  private MigratedDatabase db;
  private NodeLedger ledger;
  private Vertx vertx;
  private final List<Worker> workers = new CopyOnWriteArrayList<>();
  private SimpleMeterRegistry registry;

  @BeforeAll
  void open() {
    db = MigratedDatabase.open();
    ledger = new NodeLedger(db.database().pool(), LedgerSettings.defaults(), new SimpleMeterRegistry());
  }

  @AfterAll
  void closeDatabase() throws Exception {
    db.close();
  }

  @AfterEach
  void close() {
    if (vertx != null) {
      vertx.close().await();
    }
    workers.clear();
  }

  /** A function under {@code audit(1)}: every answered batch is audited. */
  private static FunctionRecord fn(int timeoutMs) {
    JsonObject spec = new JsonObject().put("name", "audited").put("timeout_ms", timeoutMs)
        .put("verification", new JsonObject().put("policy", "audit").put("p", 1.0));
    return new FunctionRecord(FunctionSpec.fromJson(spec), 1, SHA, 1, null, FunctionState.READY, null,
        new JsonObject(), SIG, null, null);
  }

  private Mempool mempool() {
    vertx = Vertx.vertx();
    registry = new SimpleMeterRegistry();
    EngineMetrics metrics = new EngineMetrics(registry);
    WorkerCall.Factory calls = new WorkerCall.Factory(new ModelBlobs(Path.of("/nonexistent"), null),
        f -> Future.succeededFuture(new JsonObject()), metrics);
    return new Mempool(vertx, new Dispatcher(() -> workers, id -> false), calls, metrics,
        ConsensusVerifier.forTensors(ledger, new Random(3)));
  }

  /** A fake worker taking at most {@code maxOutstanding} calls at once, known to the ledger, attached now. */
  private FakeWorker attach(int maxOutstanding) throws Exception {
    FakeWorker w = new FakeWorker(maxOutstanding);
    ledger.register(w.workerId(), null).await(30, TimeUnit.SECONDS);
    workers.add(w);
    return w;
  }

  /** A request under the function's {@code audit(1)}. */
  private static QueuedRequest submit(Mempool m, FunctionRecord f, float value) {
    return submit(m, f, value, null);
  }

  /** A request whose caller asked for no verification: never audited. */
  private static QueuedRequest unaudited(Mempool m, FunctionRecord f, float value) {
    return submit(m, f, value, FunctionSpec.Verification.NONE);
  }

  private static QueuedRequest submit(Mempool m, FunctionRecord f, float value, FunctionSpec.Verification v) {
    return m.submit(null, f, List.of(Tensors.fp32("x", new long[] {1, 2}, value, value)), List.of(), 0,
        System.nanoTime() + TimeUnit.SECONDS.toNanos(30), v);
  }

  /** Answers as an identity model would, or, lying, with {@code lie} and its negation. */
  private static void answer(FakeWorker w, FakeWorker.Call call, Float lie) {
    Tensor x = call.tensors.get(0);
    w.answer(call, List.of(lie == null ? new Tensor("y", x.type(), x.shape(), x.view())
        : Tensors.fp32("y", x.shape(), lie, -lie)));
  }

  private static float first(FakeWorker.Call call) {
    return Tensors.toFloatArray(call.tensors.get(0))[0];
  }

  private double audits(String outcome) {
    Counter c = registry.find("inferium.audits").tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  private double waitingGauge() {
    return registry.get("inferium.audits.waiting").gauge().value();
  }

  private int slashes(String nodeId) {
    return Eventually.await(db.database().pool().preparedQuery("SELECT slashes FROM nodes WHERE node_id = $1")
        .execute(Tuple.of(nodeId))).iterator().next().getInteger("slashes");
  }

  /** The one worker among {@code ws} that has exactly {@code n} calls, waiting for it. */
  private static FakeWorker withCalls(List<FakeWorker> ws, int n) {
    return Eventually.value("a worker with " + n + " calls", Duration.ofSeconds(5),
        () -> ws.stream().filter(w -> w.calls.size() == n).findFirst().orElse(null), w -> w != null);
  }

  /** Two peers, each then holding an unaudited call of {@code f}, and a server with room for {@code slots} calls. */
  private FakeWorker busyPeersThenServer(Mempool m, FunctionRecord f, int slots) throws Exception {
    List<FakeWorker> busy = List.of(attach(1), attach(1));
    unaudited(m, f, 1);
    unaudited(m, f, 2);
    Eventually.until("both peers hold a call", () -> busy.stream().allMatch(w -> w.calls.size() == 1));
    return attach(slots);
  }

  /** Answers the server's calls from the {@code first}th on as an identity model would, then waits for the requests. */
  private static void serve(FakeWorker server, int first, List<QueuedRequest> requests) throws Exception {
    server.awaitCall(first + requests.size());
    for (int i = 0; i < requests.size(); i++) {
      answer(server, server.calls.get(first + i), null);
    }
    for (QueuedRequest r : requests) {
      Eventually.await(r.future());
    }
  }

  @Test
  void aLiarAnsweringWhileItsPeersAreBusyIsAuditedOnThemAsTheyFreeAheadOfQueuedClients() throws Exception {
    Mempool m = mempool();
    List<FakeWorker> all = List.of(attach(1), attach(1), attach(1));
    FunctionRecord f = fn(60_000);
    QueuedRequest a = submit(m, f, 1);
    FakeWorker liar = withCalls(all, 1);
    QueuedRequest b = unaudited(m, f, 2);
    QueuedRequest c = unaudited(m, f, 3);
    Eventually.until("every worker holds a call", () -> all.stream().allMatch(w -> w.calls.size() == 1));
    List<FakeWorker> peers = all.stream().filter(w -> w != liar).toList();
    QueuedRequest d = unaudited(m, f, 4);

    // The liar answers while both peers are busy: the client gets the lie (audits are optimistic) ...
    answer(liar, liar.calls.get(0), 99f);
    assertEquals(99f, Tensors.toFloatArray(Eventually.await(a.future()).outputs().get(0))[0]);
    // ... the freed liar takes the queued client call, and the audit waits instead of being skipped.
    assertEquals(4f, first(liar.awaitCall(2)));
    Eventually.until("the audit waits for its auditors", () -> waitingGauge() == 1);
    assertEquals(0, audits("skipped"));
    QueuedRequest e = unaudited(m, f, 5);

    // Each peer, as it frees, re-runs the lie's inputs before the client call queued behind it.
    FakeWorker x = peers.get(0);
    FakeWorker y = peers.get(1);
    answer(x, x.calls.get(0), null);
    assertEquals(1f, first(x.awaitCall(2)), "the freed worker audits first");
    answer(y, y.calls.get(0), null);
    assertEquals(1f, first(y.awaitCall(2)), "the second auditor too");
    Eventually.until("the audit has all its auditors", () -> waitingGauge() == 0);
    assertEquals(List.of(2f, 3f), List.of(Tensors.toFloatArray(Eventually.await(b.future()).outputs().get(0))[0],
        Tensors.toFloatArray(Eventually.await(c.future()).outputs().get(0))[0]));
    assertTrue(all.stream().noneMatch(w -> w.calls.stream().anyMatch(call -> first(call) == 5f)),
        "the client call queued after the audit waits for it");

    answer(x, x.calls.get(1), null);
    answer(y, y.calls.get(1), null);
    Eventually.value("the audit is judged", Duration.ofSeconds(10),
        () -> List.of(audits("caught"), audits("clean"), audits("inconclusive"), audits("skipped")),
        v -> v.get(0) == 1);
    Eventually.until("the outvoted liar is slashed", () -> slashes(liar.workerId()) == 1);
    assertEquals(0, slashes(x.workerId()) + slashes(y.workerId()));

    // Then the client call runs; nothing was lost.
    FakeWorker runsE = Eventually.value("the last client call to run", Duration.ofSeconds(5),
        () -> all.stream().filter(w -> w.calls.stream().anyMatch(call -> first(call) == 5f)).findFirst().orElse(null),
        w -> w != null);
    answer(runsE, runsE.calls.stream().filter(call -> first(call) == 5f).findFirst().orElseThrow(), null);
    answer(liar, liar.calls.get(1), null);
    assertEquals(5f, Tensors.toFloatArray(Eventually.await(e.future()).outputs().get(0))[0]);
    assertEquals(4f, Tensors.toFloatArray(Eventually.await(d.future()).outputs().get(0))[0]);
  }

  @Test
  void anAuditNoAuditorFreesForWithinTheFunctionsTimeLimitIsSkippedAndNeverStarts() throws Exception {
    Mempool m = mempool();
    List<FakeWorker> all = List.of(attach(1), attach(1), attach(1));
    FunctionRecord f = fn(300);
    submit(m, f, 1);
    FakeWorker server = withCalls(all, 1);
    unaudited(m, f, 2);
    unaudited(m, f, 3);
    Eventually.until("every worker holds a call", () -> all.stream().allMatch(w -> w.calls.size() == 1));
    answer(server, server.calls.get(0), null);
    Eventually.until("the audit waits", () -> waitingGauge() == 1);
    Eventually.until("the audit gives up at the function's time limit and is skipped", () -> audits("skipped") == 1);
    assertEquals(0, waitingGauge());
    for (FakeWorker w : all) {
      if (w != server) {
        answer(w, w.calls.get(0), null);
      }
    }
    Thread.sleep(200);
    assertTrue(all.stream().allMatch(w -> w.calls.size() == 1), "an audit that gave up never starts later");
    assertEquals(0, audits("clean") + audits("caught") + audits("inconclusive"));
  }

  @Test
  void atMostSixtyFourAuditsOfAFunctionWaitHoldingBoundedBytesAndALoneWorkerIsNeverWaitedFor() throws Exception {
    Mempool m = mempool();
    FunctionRecord f = fn(60_000);
    FakeWorker server = busyPeersThenServer(m, f, 128);
    int n = WaitingAudits.MAX_PER_FUNCTION + 6;
    List<QueuedRequest> served = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      served.add(submit(m, f, 10 + i));
    }
    serve(server, 0, served);
    Eventually.until("the audits over the bound are skipped", () -> audits("skipped") == 6);
    assertEquals(WaitingAudits.MAX_PER_FUNCTION, waitingGauge(), "the rest wait");

    // And by the bytes of inputs they hold: here room for three requests' inputs (8 bytes each).
    close();
    Mempool small = mempool();
    small.waitingAudits().maxBytes(24);
    List<FakeWorker> held = List.of(attach(1), attach(1));
    unaudited(small, f, 1);
    unaudited(small, f, 2);
    Eventually.until("both peers hold a call", () -> held.stream().allMatch(w -> w.calls.size() == 1));
    FakeWorker serves = attach(16);
    for (int i = 0; i < 5; i++) {
      QueuedRequest r = submit(small, f, 10 + i);
      answer(serves, serves.awaitCall(i + 1), null);
      Eventually.await(r.future());
    }
    Eventually.until("the audits over the byte budget are skipped", () -> audits("skipped") == 2);
    assertEquals(3, waitingGauge());

    // A function whose only worker served it: nobody could audit it, so it is skipped at once.
    close();
    Mempool lone = mempool();
    FakeWorker only = attach(4);
    QueuedRequest r = submit(lone, f, 1);
    answer(only, only.awaitCall(1), null);
    Eventually.await(r.future());
    Eventually.until("the audit is skipped", () -> audits("skipped") == 1);
    assertEquals(0, waitingGauge());
  }

  @Test
  void aCallerAskingForManyAuditsFillsOnlyItsHalfAndTheAuditsThePolicyOwesStillWait() throws Exception {
    Mempool m = mempool();
    FunctionRecord f = fn(60_000);
    FakeWorker server = busyPeersThenServer(m, f, 256);

    // One caller asks for an audit of every answer (its own policy: another threshold than the function's).
    FunctionSpec.Verification own = new FunctionSpec.Verification("audit", 1, 0.99, 1.0);
    int half = WaitingAudits.MAX_PER_FUNCTION / 2;
    int flood = half + 5;
    List<QueuedRequest> asked = new ArrayList<>();
    for (int i = 0; i < flood; i++) {
      asked.add(submit(m, f, 10 + i, own));
    }
    serve(server, 0, asked);
    Eventually.until("the caller's audits beyond half the places are skipped", () -> audits("skipped") == 5);
    assertEquals(half, waitingGauge());

    // Other callers' answers, audited under the function's own policy, still find room to wait for their auditors.
    int others = 10;
    List<QueuedRequest> owed = new ArrayList<>();
    for (int i = 0; i < others; i++) {
      owed.add(submit(m, f, 100 + i));
    }
    serve(server, flood, owed);
    Eventually.until("every audit the policy owes waits", () -> waitingGauge() == half + others);
    assertEquals(5, audits("skipped"), "none of them was skipped");
  }
}
