package io.inferium.engine.gateway;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Attestation;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the schedulers and {@link WorkerCall} need from one worker: its identity, what it has loaded,
 * how busy it is, and a way to send it a request that can be withdrawn. {@link WorkerLink} is the real
 * one (a worker process over its socket); scheduler unit tests use an in-memory fake.
 */
public interface Worker {

  /** The node id, derived from the worker's public key. */
  String workerId();

  /** Whether the model is loaded (or known loaded from the last heartbeat). */
  boolean hasLoaded(String sha256);

  /** Whether a call for this model must load it first (a cold start). */
  boolean needsLoad(String sha256);

  /**
   * What is in flight on it (tensor batches and other calls; running generations together as one
   * place), counted on the dispatching side when a call is reserved. The scheduling predicates below
   * read it.
   */
  InFlight inFlight();

  /** The operator the gateway's own (local) workers count as, for redundancy across operators. */
  String LOCAL_OPERATOR = "gateway";

  /** Whose node this is: a remote node's operator (its operator key's id), {@link #LOCAL_OPERATOR} for local workers. */
  default String operator() {
    return LOCAL_OPERATOR;
  }

  /** What the worker said it has ({@code capabilities} of its hello: cores, memory_bytes, gpu, ...); empty if unknown. */
  default JsonObject capabilities() {
    return new JsonObject();
  }

  /** Recent call latency (an exponentially weighted mean, microseconds); 0 before its first call. */
  default long recentLatencyMicros() {
    return 0;
  }

  /** Run slots the worker declared ({@code capabilities.slots} of its hello); 0 when it did not say. */
  int slots();

  /** Whether its in-flight limit is reached (no further tensor batch now). */
  default boolean saturated() {
    return inFlight().full();
  }

  /**
   * Whether every one of its run slots already has a call (tensor batch, embedding, score) in flight, so
   * that a batch sent now would wait in the worker's own queue. The tensor scheduler then keeps a batch
   * that could still grow at the gateway, where requests arriving meanwhile join it. Generations do not
   * count: they advance in their own decode loop, and a batch must not starve behind them. False when
   * the worker did not say how many slots it has.
   */
  default boolean slotsBusy() {
    return slots() > 0 && inFlight().calls() >= slots();
  }

  /** Calls reserved on it and not yet released. */
  default int reserved() {
    return inFlight().reserved();
  }

  /** Counts a call against the in-flight limit until {@link #release()}. */
  default void reserve() {
    inFlight().reserveCall();
  }

  default void release() {
    inFlight().releaseCall();
  }

  /**
   * Counts a generation until {@link #releaseGeneration()}. A worker advances all its running
   * generations together, one decode step at a time, so together they take one place of the in-flight
   * limit (tensor batches and other calls still get the rest); each counts in {@link #reserved()}, so
   * the least-loaded worker is still preferred. Their own bound is the function's
   * {@code max_running_sequences}, kept by the generation scheduler.
   */
  default void reserveGeneration() {
    inFlight().reserveGeneration();
  }

  default void releaseGeneration() {
    inFlight().releaseGeneration();
  }

  /** A call of this model starts: it is in use (never unloaded for idleness) until {@link #endUse}. */
  void beginUse(String sha256);

  void endUse(String sha256);

  /** Loads a model once (concurrent callers share the load); the result carries the hash the worker attests. */
  Future<WorkerLink.LoadedModel> ensureLoaded(String sha256, Path path, JsonObject extra);

  /** Drops a model. */
  Future<Void> unload(String sha256);

  /** The worker's claims and the key that signs its results. */
  Attestation attestation();

  /**
   * Sends one request; {@code onToken} (null for a single reply) sees each streamed token before the
   * reply. The returned handle withdraws it.
   */
  Sent send(FrameType type, JsonObject meta, List<Tensor> tensors, Consumer<WorkerLink.Token> onToken);

  /** A request on its way to a worker. */
  interface Sent {

    /** The worker's reply frame, or its failure ({@code WorkerFailure}, or the cancel). */
    Future<Frame> reply();

    /**
     * Withdraws the request: the worker is told to stop. {@code nodeAtFault} when a deadline passed
     * (the node must stop within its grace or be charged), false when the cause is not the node's
     * (the client left, the request was answered elsewhere).
     */
    void cancel(String why, boolean nodeAtFault);
  }
}
