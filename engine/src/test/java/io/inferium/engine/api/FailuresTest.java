package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.deploy.TooManyDeploys;
import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.failure.NoWorkerAvailable;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.functions.FunctionConflictException;
import io.inferium.functions.InvalidSpecException;
import io.inferium.functions.tensor.TensorFormatException;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@ExtendWith(VertxExtension.class)
class FailuresTest {

  private static void assertError(int status, String message, int retryAfter, ApiError error) {
    assertEquals(status, error.status(), error::getMessage);
    assertEquals(message, error.getMessage());
    assertEquals(retryAfter, error.retryAfterSeconds(), "Retry-After");
  }

  @Test
  void anApiErrorIsKeptAsIs() {
    ApiError notFound = ApiError.notFound("unknown model 'x'");

    assertSame(notFound, Failures.classify(notFound));
  }

  @Test
  void clientMistakesAre400() {
    assertError(400, "field 'name': bad", 0, Failures.classify(new InvalidSpecException("field 'name': bad")));
    TensorFormatException badTensor = assertThrows(TensorFormatException.class, () -> V2Json.decodeInput(new JsonObject()));
    assertError(400, badTensor.getMessage(), 0, Failures.classify(badTensor));
    assertError(400, "malformed JSON: Unexpected end", 0, Failures.classify(new DecodeException("Unexpected end")));
  }

  @Test
  void aVersionConflictIs409() {
    assertError(409, "function a already has version 2", 0,
        Failures.classify(new FunctionConflictException("function a already has version 2")));
  }

  @Test
  void tooManyDeploysIs429WithRetryAfter() {
    assertError(429, "8 deploys are being verified; retry later", 10,
        Failures.classify(new TooManyDeploys("8 deploys are being verified")));
  }

  @Test
  void anUnreachableDatabaseIs503WithRetryAfterAndAFailingQueryIsStillInternal() {
    assertError(503, "the database is unreachable; retry later", 2,
        Failures.classify(new io.vertx.core.VertxException(new java.net.ConnectException("Connection refused"))));
    assertError(503, "the database is unreachable; retry later", 2,
        Failures.classify(io.vertx.sqlclient.ClosedConnectionException.INSTANCE));
    assertEquals(500, Failures.classify(new io.vertx.pgclient.PgException("relation \"x\" does not exist", "ERROR", "42P01",
        "detail")).status(), "a query the database refuses is a bug, not an outage");
  }

  @Test
  void textTheDatabaseCannotStoreIsTheCallers400WithoutTheDriversWords() {
    for (String state : new String[] {"22021", "22P05"}) {
      ApiError e = Failures.classify(new io.vertx.core.VertxException(new io.vertx.pgclient.PgException(
          "invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR", state, "INSERT INTO datasets ...")));
      assertEquals(400, e.status(), state);
      assertTrue(e.getMessage().contains("NUL character (U+0000)"), e.getMessage());
      assertFalse(e.getMessage().contains("0x00") || e.getMessage().contains("INSERT"), e.getMessage());
    }
  }

  @Test
  void noWorkerIs503WithRetryAfter() {
    assertError(503, "all workers busy; retry later", 1, Failures.classify(new NoWorkerAvailable("all workers busy")));
  }

