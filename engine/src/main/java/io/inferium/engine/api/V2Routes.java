package io.inferium.engine.api;

import io.inferium.engine.completions.Completions;
import io.inferium.engine.completions.Digests;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.engine.mempool.Mempool;
import io.inferium.engine.mempool.QueuedRequest;
import io.inferium.functions.CompletionEvent;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionState;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * KServe Open Inference Protocol v2 over REST: server and model metadata, readiness, and
 * {@code infer} with JSON tensors. Tensors are checked against the model's signature here, so a
 * wrong name, datatype or shape is a 400 naming the input and never reaches a worker.
 */
final class V2Routes {

  static final String SERVER_NAME = "inferium";

  private final FunctionStore store;
  private final Mempool mempool;
  private final EngineMetrics metrics;
  private final BooleanSupplier workersReady;
  private final Limits limits;
  private final String version;

  private final Completions completions;

  V2Routes(FunctionStore store, Mempool mempool, EngineMetrics metrics, BooleanSupplier workersReady, String version,
      Limits limits, Completions completions) {
    this.completions = completions;
    this.limits = limits;
    this.store = store;
    this.mempool = mempool;
    this.metrics = metrics;
    this.workersReady = workersReady;
    this.version = version;
  }

  /**
   * The protocol extensions served, under Triton's names so its clients find them: the binary tensor data
   * extension ({@code Inference-Header-Content-Length}, {@code binary_data}) is the only one.
   */
  static final JsonArray EXTENSIONS = new JsonArray().add("binary_tensor_data");

  /** Health routes, open to all; readiness is 503 while the database or every worker is away, or while draining. */
  void mountPublic(Router router, io.vertx.sqlclient.Pool pool, java.util.function.BooleanSupplier draining) {
    router.get("/v2/health/live").handler(ctx -> FunctionRoutes.json(ctx, 200, new JsonObject().put("live", true)));
    router.get("/v2/health/ready").handler(ctx -> pool.query("SELECT 1").execute().onComplete(ar -> {
      boolean db = ar.succeeded();
      boolean workers = workersReady.getAsBoolean();
      boolean leaving = draining.getAsBoolean();
      boolean ready = db && workers && !leaving;
      JsonObject body = new JsonObject().put("ready", ready).put("database", db).put("workers", workers);
      if (leaving) {
        body.put("draining", true);
      }
      FunctionRoutes.json(ctx, ready ? 200 : 503, body);
    }));
  }

  void mount(Router router, long maxRequestBytes) {
    router.get("/v2").handler(ctx -> FunctionRoutes.json(ctx, 200, new JsonObject()
        .put("name", SERVER_NAME).put("version", version).put("extensions", EXTENSIONS.copy())));
    router.get("/v2/models/:name").handler(ctx -> metadata(ctx, null));
    router.get("/v2/models/:name/versions/:version").handler(ctx -> metadata(ctx, FunctionRoutes.version(ctx)));
    router.get("/v2/models/:name/ready").handler(ctx -> ready(ctx, null));
    router.get("/v2/models/:name/versions/:version/ready").handler(ctx -> ready(ctx, FunctionRoutes.version(ctx)));
    BodyHandler body = LimitedBodyHandler.create(false).setBodyLimit(maxRequestBytes);
    router.post("/v2/models/:name/infer").handler(body).handler(ctx -> infer(ctx, null));
    router.post("/v2/models/:name/versions/:version/infer").handler(body).handler(ctx -> infer(ctx, FunctionRoutes.version(ctx)));
  }

  /** The version a request names, or the latest ready one (falling back to the latest, for its error). */
  Future<FunctionRecord> resolve(RoutingContext ctx, String name, Integer version) {
    Future<Optional<FunctionRecord>> found = version != null ? store.version(name, version)
        : store.latestReady(name).compose(r -> r.isPresent() ? Future.succeededFuture(r) : store.latest(name));
    return found.compose(r -> r.filter(fn -> FunctionRoutes.visible(ctx, fn)).<Future<FunctionRecord>>map(Future::succeededFuture).orElseGet(() ->
        Future.failedFuture(ApiError.notFound(version == null ? "unknown model '" + name + "'"
            : "model '" + name + "' has no version " + version))));
  }

