package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.gateway.WorkerLink;
import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Serverless behaviour: idle models unload, keep-warm ones stay loaded, the pool grows and shrinks. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScalingIT {

  private TestGateway gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(1, b -> b.maxWorkers(2).idleUnloadMs(1_500).scaleUpAfterMs(1_000).scaleDownAfterMs(4_000));
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private static void await(String what, BooleanSupplier condition) {
    Eventually.until(what, java.time.Duration.ofSeconds(30), condition);
  }

  private JsonObject addRequest() {
    return new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, 1, 2, 3, 4)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 1, 1, 1))));
  }

  private boolean loadedAnywhere(String sha) {
    return gw.gateway.supervisor().workers().stream().anyMatch(w -> w.loadedModels().containsKey(sha));
  }

  @Test
  void anIdleModelIsUnloadedAndItsNextRequestIsAColdStartAgain() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "sc-idle"), TestGateway.model("add.onnx"));
    String sha = rec.getJsonObject("model").getString("sha256");
    HttpResponse<Buffer> first = gw.infer("sc-idle", addRequest());
    assertEquals("true", first.getHeader("X-Inferium-Cold-Start"));
    assertTrue(loadedAnywhere(sha));
    await("the idle model is unloaded", () -> !loadedAnywhere(sha));
    assertTrue(gw.metrics.scrape().contains("inferium_unloads_total{reason=\"idle\"}"));
    HttpResponse<Buffer> again = gw.infer("sc-idle", addRequest());
    assertEquals(200, again.statusCode(), again.bodyAsString());
    assertEquals("true", again.getHeader("X-Inferium-Cold-Start"), "scaled to zero, so the next call loads again");
  }

  @Test
  void aKeepWarmFunctionIsLoadedBeforeAnyRequestAndStaysLoaded() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "sc-warm").put("keep_warm", true),
        TestGateway.model("fixed_shape.onnx"));
    assertEquals("ready", rec.getString("state"));
    String sha = rec.getJsonObject("model").getString("sha256");
    await("the keep-warm model is pre-loaded", () -> gw.gateway.supervisor().workers().stream()
        .allMatch(w -> w.loadedModels().containsKey(sha)));
    TimeUnit.MILLISECONDS.sleep(2_500);
    assertTrue(gw.gateway.supervisor().workers().stream().allMatch(w -> w.loadedModels().containsKey(sha)),
        "a keep-warm model outlives the idle time");
    HttpResponse<Buffer> resp = gw.infer("sc-warm", new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("x", new long[] {2, 3}, 1, 2, 3, 4, 5, 6)))));
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    assertEquals("false", resp.getHeader("X-Inferium-Cold-Start"));
  }

  @Test
  void thePoolGrowsUnderBacklogAndShrinksWhenIdle() throws Exception {
    // A generous deadline: on a machine shared with other builds the six runs can take far longer than 9 s of CPU.
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "sc-loop").put("timeout_ms", 120_000),
        TestGateway.model("loop_by_input.onnx"));
    assertEquals("ready", rec.getString("state"));
    assertEquals(1, gw.gateway.supervisor().size());
    // Six runs of about 1.5 s each: one worker holds four at a time, the rest wait and build pressure.
    List<Future<HttpResponse<Buffer>>> load = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      JsonObject req = new JsonObject().put("inputs", new JsonArray()
          .add(V2Json.encodeOutput(Tensors.int64("iterations", new long[] {1}, 2_500_000)))
          .add(V2Json.encodeOutput(Tensors.fp32("x", new long[] {1}, 0f))));
      load.add(gw.client.post(gw.port(), "127.0.0.1", "/v2/models/sc-loop/infer")
          .bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendJsonObject(req));
    }
    await("a second worker is added", () -> gw.gateway.supervisor().size() == 2);
    for (Future<HttpResponse<Buffer>> f : load) {
      HttpResponse<Buffer> resp = f.await(120, TimeUnit.SECONDS);
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
    }
    assertTrue(gw.metrics.scrape().contains("inferium_scaling_events_total{direction=\"up\",reason=\"backlog\"} 1.0"));
    await("the idle pool shrinks back to one", () -> gw.gateway.supervisor().size() == 1);
    assertTrue(gw.metrics.scrape().contains("inferium_scaling_events_total{direction=\"down\",reason=\"idle\"}"));
    List<WorkerLink> left = gw.gateway.supervisor().workers();
    assertEquals(1, left.size());
  }
}