  @Test
  void aPassedDeadlineIs504() {
    assertError(504, "deadline of 30000 ms passed", 0, Failures.classify(new DeadlineExceeded("deadline of 30000 ms passed")));
  }

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", value = {
      "bad_input     => 400, boom, 0",
      "overloaded    => 503, boom, 1",
      "cancelled     => 504, boom, 0",
      "model_error   => 500, the model failed: boom, 0",
      "worker_lost   => 502, boom, 0",
      "not_loaded    => 502, boom, 0",
      "something_new => 502, boom, 0",
  })
  void workerFailuresMapByTheirCode(String code, String expected) {
    String[] parts = expected.split(", ");

    assertError(Integer.parseInt(parts[0]), parts[1], Integer.parseInt(parts[2]),
        Failures.classify(new WorkerFailure(code, "boom")));
  }

  @Test
  void anythingElseIsAnInternalErrorWithAnIdAndNoText() {
    IllegalStateException boom = new IllegalStateException("password=hunter2 at /srv/data");
    ApiError first = Failures.classify(boom);

    assertError(500, "internal error", 0, first);
    String id = ((Failures.InternalError) first).errorId();
    assertEquals(16, id.length());
    assertEquals(id, ((Failures.InternalError) Failures.classify(boom)).errorId(), "one failure, one id");
  }

  @Test
  void theFailureHandlerAnswersWithStatusRetryAfterAndJson(Vertx vertx, VertxTestContext test) {
    Router router = Router.router(vertx);
    router.route().failureHandler(Failures::handle);
    router.errorHandler(404, Failures::handle);
    router.get("/busy").handler(ctx -> ctx.fail(new NoWorkerAvailable("all workers busy")));
    router.get("/late").handler(ctx -> ctx.fail(new DeadlineExceeded("too slow")));
    router.get("/bug").handler(ctx -> ctx.fail(new IllegalStateException("SELECT secret FROM api_keys")));
    router.get("/v1/bug").handler(ctx -> {
      throw new NullPointerException("Cannot invoke \"String.length()\" because \"key\" is null");
    });
    // The server closes with the Vertx instance, which the extension closes after the test.
    WebClient client = WebClient.create(vertx);

    vertx.createHttpServer().requestHandler(router).listen(0)
        .compose(server -> client.get(server.actualPort(), "127.0.0.1", "/busy").send()
            .map(busy -> {
              test.verify(() -> {
                assertEquals(503, busy.statusCode());
                assertEquals("1", busy.getHeader("Retry-After"));
                assertEquals("application/json", busy.getHeader("Content-Type"));
                assertEquals(new JsonObject().put("error", "all workers busy; retry later"), busy.bodyAsJsonObject());
              });
              return server;
            }))
        .compose(server -> client.get(server.actualPort(), "127.0.0.1", "/late").send()
            .map(late -> {
              test.verify(() -> {
                assertEquals(504, late.statusCode());
                assertNull(late.getHeader("Retry-After"));
                assertEquals(new JsonObject().put("error", "too slow"), late.bodyAsJsonObject());
              });
              return server;
            }))
        .compose(server -> client.get(server.actualPort(), "127.0.0.1", "/bug").send()
            .map(bug -> {
              test.verify(() -> {
                assertEquals(500, bug.statusCode());
                JsonObject body = bug.bodyAsJsonObject();
                assertEquals("internal error", body.getString("error"));
                assertEquals(16, body.getString("error_id").length());
                assertFalse(bug.bodyAsString().contains("SELECT"), bug.bodyAsString());
              });
              return server;
            }))
        .compose(server -> client.get(server.actualPort(), "127.0.0.1", "/v1/bug").send()
            .map(bug -> {
              test.verify(() -> {
                assertEquals(500, bug.statusCode());
                JsonObject error = bug.bodyAsJsonObject().getJsonObject("error");
                assertEquals("internal error", error.getString("message"));
                assertEquals("server_error", error.getString("type"));
                assertEquals("internal_error", error.getString("code"));
                assertEquals(16, error.getString("error_id").length());
                assertFalse(bug.bodyAsString().contains("length"), bug.bodyAsString());
              });
              return server;
            }))
        .compose(server -> client.get(server.actualPort(), "127.0.0.1", "/nowhere").send())
        .andThen(done -> client.close())
        .onComplete(test.succeeding((HttpResponse<Buffer> missing) -> test.verify(() -> {
          assertEquals(404, missing.statusCode());
          assertEquals(new JsonObject().put("error", "no such route"), missing.bodyAsJsonObject());
          test.completeNow();
        })));
  }

  @Test
  void anExhaustedQuotaIs402OnOurRoutesAnd429InsufficientQuotaOnOpenAis(Vertx vertx, VertxTestContext test) {
    Router router = Router.router(vertx);
    router.route().failureHandler(Failures::handle);
    ApiError quota = new ApiError(402, "monthly included usage of tier trial is used up");
    router.get("/v2/quota").handler(ctx -> ctx.fail(quota));
    router.get("/v1/quota").handler(ctx -> ctx.fail(quota));
    WebClient client = WebClient.create(vertx);
    vertx.createHttpServer().requestHandler(router).listen(0)
        .compose(server -> client.get(server.actualPort(), "127.0.0.1", "/v2/quota").send()
            .map(ours -> {
              test.verify(() -> {
                assertEquals(402, ours.statusCode());
                assertEquals(new JsonObject().put("error", quota.getMessage()), ours.bodyAsJsonObject());
              });
              return server;
            }))
        .compose(server -> client.get(server.actualPort(), "127.0.0.1", "/v1/quota").send())
        .andThen(done -> client.close())
        .onComplete(test.succeeding((HttpResponse<Buffer> openAi) -> test.verify(() -> {
          assertEquals(429, openAi.statusCode(), "OpenAI answers an exhausted quota with 429");
          JsonObject error = openAi.bodyAsJsonObject().getJsonObject("error");
          assertEquals("insufficient_quota", error.getString("type"));
          assertEquals("insufficient_quota", error.getString("code"));
          assertEquals(quota.getMessage(), error.getString("message"));
          test.completeNow();
        })));
  }
}
