package io.inferium.engine.gateway;

import io.inferium.engine.failure.WorkerFailure;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Attestation;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.seal.OutputHash;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An in-memory worker for scheduler tests: it records every request it is sent and answers only when
 * the test says so, losing requests like a dead process, or ignoring them like a hung one. Signatures
 * are the link's business (result seals, checked by {@link WorkerLink}: ResultWindowTest, SealIT), so
 * the fake's answers need none to be accepted.
 */
public final class FakeWorker implements Worker {

  /** One request the fake was sent. */
  public static final class Call {
    public final FrameType type;
    public final JsonObject meta;
    public final List<Tensor> tensors;
    final long id;
    final Consumer<WorkerLink.Token> onToken;
    final Promise<Frame> reply = Promise.promise();
    public volatile String cancelledWhy;
    public volatile Boolean cancelledNodeAtFault;

    Call(long id, FrameType type, JsonObject meta, List<Tensor> tensors, Consumer<WorkerLink.Token> onToken) {
      this.id = id;
      this.type = type;
      this.meta = meta;
      this.tensors = tensors;
      this.onToken = onToken;
    }

    public boolean cancelled() {
      return cancelledWhy != null;
    }
  }

  private final NodeKeys keys = NodeKeys.generate();
  private final Attestation attestation = new Attestation(keys.nodeId(), "test", "code", keys.publicKey());
  private final InFlight inFlight;
  private final Map<String, AtomicInteger> inUse = new ConcurrentHashMap<>();
  private final Set<String> loaded = ConcurrentHashMap.newKeySet();
  private final AtomicLong ids = new AtomicLong();
  public final List<Call> calls = new CopyOnWriteArrayList<>();

  /** Placement tests: whose node it is, what it says it has, its recent latency. */
  public volatile String operator = LOCAL_OPERATOR;
  public volatile JsonObject capabilities = new JsonObject();
  public volatile long latencyMicros;

  @Override
  public String operator() {
    return operator;
  }

  @Override
  public JsonObject capabilities() {
    return capabilities;
  }

  @Override
  public long recentLatencyMicros() {
    return latencyMicros;
  }

  /** Run slots, for {@link #slotsBusy()}; 0 = not said (never busy). */
  private final int slots;

  public FakeWorker(int maxOutstanding) {
    this(maxOutstanding, 0);
  }

  public FakeWorker(int maxOutstanding, int slots) {
    this.inFlight = new InFlight(maxOutstanding);
    this.slots = slots;
  }

  @Override
  public InFlight inFlight() {
    return inFlight;
  }

  @Override
  public int slots() {
    return slots;
  }

  @Override
  public String workerId() {
    return keys.nodeId();
  }

  @Override
  public boolean hasLoaded(String sha256) {
    return loaded.contains(sha256);
  }

  @Override
  public boolean needsLoad(String sha256) {
    return !loaded.contains(sha256);
  }

  @Override
  public void beginUse(String sha256) {
    inUse.computeIfAbsent(sha256, k -> new AtomicInteger()).incrementAndGet();
  }

  @Override
  public void endUse(String sha256) {
    inUse.get(sha256).decrementAndGet();
  }

  /** Calls of this model between beginUse and endUse. */
  public int inUse(String sha256) {
    AtomicInteger n = inUse.get(sha256);
    return n == null ? 0 : n.get();
  }

  @Override
  public Future<WorkerLink.LoadedModel> ensureLoaded(String sha256, Path path, JsonObject extra) {
    loaded.add(sha256);
    return Future.succeededFuture(new WorkerLink.LoadedModel(sha256, 1, null, List.of(), null));
  }

  @Override
  public Future<Void> unload(String sha256) {
    loaded.remove(sha256);
    return Future.succeededFuture();
  }

  @Override
  public Attestation attestation() {
    return attestation;
  }

  @Override
  public Sent send(FrameType type, JsonObject meta, List<Tensor> tensors, Consumer<WorkerLink.Token> onToken) {
    Call call = new Call(ids.incrementAndGet(), type, meta, tensors, onToken);
    calls.add(call);
    return new Sent() {
      @Override
      public Future<Frame> reply() {
        return call.reply.future();
      }

      @Override
      public void cancel(String why, boolean nodeAtFault) {
        call.cancelledWhy = why;
        call.cancelledNodeAtFault = nodeAtFault;
        call.reply.tryFail(new WorkerLink.Cancelled(why, nodeAtFault));
      }
    };
  }

  /** Waits until at least {@code n} requests arrived; returns the {@code n}-th (1-based). */
  public Call awaitCall(int n) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (calls.size() < n) {
      if (System.nanoTime() > end) {
        throw new AssertionError("worker got " + calls.size() + " requests, expected " + n);
      }
      Thread.sleep(2);
    }
    return calls.get(n - 1);
  }

  /** Answers with these tensors, signed by this node over exactly them. */
  public void answer(Call call, List<Tensor> outputs) {
    String sha = call.meta.getString("sha256");
    JsonObject meta = new JsonObject().put("compute_us", 7L)
        .put("signature", keys.sign(NodeKeys.resultMessage(call.id, sha, OutputHash.of(outputs))));
    call.reply.tryComplete(new Frame(FrameType.RESULT, call.id, meta, outputs));
  }

  /** Streams one token of choice 0. */
  public void token(Call call, int id, String text) {
    call.onToken.accept(new WorkerLink.Token(0, id, text, 3));
  }

  /** Ends a generation of one choice; the signature covers {@code signedTokens} (the streamed ones, unless lying). */
  public void finish(Call call, int[] signedTokens) {
    String sha = call.meta.getString("sha256");
    JsonObject meta = new JsonObject().put("prompt_tokens", 3).put("completion_tokens", signedTokens.length)
        .put("compute_us", 9L)
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("finish_reason", "stop")
            .put("completion_tokens", signedTokens.length)))
        .put("signature", keys.sign(NodeKeys.resultMessage(call.id, sha, OutputHash.ofTokens(List.of(signedTokens)))));
    call.reply.tryComplete(new Frame(FrameType.RESULT, call.id, meta, List.of()));
  }

  /** The process died holding this request. */
  public void lose(Call call) {
    call.reply.tryFail(new WorkerFailure(WorkerFailure.LOST, "worker " + workerId() + " was lost: killed by the test"));
  }

  /** Answers with an error frame. */
  public void fail(Call call, String code) {
    call.reply.tryFail(new WorkerFailure(code, "the runtime said " + code));
  }
}
