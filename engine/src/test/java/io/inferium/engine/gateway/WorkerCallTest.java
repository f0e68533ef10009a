package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.tensor.Tensors;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one worker call: reservation symmetry, withdrawal before sending, attestation. */
class WorkerCallTest {

  private static final String SHA = "d".repeat(64);

  private static FunctionRecord fn(String kind) {
    return new FunctionRecord(FunctionSpec.fromJson(new JsonObject().put("name", "t").put("kind", kind)), 1, SHA, 1,
        null, FunctionState.READY, null, new JsonObject(), null, null, null);
  }

  private static WorkerCall.Factory factory(WorkerCall.LoadFields fields) {
    return new WorkerCall.Factory(new ModelBlobs(Path.of("/nonexistent"), null), fields,
        new EngineMetrics(new SimpleMeterRegistry()));
  }

  @Test
  void aCallWithdrawnWhileItsModelLoadsIsNeverSent() {
    FakeWorker w = new FakeWorker(4);
    Promise<JsonObject> manifest = Promise.promise();
    WorkerCall call = factory(f -> manifest.future())
        .start(w, fn("embedding"), WorkerCall.Kind.EMBED, new JsonObject(), List.of(), null);
    assertEquals(1, w.reserved(), "reserved from the start");
    call.cancel("the client left", false);
    manifest.complete(new JsonObject());
    assertTrue(call.future().failed());
    assertInstanceOf(WorkerLink.Cancelled.class, call.future().cause());
    assertEquals(0, w.calls.size(), "the worker never hears of it");
    assertEquals(0, w.reserved());
    assertEquals(0, w.inUse(SHA));
  }

  @Test
  void aTensorCallNeedsNoBundleFieldsAndASignedAnswerPasses() {
    FakeWorker w = new FakeWorker(4);
    WorkerCall call = factory(f -> Future.failedFuture(new AssertionError("a tensor model has no bundle")))
        .start(w, fn("tensor"), WorkerCall.Kind.INFER, new JsonObject(), List.of(), null);
    FakeWorker.Call sent = w.calls.get(0);
    assertEquals(SHA, sent.meta.getString("sha256"));
    w.answer(sent, List.of(Tensors.fp32("y", new long[] {1}, 2f)));
    assertTrue(call.future().succeeded(), String.valueOf(call.future().cause()));
    assertTrue(call.future().result().coldStart());
    assertEquals(w.workerId(), call.future().result().workerId());
    assertEquals(0, w.reserved());
  }

  @Test
  void runningGenerationsTakeOnePlaceOfTheInFlightLimitTogether() {
    FakeWorker w = new FakeWorker(2);
    WorkerCall.Factory calls = factory(f -> Future.succeededFuture(new JsonObject()));
    List<WorkerCall> running = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      running.add(calls.start(w, fn("text-generation"), WorkerCall.Kind.GENERATE, new JsonObject(), List.of(), t -> { }));
    }
    assertEquals(5, w.reserved(), "each generation counts towards picking the least-loaded worker");
    assertTrue(!w.saturated(), "five generations in one decode loop leave room for a tensor batch");
    WorkerCall batch = calls.start(w, fn("tensor"), WorkerCall.Kind.INFER, new JsonObject(), List.of(), null);
    assertTrue(w.saturated(), "the decode loop and one batch fill an in-flight limit of two");
    w.answer(w.calls.get(5), List.of(Tensors.fp32("y", new long[] {1}, 2f)));
    assertTrue(batch.future().succeeded(), String.valueOf(batch.future().cause()));
    running.forEach(c -> c.cancel("the test ends", false));
    assertEquals(0, w.reserved(), "every reservation released");
    assertTrue(!w.saturated());
  }

  @Test
  void aWorkerThatLoadsAnotherModelIsRefusedBeforeAnythingIsSent() {
    FakeWorker honest = new FakeWorker(4);
    Worker liar = new ForwardingWorker(honest) {
      @Override
      public Future<WorkerLink.LoadedModel> ensureLoaded(String sha256, Path path, JsonObject extra) {
        return Future.succeededFuture(new WorkerLink.LoadedModel("e".repeat(64), 1, null, List.of(), null));
      }
    };
    WorkerCall call = factory(f -> Future.succeededFuture(new JsonObject()))
        .start(liar, fn("tensor"), WorkerCall.Kind.INFER, new JsonObject(), List.of(), null);
    assertTrue(call.future().cause() instanceof WorkerFailure wf && wf.code().equals("attestation_failed"));
    assertEquals(0, honest.calls.size());
    assertEquals(0, honest.reserved());
  }

  /** Delegates everything to another worker (to override one behaviour). */
  private static class ForwardingWorker implements Worker {
    private final Worker to;

    ForwardingWorker(Worker to) {
      this.to = to;
    }

    @Override public String workerId() { return to.workerId(); }
    @Override public boolean hasLoaded(String sha256) { return to.hasLoaded(sha256); }
    @Override public boolean needsLoad(String sha256) { return to.needsLoad(sha256); }
    @Override public InFlight inFlight() { return to.inFlight(); }
    @Override public int slots() { return to.slots(); }
    @Override public void beginUse(String sha256) { to.beginUse(sha256); }
    @Override public void endUse(String sha256) { to.endUse(sha256); }
    @Override public Future<WorkerLink.LoadedModel> ensureLoaded(String sha256, Path path, JsonObject extra) {
      return to.ensureLoaded(sha256, path, extra);
    }
    @Override public Future<Void> unload(String sha256) { return to.unload(sha256); }
    @Override public io.inferium.verifier.Attestation attestation() { return to.attestation(); }
    @Override public Sent send(io.inferium.functions.protocol.FrameType type, JsonObject meta,
        List<io.inferium.functions.tensor.Tensor> tensors, java.util.function.Consumer<WorkerLink.Token> onToken) {
      return to.send(type, meta, tensors, onToken);
    }
  }
}
