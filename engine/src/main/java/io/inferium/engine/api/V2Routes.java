package io.inferium.engine.api;

import io.inferium.engine.EngineMetrics;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionState;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.Future;
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
  private final Dispatcher dispatcher;
  private final EngineMetrics metrics;
  private final BooleanSupplier workersReady;
  private final String version;

  V2Routes(FunctionStore store, Dispatcher dispatcher, EngineMetrics metrics, BooleanSupplier workersReady, String version) {
    this.store = store;
    this.dispatcher = dispatcher;
    this.metrics = metrics;
    this.workersReady = workersReady;
    this.version = version;
  }

  void mountPublic(Router router, io.vertx.sqlclient.Pool pool) {
    router.get("/v2/health/live").handler(ctx -> FunctionRoutes.json(ctx, 200, new JsonObject().put("live", true)));
    router.get("/v2/health/ready").handler(ctx -> pool.query("SELECT 1").execute().onComplete(ar -> {
      boolean db = ar.succeeded();
      boolean workers = workersReady.getAsBoolean();
      FunctionRoutes.json(ctx, db && workers ? 200 : 503, new JsonObject().put("ready", db && workers)
          .put("database", db).put("workers", workers));
    }));
  }

  void mount(Router router, long maxRequestBytes) {
    router.get("/v2").handler(ctx -> FunctionRoutes.json(ctx, 200, new JsonObject()
        .put("name", SERVER_NAME).put("version", version).put("extensions", new JsonArray())));
    router.get("/v2/models/:name").handler(ctx -> metadata(ctx, null));
    router.get("/v2/models/:name/versions/:version").handler(ctx -> metadata(ctx, FunctionRoutes.version(ctx)));
    router.get("/v2/models/:name/ready").handler(ctx -> ready(ctx, null));
    router.get("/v2/models/:name/versions/:version/ready").handler(ctx -> ready(ctx, FunctionRoutes.version(ctx)));
    BodyHandler body = BodyHandler.create(false).setBodyLimit(maxRequestBytes);
    router.post("/v2/models/:name/infer").handler(body).handler(ctx -> infer(ctx, null));
    router.post("/v2/models/:name/versions/:version/infer").handler(body).handler(ctx -> infer(ctx, FunctionRoutes.version(ctx)));
  }

  /** The version a request names, or the latest ready one (falling back to the latest, for its error). */
  private Future<FunctionRecord> resolve(String name, Integer version) {
    Future<Optional<FunctionRecord>> found = version != null ? store.version(name, version)
        : store.latestReady(name).compose(r -> r.isPresent() ? Future.succeededFuture(r) : store.latest(name));
    return found.compose(r -> r.<Future<FunctionRecord>>map(Future::succeededFuture).orElseGet(() ->
        Future.failedFuture(ApiError.notFound(version == null ? "unknown model '" + name + "'"
            : "model '" + name + "' has no version " + version))));
  }

  private static Future<FunctionRecord> requireReady(FunctionRecord fn) {
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
    resolve(name, version).compose(V2Routes::requireReady).compose(fn -> store.versions(name).map(all -> {
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
    resolve(ctx.pathParam("name"), version).compose(V2Routes::requireReady)
        .onSuccess(fn -> FunctionRoutes.json(ctx, 200, new JsonObject().put("name", fn.name())
            .put("version", Integer.toString(fn.version())).put("ready", true)))
        .onFailure(ctx::fail);
  }

  private void infer(RoutingContext ctx, Integer version) {
    long start = System.nanoTime();
    String name = ctx.pathParam("name");
    String[] routed = {null};
    Future.succeededFuture()
        .compose(v -> resolve(name, version))
        .compose(fn -> {
          routed[0] = fn.name();
          return requireReady(fn);
        })
        .compose(fn -> {
          InferRequest req = InferRequest.parse(ctx.body().buffer(), fn.signature());
          long budget = TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
          if (req.timeoutMicros() != null) {
            budget = Math.min(budget, TimeUnit.MICROSECONDS.toNanos(req.timeoutMicros()));
          }
          return dispatcher.infer(fn, req.inputs(), req.outputs(), start + budget).map(outcome -> {
            JsonObject body = new JsonObject()
                .put("model_name", fn.name())
                .put("model_version", Integer.toString(fn.version()));
            if (req.id() != null) {
              body.put("id", req.id());
            }
            if (req.parameters() != null) {
              body.put("parameters", req.parameters());
            }
            body.put("outputs", new JsonArray(outcome.outputs().stream().map(V2Json::encodeOutput).toList()));
            ctx.response()
                .putHeader("X-Inferium-Worker", outcome.workerId())
                .putHeader("X-Inferium-Queue-Ms", Long.toString(TimeUnit.NANOSECONDS.toMillis(outcome.queueNanos())))
                .putHeader("X-Inferium-Compute-Us", Long.toString(outcome.computeMicros()))
                .putHeader("X-Inferium-Cold-Start", Boolean.toString(outcome.coldStart()));
            return body;
          });
        })
        .onSuccess(body -> {
          FunctionRoutes.json(ctx, 200, body);
          metrics.request(routed[0], 200, System.nanoTime() - start);
        })
        .onFailure(err -> {
          if (routed[0] != null) {
            metrics.request(routed[0], Failures.classify(err).status(), System.nanoTime() - start);
          }
          ctx.fail(err);
        });
  }

  /** A parsed and signature-checked V2 infer request. */
  record InferRequest(String id, JsonObject parameters, List<Tensor> inputs, List<String> outputs, Long timeoutMicros) {

    static InferRequest parse(io.vertx.core.buffer.Buffer raw, ModelSignature sig) {
      if (raw == null || raw.length() == 0) {
        throw ApiError.badRequest("empty body: expected a JSON object with an 'inputs' array");
      }
      JsonObject body;
      try {
        body = raw.toJsonObject();
      } catch (io.vertx.core.json.DecodeException | ClassCastException e) {
        throw ApiError.badRequest("malformed JSON: " + e.getMessage());
      }
      Object id = body.getValue("id");
      if (id != null && !(id instanceof String)) {
        throw ApiError.badRequest("field 'id': expected a string, got " + id);
      }
      Object params = body.getValue("parameters");
      if (params != null && !(params instanceof JsonObject)) {
        throw ApiError.badRequest("field 'parameters': expected an object, got " + params);
      }
      Long timeout = null;
      if (params instanceof JsonObject p && p.containsKey("timeout")) {
        if (!(p.getValue("timeout") instanceof Number n) || n.longValue() <= 0) {
          throw ApiError.badRequest("parameter 'timeout': expected a positive integer of microseconds, got " + p.getValue("timeout"));
        }
        timeout = ((Number) p.getValue("timeout")).longValue();
      }
      if (!(body.getValue("inputs") instanceof JsonArray inputs)) {
        throw ApiError.badRequest("field 'inputs': expected an array of tensors, got "
            + (body.getValue("inputs") == null ? "nothing" : body.getValue("inputs")));
      }
      List<Tensor> tensors = new ArrayList<>(inputs.size());
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < inputs.size(); i++) {
        if (!(inputs.getValue(i) instanceof JsonObject in)) {
          throw ApiError.badRequest("inputs[" + i + "]: expected a tensor object, got " + inputs.getValue(i));
        }
        Tensor t = V2Json.decodeInput(in);
        TensorSpec spec = sig.input(t.name()).orElseThrow(() -> ApiError.badRequest("unknown input '" + t.name()
            + "' (the model's inputs: " + names(sig.inputs()) + ")"));
        if (!seen.add(t.name())) {
          throw ApiError.badRequest("input '" + t.name() + "' given twice");
        }
        if (spec.type() != t.type()) {
          throw ApiError.badRequest("input '" + t.name() + "': expected datatype " + spec.type() + ", got " + t.type());
        }
        if (!spec.accepts(t.shape())) {
          throw ApiError.badRequest("input '" + t.name() + "': expected shape " + shape(spec.shape())
              + " (-1 = any size), got " + shape(t.shape()));
        }
        tensors.add(t);
      }
      for (TensorSpec spec : sig.inputs()) {
        if (!seen.contains(spec.name())) {
          throw ApiError.badRequest("missing input '" + spec.name() + "' (" + spec.type() + " " + shape(spec.shape()) + ")");
        }
      }
      List<String> outputs = new ArrayList<>();
      Object requested = body.getValue("outputs");
      if (requested != null) {
        if (!(requested instanceof JsonArray array)) {
          throw ApiError.badRequest("field 'outputs': expected an array, got " + requested);
        }
        for (int i = 0; i < array.size(); i++) {
          if (!(array.getValue(i) instanceof JsonObject o) || !(o.getValue("name") instanceof String n)) {
            throw ApiError.badRequest("outputs[" + i + "]: expected an object with a 'name', got " + array.getValue(i));
          }
          if (sig.output(n).isEmpty()) {
            throw ApiError.badRequest("unknown output '" + n + "' (the model's outputs: " + names(sig.outputs()) + ")");
          }
          outputs.add(n);
        }
      }
      return new InferRequest((String) id, (JsonObject) params, tensors, outputs, timeout);
    }

    private static String names(List<TensorSpec> specs) {
      return String.join(", ", specs.stream().map(TensorSpec::name).toList());
    }

    private static String shape(long[] s) {
      return Arrays.toString(s).replace(" ", "");
    }
  }
}
