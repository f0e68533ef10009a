package io.inferium.engine.deploy;

import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.ExampleInputs;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.VerificationCheck;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The smoke inference of a tensor function in its sandbox worker, on the developer's examples when the
 * spec has them, else on {@link SmokeInputs synthesized} inputs. What each outcome means:
 * <ul>
 *   <li>On the developer's examples every failure rejects: an error, a non-finite output, a hang past
 *       the smoke time limit (one limit for all examples together), a crash. The developer said these
 *       inputs make sense.</li>
 *   <li>On synthesized inputs, an error the model itself raises ({@code model_error}, {@code bad_input})
 *       and non-finite outputs are warnings: zeros at the smallest shape are no meaningful input for
 *       many valid models (a target shape for {@code Expand}, an integer divisor, split sizes).</li>
 *   <li>On synthesized inputs a crash of the worker process, a hang past the time limit and any other
 *       failure still reject: those inputs are ones any caller may send, so a model that kills or holds
 *       the runtime on them would do so in serving; the sandbox has contained it and is retired.</li>
 * </ul>
 * The report's {@code smoke_inputs} says which inputs were used, with their shapes.
 */
final class TensorSmoke {

  static final String SMOKE_INFERENCE = "smoke_inference";
  static final String SMOKE_OUTPUTS_FINITE = "smoke_outputs_finite";

  private TensorSmoke() {}