  static Future<FunctionRecord> requireReady(FunctionRecord fn) {
    if (fn.state() == FunctionState.READY) {
      return Future.succeededFuture(fn);
    }
    String why = fn.state() == FunctionState.VERIFYING ? "is still being verified; retry when its state is ready"
        : "was rejected by verification: " + fn.stateReason();
    return Future.failedFuture(new ApiError(409, "model '" + fn.name() + "' version " + fn.version() + " is "
        + fn.state().wire() + ": it " + why));
  }

  private void metadata(RoutingContext ctx, Integer version) {
    String name = ctx.pathParam("name");
    resolve(ctx, name, version).compose(V2Routes::requireReady).compose(fn -> store.versions(name).map(all -> {
      ModelSignature sig = fn.signature();
      return new JsonObject()
          .put("name", fn.name())
          .put("versions", new JsonArray(all.stream().filter(v -> v.state() == FunctionState.READY)
              .map(v -> Integer.toString(v.version())).toList()))
          .put("platform", "onnxruntime_onnx")
          .put("inputs", new JsonArray(sig.inputs().stream().map(TensorSpec::toJson).toList()))
          .put("outputs", new JsonArray(sig.outputs().stream().map(TensorSpec::toJson).toList()));
    })).onSuccess(body -> FunctionRoutes.json(ctx, 200, body)).onFailure(ctx::fail);
  }

  private void ready(RoutingContext ctx, Integer version) {
    resolve(ctx, ctx.pathParam("name"), version).compose(V2Routes::requireReady)
        .onSuccess(fn -> FunctionRoutes.json(ctx, 200, new JsonObject().put("name", fn.name())
            .put("version", Integer.toString(fn.version())).put("ready", true)))
        .onFailure(ctx::fail);
  }

