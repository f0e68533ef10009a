package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a SIGTERM does to a serving gateway: readiness goes first, what is in flight finishes, then it is gone. */
class DrainIT {

  @Test
  void readinessTurns503ThenTheRequestInFlightIsAnsweredBeforeTheServerCloses() throws Exception {
    try (TestGateway gw = TestGateway.start(1)) {
      JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "drain-loop").put("timeout_ms", 120_000),
          TestGateway.model("loop_by_input.onnx"));
      assertEquals("ready", rec.getString("state"), rec.encodePrettily());
      assertEquals(200, gw.get("/v2/health/ready").statusCode());
      // Several seconds of looping: still running when the server stops taking connections.
      long iterations = 4_000_000;
      JsonObject request = new JsonObject().put("inputs", new JsonArray()
          .add(V2Json.encodeOutput(Tensors.int64("iterations", new long[] {1}, iterations)))
          .add(V2Json.encodeOutput(Tensors.fp32("x", new long[] {1}, 1f))));
      Future<HttpResponse<Buffer>> pending = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/drain-loop/infer")
          .bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendJsonObject(request);
      Eventually.until("the worker to pick up the request", Duration.ofSeconds(30),
          () -> gw.gateway.supervisor().workers().stream().anyMatch(w -> w.outstanding() > 0));

      Future<Void> drained = gw.gateway.drain(new Gateway.Drain(500, 60_000));
      HttpResponse<Buffer> ready = gw.client.get(gw.port(), "127.0.0.1", "/v2/health/ready").send()
          .await(10, TimeUnit.SECONDS);
      assertEquals(503, ready.statusCode(), "load balancers are told first: " + ready.bodyAsString());
      assertEquals(true, ready.bodyAsJsonObject().getBoolean("draining"), ready.bodyAsString());

      HttpResponse<Buffer> refused = Eventually.value("new requests to be refused after the delay", Duration.ofSeconds(30),
          () -> gw.client.get(gw.port(), "127.0.0.1", "/v2/health/live").send().await(10, TimeUnit.SECONDS),
          r -> r.statusCode() == 503);
      assertEquals("1", refused.getHeader("Retry-After"));
      assertEquals("close", refused.getHeader("Connection"));
      assertEquals(false, pending.isComplete(), "the loop is still running while new work is refused");

      HttpResponse<Buffer> answer = pending.await(90, TimeUnit.SECONDS);
      assertEquals(200, answer.statusCode(), "the request in flight is answered, not cut: " + answer.bodyAsString());
      JsonObject y = answer.bodyAsJsonObject().getJsonArray("outputs").stream().map(JsonObject.class::cast)
          .filter(o -> "y".equals(o.getString("name"))).findFirst().orElseThrow();
      assertEquals(1f + iterations, y.getJsonArray("data").getDouble(0).floatValue());
      drained.await(90, TimeUnit.SECONDS);
      assertThrows(Exception.class, () -> gw.client.get(gw.port(), "127.0.0.1", "/v2/health/live").send()
          .await(10, TimeUnit.SECONDS), "after the drain no connection is taken");
    }
  }
}
