package io.inferium.engine.deploy;

import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.TemplateErrors;
import io.inferium.functions.VerificationCheck;
import io.inferium.functions.SamplingParams;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The deploy-time check of a text-generation function's chat template: the sandbox worker renders it
 * (in its template sandbox, the same code path as serving) for a few sample conversations, each as a
 * one-token greedy generation. The template must render at least one of them; it may refuse others
 * with {@code raise_exception} (many templates refuse a system message), but any other failure —
 * a syntax error, a forbidden tag, filter or method, or a limit on output, work or time — rejects the
 * version with the template's error as the reason.
 */
final class TemplateCheck {

  static final String NAME = "chat_template";

  /** The sample conversations, in order: the simplest first. */
  static final List<JsonArray> SAMPLES = List.of(
      new JsonArray().add(message("user", "Hello")),
      new JsonArray().add(message("system", "You are a helpful assistant.")).add(message("user", "Hello")),
      new JsonArray().add(message("user", "Hello")).add(message("assistant", "Hi! How can I help?"))
          .add(message("user", "Tell me a joke.")));

  private TemplateCheck() {}

  private static JsonObject message(String role, String content) {
    return new JsonObject().put("role", role).put("content", content);
  }

  private record Outcome(int sample, String error) {}

  static Future<Void> run(Vertx vertx, FunctionRecord rec, WorkerLink link, long timeoutMs, List<VerificationCheck> checks,
      JsonObject report, Function<Throwable, Future<String>> crashDetail) {
    long start = System.nanoTime();
    List<Outcome> outcomes = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < SAMPLES.size(); i++) {
      int sample = i;
      chain = chain.compose(v -> render(vertx, rec, link, SAMPLES.get(sample), timeoutMs)
          .transform(ar -> {
            if (ar.succeeded()) {
              outcomes.add(new Outcome(sample, null));
              return Future.<Void>succeededFuture();
            }
            if (ar.cause() instanceof WorkerFailure wf && !wf.lost()) {
              outcomes.add(new Outcome(sample, wf.getMessage()));
              return Future.<Void>succeededFuture();
            }
            return crashDetail.apply(ar.cause()).compose(detail -> {
              checks.add(VerificationCheck.fail(NAME, "rendering sample conversation " + (sample + 1) + " "
                  + roles(sample) + ": " + detail, ms(start)));
              return Future.<Void>failedFuture(new DeployPipeline.Skip());
            });
          }));
    }
    return chain.compose(v -> {
      long took = ms(start);
      List<String> refused = new ArrayList<>();
      for (Outcome o : outcomes) {
        if (o.error() != null && !TemplateErrors.isRefusal(o.error())) {
          checks.add(VerificationCheck.fail(NAME, "sample conversation " + (o.sample() + 1) + " " + roles(o.sample())
              + ": " + o.error(), took));
          return Future.failedFuture(new DeployPipeline.Skip());
        }
        if (o.error() != null) {
          refused.add((o.sample() + 1) + " " + roles(o.sample()) + " (" + o.error() + ")");
        }
      }
      int rendered = outcomes.size() - refused.size();
      report.put(NAME, new JsonObject().put("samples", SAMPLES.size()).put("rendered", rendered)
          .put("refused", new JsonArray(refused)));
      if (rendered == 0) {
        checks.add(VerificationCheck.fail(NAME, "the template refused every sample conversation: "
            + String.join("; ", refused), took));
        return Future.failedFuture(new DeployPipeline.Skip());
      }
      checks.add(VerificationCheck.pass(NAME, "rendered " + rendered + " of " + SAMPLES.size()
          + " sample conversations in the template sandbox" + (refused.isEmpty() ? ""
          : "; the template refused " + String.join("; ", refused)), took));
      return Future.succeededFuture();
    });
  }

  private static Future<Frame> render(Vertx vertx, FunctionRecord rec, WorkerLink link, JsonArray messages, long timeoutMs) {
    Promise<Frame> call = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, t -> call.tryFail(new WorkerLink.Cancelled(
        "rendering the chat template did not finish within " + timeoutMs + " ms")));
    JsonObject params = SamplingParams.fromOpenAi(new JsonObject().put("max_tokens", 1).put("temperature", 0), new JsonObject())
        .toJson();
    return link.stream(FrameType.GENERATE, new JsonObject().put("sha256", rec.modelSha256()).put("messages", messages)
        .put("params", params), call, token -> { })
        .onComplete(ar -> vertx.cancelTimer(timer));
  }

  private static String roles(int sample) {
    List<String> roles = new ArrayList<>();
    for (int i = 0; i < SAMPLES.get(sample).size(); i++) {
      roles.add(SAMPLES.get(sample).getJsonObject(i).getString("role"));
    }
    return "(" + String.join(", ", roles) + ")";
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