  static Future<Void> run(Vertx vertx, FunctionRecord rec, WorkerLink link, ModelSignature sig, long timeoutMs,
      List<VerificationCheck> checks, JsonObject report, Function<Throwable, Future<String>> crashDetail) {
    List<JsonObject> examples = rec.spec().examples();
    JsonArray sets = new JsonArray();
    report.put("smoke_inputs", new JsonObject().put("source", examples.isEmpty() ? "synthesized" : "examples").put("sets", sets));
    if (examples.isEmpty()) {
      List<Tensor> inputs = SmokeInputs.synthesize(sig);
      sets.add(new JsonObject().put("inputs", shapes(inputs)));
      return synthesized(vertx, rec, link, inputs, timeoutMs, checks, report, crashDetail);
    }
    String misfit = ExampleFit.problem(examples, ExampleFit.declared(sig)).orElse(null);
    if (misfit != null) {
      checks.add(VerificationCheck.fail("examples_match_signature", misfit + " (as ONNX Runtime reports the inputs)", 0));
      return Future.failedFuture(new DeployPipeline.Skip());
    }
    long start = System.nanoTime();
    // One time limit for all examples together, so eight slow ones hold the sandbox no longer than one.
    long deadline = start + timeoutMs * 1_000_000;
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < examples.size(); i++) {
      int index = i;
      List<Tensor> inputs = ExampleInputs.tensors(examples.get(i));
      sets.add(new JsonObject().put("example", i).put("inputs", shapes(inputs)));
      chain = chain.compose(v -> example(vertx, rec, link, index, inputs, timeoutMs, deadline, checks, crashDetail));
    }
    return chain.map(v -> {
      long took = ms(start);
      report.put("smoke_ms", took);
      checks.add(VerificationCheck.pass(SMOKE_INFERENCE, "ran on the spec's " + examples.size() + " example(s) in " + took
          + " ms", took));
      checks.add(VerificationCheck.pass(SMOKE_OUTPUTS_FINITE, "every floating-point output of every example is finite", 0));
      return null;
    });
  }

  private static Future<Void> example(Vertx vertx, FunctionRecord rec, WorkerLink link, int index, List<Tensor> inputs,
      long timeoutMs, long deadline, List<VerificationCheck> checks, Function<Throwable, Future<String>> crashDetail) {
    String which = "examples[" + index + "] (" + describe(inputs) + ")";
    long start = System.nanoTime();
    return call(vertx, rec, link, inputs, Math.max(1, (deadline - start) / 1_000_000), timeoutMs)
        .recover(err -> crashDetail.apply(err).compose(detail -> {
          checks.add(VerificationCheck.fail(SMOKE_INFERENCE, "on " + which + ": " + detail, ms(start)));
          return Future.failedFuture(new DeployPipeline.Skip());
        }))
        .compose(reply -> {
          List<String> nonFinite = SmokeInputs.nonFinite(reply.tensors());
          if (nonFinite.isEmpty()) {
            return Future.succeededFuture();
          }
          checks.add(VerificationCheck.fail(SMOKE_OUTPUTS_FINITE, "on " + which + ": NaN or infinite values in "
              + String.join(", ", nonFinite), 0));
          return Future.failedFuture(new DeployPipeline.Skip());
        });
  }

  private static Future<Void> synthesized(Vertx vertx, FunctionRecord rec, WorkerLink link, List<Tensor> inputs,
      long timeoutMs, List<VerificationCheck> checks, JsonObject report, Function<Throwable, Future<String>> crashDetail) {
    String which = "synthesized inputs (" + describe(inputs) + ")";
    long start = System.nanoTime();
    return call(vertx, rec, link, inputs, timeoutMs, timeoutMs)
        .transform(ar -> {
          long took = ms(start);
          if (ar.succeeded()) {
            report.put("smoke_ms", took);
            checks.add(VerificationCheck.pass(SMOKE_INFERENCE, "ran on " + which + " in " + took + " ms", took));
            List<String> nonFinite = SmokeInputs.nonFinite(ar.result().tensors());
            checks.add(nonFinite.isEmpty()
                ? VerificationCheck.pass(SMOKE_OUTPUTS_FINITE, "every floating-point output is finite", 0)
                : VerificationCheck.warn(SMOKE_OUTPUTS_FINITE, "on " + which + ": NaN or infinite values in "
                    + String.join(", ", nonFinite), 0));
            return Future.<Void>succeededFuture();
          }
          Throwable err = ar.cause();
          if (err instanceof WorkerFailure wf && ("model_error".equals(wf.code()) || "bad_input".equals(wf.code()))) {
            checks.add(VerificationCheck.warn(SMOKE_INFERENCE, "the model refused " + which + ": " + wf.getMessage()
                + ". Synthesized inputs are zeros at the smallest shapes and make no sense to some models (a target "
                + "shape, a divisor, split sizes); add 'examples' to the spec to verify it on inputs that do", took));
            return Future.<Void>succeededFuture();
          }
          return crashDetail.apply(err).compose(detail -> {
            checks.add(VerificationCheck.fail(SMOKE_INFERENCE, "on " + which + ": " + detail, took));
            return Future.<Void>failedFuture(new DeployPipeline.Skip());
          });
        });
  }

  /**
   * One inference cancelled after {@code leftMs} (a stuck worker is then replaced); the message names
   * the whole smoke time limit, {@code limitMs}.
   */
  private static Future<Frame> call(Vertx vertx, FunctionRecord rec, WorkerLink link, List<Tensor> inputs, long leftMs,
      long limitMs) {
    io.vertx.core.Promise<Frame> call = io.vertx.core.Promise.promise();
    JsonObject meta = new JsonObject().put("sha256", rec.modelSha256()).put("outputs", new JsonArray());
    long timer = vertx.setTimer(leftMs, t -> call.tryFail(new WorkerLink.Cancelled(
        "smoke inference did not finish within " + limitMs + " ms")));
    return link.call(FrameType.INFER, meta, inputs, call).onComplete(ar -> vertx.cancelTimer(timer));
  }

  private static JsonArray shapes(List<Tensor> inputs) {
    return new JsonArray(inputs.stream().map(t -> (Object) new JsonObject().put("name", t.name())
        .put("datatype", t.type().v2Name()).put("shape", V2Json.shapeJson(t.shape()))).toList());
  }

  private static String describe(List<Tensor> inputs) {
    return inputs.stream().map(t -> t.name() + ":" + t.type().v2Name() + java.util.Arrays.toString(t.shape()))
        .collect(Collectors.joining(", "));
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
