package io.inferium.engine.deploy;

import io.inferium.engine.gateway.WorkerLink;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.VerificationCheck;
import io.inferium.functions.SamplingParams;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Function;

/**
 * The smoke test of a text function in its sandbox worker: for a generator its chat template first
 * ({@link TemplateCheck}), then a short greedy generation (four tokens from a fixed prompt); for an
 * embedder the embedding of one sentence. Each must finish within the smoke time limit; the report
 * records what came out.
 */
final class TextSmoke {

  static final String PROMPT = "Hello";

  private TextSmoke() {}

  static Future<Void> run(Vertx vertx, FunctionRecord rec, WorkerLink link, long timeoutMs, List<VerificationCheck> checks,
      JsonObject report, Function<Throwable, Future<String>> crashDetail) {
    if (rec.spec().kind() == FunctionKind.TEXT_GENERATION) {
      return TemplateCheck.run(vertx, rec, link, timeoutMs, checks, report, crashDetail)
          .compose(v -> smoke(vertx, rec, link, timeoutMs, checks, report, crashDetail));
    }
    return smoke(vertx, rec, link, timeoutMs, checks, report, crashDetail);
  }

  private static Future<Void> smoke(Vertx vertx, FunctionRecord rec, WorkerLink link, long timeoutMs,
      List<VerificationCheck> checks, JsonObject report, Function<Throwable, Future<String>> crashDetail) {
    boolean generate = rec.spec().kind() == FunctionKind.TEXT_GENERATION;
    long start = System.nanoTime();
    Promise<Frame> call = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, t -> call.tryFail(new WorkerLink.Cancelled(
        "smoke " + (generate ? "generation" : "embedding") + " did not finish within " + timeoutMs + " ms")));
    StringBuilder text = new StringBuilder();
    Future<Frame> reply;
    if (generate) {
      JsonObject params = SamplingParams.fromOpenAi(new JsonObject().put("max_tokens", 4).put("temperature", 0), new JsonObject())
          .toJson();
      reply = link.stream(FrameType.GENERATE, new JsonObject().put("sha256", rec.modelSha256()).put("prompt", PROMPT)
          .put("params", params), call, token -> text.append(token.text()));
    } else {
      reply = link.call(FrameType.EMBED, new JsonObject().put("sha256", rec.modelSha256())
          .put("input", new JsonArray().add(PROMPT + ", world.")).put("pooling", rec.spec().text().pooling())
          .put("normalize", rec.spec().text().normalize()), List.of(), call);
    }
    return reply
        .onComplete(ar -> vertx.cancelTimer(timer))
        .recover(err -> crashDetail.apply(err).compose(detail -> {
          checks.add(VerificationCheck.fail("smoke_inference", detail, ms(start)));
          return Future.failedFuture(new DeployPipeline.Skip());
        }))
        .map(frame -> {
          long took = ms(start);
          report.put("smoke_ms", took);
          if (generate) {
            checks.add(VerificationCheck.pass("smoke_inference", "generated " + frame.meta().getInteger("completion_tokens", 0)
                + " token(s) greedily from \"" + PROMPT + "\" in " + took + " ms: \"" + text + "\"", took));
          } else {
            long[] shape = frame.tensors().get(0).shape();
            checks.add(VerificationCheck.pass("smoke_inference", "embedded one sentence into " + shape[1]
                + " dimensions in " + took + " ms", took));
          }
          return null;
        });
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