  private void infer(RoutingContext ctx, Integer version) {
    long start = System.nanoTime();
    String name = ctx.pathParam("name");
    String[] routed = {null};
    Future.succeededFuture()
        .compose(v -> {
          limits.request(Authentication.principal(ctx));
          return limits.monthly(Authentication.principal(ctx)).compose(x -> resolve(ctx, name, version));
        })
        .compose(fn -> {
          routed[0] = fn.name();
          return requireReady(fn);
        })
        .compose(fn -> {
          InferRequest req = InferRequest.parse(ctx.body().buffer(), ctx.request().getHeader(InferRequest.HEADER_LENGTH),
              fn.signature());
          long budget = TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
          if (req.timeoutMicros() != null) {
            budget = Math.min(budget, TimeUnit.MICROSECONDS.toNanos(req.timeoutMicros()));
          }
          limits.verification(Authentication.principal(ctx), req.verification());
          limits.priority(Authentication.principal(ctx), req.priority());
          QueuedRequest queued = mempool.submit(req.id(), fn, req.inputs(), req.outputs(), req.priority(), start + budget,
              req.verification());
          ctx.response().closeHandler(v -> queued.cancel());
          return queued.future().compose(outcome -> {
            JsonObject body = new JsonObject()
                .put("model_name", fn.name())
                .put("model_version", Integer.toString(fn.version()));
            if (req.id() != null) {
              body.put("id", req.id());
            }
            JsonObject parameters = req.parameters() == null ? new JsonObject() : req.parameters().copy();
            if (outcome.verdict() != null) {
              parameters.put("verdict", outcome.verdict()).put("similarity", outcome.similarity());
              if (outcome.operators() != null) {
                // Which nodes checked each other: copies on one operator's nodes prove nothing about that operator.
                parameters.put("operators", outcome.operators().operators())
                    .put("same_operator", outcome.operators().sameOperator());
              }
              ctx.response().putHeader("X-Inferium-Verdict", outcome.verdict())
                  .putHeader("X-Inferium-Similarity", Double.toString(outcome.similarity()));
            }
            if (!parameters.isEmpty()) {
              body.put("parameters", parameters);
            }
            body.put("outputs", new JsonArray(outcome.outputs().stream()
                .map(t -> req.binary(t.name()) ? V2Json.encodeBinaryOutput(t) : V2Json.encodeOutput(t)).toList()));
            // The request's share of its batch's compute, and its charge: one completion event per answered request.
            long shareUs = outcome.batchRows() > 0 && req.inputs().get(0).shape().length > 0
                ? share(outcome.computeMicros(), req.inputs().get(0).shape()[0], outcome.batchRows()) : outcome.computeMicros();
            // Always server-generated: the client's "id" is only echoed, so it can neither collide with nor replace another's.
            String usageId = java.util.UUID.randomUUID().toString();
            long charge = fn.spec().price().charge(shareUs);
            // The answer leaves once its completion event is durable in the event log (or unbilled, and says so).
            Future<Boolean> billed = completions.emit(CompletionEvent.builder(usageId, fn)
                .tenant(Authentication.principal(ctx).tenantId())
                .endpoint("v2.infer", "request")
                .worker(outcome.workerId())
                .verdict(outcome.verdict(), outcome.similarity())
                .charge(1, shareUs, charge)
                .timings(TimeUnit.NANOSECONDS.toMicros(outcome.queueNanos()), outcome.computeMicros(),
                    TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start))
                .detail("batch_rows", outcome.batchRows()), Digests.tensors(req.inputs(), outcome.outputs()));
            return billed.map(b -> {
              if (b) {
                limits.charged(Authentication.principal(ctx), charge);
              }
              answerHeaders(ctx, usageId, b ? charge : 0, b, outcome);
              return respond(ctx, body, outcome.outputs().stream().filter(t -> req.binary(t.name())).toList());
            });
          });
        })
        .onSuccess(sent -> {
          metrics.request(routed[0], 200, System.nanoTime() - start);
        })
        .onFailure(err -> {
          if (routed[0] != null) {
            metrics.request(routed[0], Failures.classify(err, ctx).status(), System.nanoTime() - start);
          }
          ctx.fail(err);
        });
  }

  /**
   * The headers of an answered mempool call: its request id, its charge and whether it was billed, and where and how
   * it ran (worker, queue wait, compute, cold start, the rows of its batch).
   */
  static void answerHeaders(RoutingContext ctx, String requestId, long chargedMicroUsd, boolean billed,
      Mempool.Outcome outcome) {
    ctx.response()
        .putHeader("X-Inferium-Request-Id", requestId)
        .putHeader("X-Inferium-Charge-Micro-Usd", Long.toString(chargedMicroUsd))
        .putHeader(Billed.HEADER, Boolean.toString(billed))
        .putHeader("X-Inferium-Worker", outcome.workerId())
        .putHeader("X-Inferium-Queue-Ms", Long.toString(TimeUnit.NANOSECONDS.toMillis(outcome.queueNanos())))
        .putHeader("X-Inferium-Compute-Us", Long.toString(outcome.computeMicros()))
        .putHeader("X-Inferium-Cold-Start", Boolean.toString(outcome.coldStart()))
        .putHeader("X-Inferium-Batch-Rows", Long.toString(outcome.batchRows()));
  }

  /** {@code compute × rows / batchRows} without overflow (rows come from the client's shape), never above {@code compute}. */
  static long share(long computeMicros, long rows, long batchRows) {
    if (rows >= batchRows) {
      return computeMicros;
    }
    try {
      return Math.multiplyExact(computeMicros, rows) / batchRows;
    } catch (ArithmeticException overflow) {
      return (long) ((double) computeMicros * rows / batchRows);
    }
  }

  /** Writes the JSON answer, followed by the binary outputs' bytes when any output is binary. */
  private static Void respond(RoutingContext ctx, JsonObject body, List<Tensor> binaryOutputs) {
    if (binaryOutputs.isEmpty()) {
      FunctionRoutes.json(ctx, 200, body);
      return null;
    }
    Buffer header = body.toBuffer();
    Buffer out = Buffer.buffer(header.length() + binaryOutputs.stream().mapToInt(Tensor::byteSize).sum());
    out.appendBuffer(header);
    binaryOutputs.forEach(t -> out.appendBytes(t.bytes()));
    ctx.response().setStatusCode(200)
        .putHeader(InferRequest.HEADER_LENGTH, Integer.toString(header.length()))
        .putHeader("Content-Type", "application/octet-stream")
        .end(out);
    return null;
  }
}
