package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The gateway end to end: HTTP deploy, verification in sandbox worker processes, V2 inference through
 * pool workers, compared with ONNX Runtime's own results; bad input and hostile models.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayIT {

  private TestGateway gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(2);
    JsonObject add = gw.deployAndWait(new JsonObject().put("name", "it-add").put("description", "adds two vectors")
        .put("use_cases", new JsonArray().add("arithmetic")).put("category", "math"), TestGateway.model("add.onnx"));
    assertEquals("ready", add.getString("state"), add.encodePrettily());
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private static JsonObject request(Tensor... inputs) {
    JsonArray in = new JsonArray();
    for (Tensor t : inputs) {
      in.add(V2Json.encodeOutput(t));
    }
    return new JsonObject().put("inputs", in);
  }

  private static Tensor output(JsonObject response, String name) {
    for (Object o : response.getJsonArray("outputs")) {
      JsonObject out = (JsonObject) o;
      if (out.getString("name").equals(name)) {
        return V2Json.decodeInput(out);
      }
    }
    throw new AssertionError("no output " + name + " in " + response.encode());
  }

  private static void assertSameTensor(Tensor expected, Tensor actual) {
    assertEquals(expected.type(), actual.type(), expected.name());
    assertArrayEquals(expected.shape(), actual.shape(), expected.name());
    if (expected.type() == DataType.BYTES) {
      assertArrayEquals(Tensors.toStrings(expected), Tensors.toStrings(actual), expected.name());
    } else {
      assertArrayEquals(expected.bytes(), actual.bytes(), expected.name());
    }
  }

  @Test
  void deployedModelAnswersExactlyAsOnnxRuntimeDoes() throws Exception {
    JsonObject rec = gw.get("/api/functions/it-add").bodyAsJsonObject();
    List<String> checks = rec.getJsonObject("verification").getJsonArray("checks").stream()
        .map(c -> ((JsonObject) c).getString("name")).toList();
    assertEquals(List.of("size_limit", "onnx_protobuf", "opset_supported", "no_external_data", "operator_domains",
        "typed_io", "sandbox_load", "smoke_inference", "smoke_outputs_finite"), checks);
    assertTrue(rec.getJsonObject("verification").getLong("load_ms") >= 0);

    Random random = new Random(7);
    float[] a = new float[12];
    float[] b = new float[12];
    for (int i = 0; i < 12; i++) {
      a[i] = random.nextFloat() * 100 - 50;
      b[i] = random.nextFloat() * 100 - 50;
    }
    Tensor ta = Tensors.fp32("a", new long[] {3, 4}, a);
    Tensor tb = Tensors.fp32("b", new long[] {3, 4}, b);
    List<Tensor> expected = OrtReference.run(TestGateway.model("add.onnx"), List.of(ta, tb));

    HttpResponse<Buffer> resp = gw.infer("it-add", request(ta, tb).put("id", "req-42")
        .put("parameters", new JsonObject().put("trace", "yes")));
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    JsonObject body = resp.bodyAsJsonObject();
    assertEquals("req-42", body.getString("id"));
    assertEquals("it-add", body.getString("model_name"));
    assertEquals("1", body.getString("model_version"));
    assertEquals("yes", body.getJsonObject("parameters").getString("trace"));
    for (Tensor e : expected) {
      assertSameTensor(e, output(body, e.name()));
    }

    JsonObject onlyProduct = request(ta, tb).put("outputs", new JsonArray().add(new JsonObject().put("name", "product")));
    JsonObject selected = gw.infer("it-add", onlyProduct).bodyAsJsonObject();
    assertEquals(1, selected.getJsonArray("outputs").size());
    assertEquals("product", selected.getJsonArray("outputs").getJsonObject(0).getString("name"));

    JsonObject meta = gw.get("/v2/models/it-add").bodyAsJsonObject();
    assertEquals("onnxruntime_onnx", meta.getString("platform"));
    assertEquals(new JsonArray().add(-1).add(4), meta.getJsonArray("inputs").getJsonObject(0).getJsonArray("shape"));
    assertEquals(200, gw.get("/v2/models/it-add/ready").statusCode());
    assertEquals(200, gw.get("/v2/models/it-add/versions/1/ready").statusCode());
    assertEquals("inferium", gw.get("/v2").bodyAsJsonObject().getString("name"));
    assertEquals(new JsonArray().add("binary_tensor_data"), gw.get("/v2").bodyAsJsonObject().getJsonArray("extensions"),
        "the binary tensor extension works, so the server metadata says so");
  }

  @Test
  void everyDatatypeMatchesOnnxRuntime() throws Exception {
    // all_types: Identity for each of the 13 element types ONNX Runtime runs (UINT16/32/64 inputs
    // included); arith_types: a real computation per numeric type.
    for (String model : List.of("all_types.onnx", "arith_types.onnx")) {
      String name = "it-" + model.replace(".onnx", "").replace('_', '-');
      JsonObject rec = gw.deployAndWait(new JsonObject().put("name", name), TestGateway.model(model));
      assertEquals("ready", rec.getString("state"), rec.encodePrettily());
      List<Tensor> inputs = new ArrayList<>();
      for (Object o : rec.getJsonObject("signature").getJsonArray("inputs")) {
        JsonObject spec = (JsonObject) o;
        inputs.add(sample(spec.getString("name"), DataType.fromV2(spec.getString("datatype")).orElseThrow()));
      }
      List<Tensor> expected = OrtReference.run(TestGateway.model(model), inputs);
      HttpResponse<Buffer> resp = gw.infer(name, request(inputs.toArray(Tensor[]::new)));
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      assertEquals(expected.size(), resp.bodyAsJsonObject().getJsonArray("outputs").size());
      for (Tensor e : expected) {
        assertSameTensor(e, output(resp.bodyAsJsonObject(), e.name()));
      }
    }

    JsonObject casts = gw.deployAndWait(new JsonObject().put("name", "it-casts"), TestGateway.model("casts_and_strings.onnx"));
    assertEquals("ready", casts.getString("state"), casts.encodePrettily());
    Tensor x = Tensors.int64("x", new long[] {2, 3}, 0, 1, 65535, -1, 4_000_000_000L, Long.MAX_VALUE);
    Tensor text = Tensors.strings("text", new long[] {2}, "héllo wörld", "");
    List<Tensor> castExpected = OrtReference.run(TestGateway.model("casts_and_strings.onnx"), List.of(x, text));
    HttpResponse<Buffer> castResp = gw.infer("it-casts", request(x, text));
    assertEquals(200, castResp.statusCode(), castResp.bodyAsString());
    for (Tensor e : castExpected) {
      assertSameTensor(e, output(castResp.bodyAsJsonObject(), e.name()));
    }
    JsonArray u64 = output(castResp.bodyAsJsonObject(), "x_u64").type() == DataType.UINT64
        ? castResp.bodyAsJsonObject().getJsonArray("outputs").stream().map(JsonObject.class::cast)
            .filter(o -> o.getString("name").equals("x_u64")).findFirst().orElseThrow().getJsonArray("data")
        : null;
    assertEquals("18446744073709551615", u64.getValue(3).toString(), "-1 cast to uint64 prints unsigned");
  }

  @Test
  void binaryTensorDataSkipJsonBothWays() throws Exception {
    Tensor a = Tensors.fp32("a", new long[] {2, 4}, 1, 2, 3, 4, 5, 6, 7, 8);
    Tensor b = Tensors.fp32("b", new long[] {2, 4}, 0.5f, 0.5f, 0.5f, 0.5f, -1, -1, -1, -1);
    List<Tensor> expected = OrtReference.run(TestGateway.model("add.onnx"), List.of(a, b));
    JsonObject header = new JsonObject()
        .put("inputs", new JsonArray()
            .add(V2Json.encodeBinaryOutput(a))
            .add(V2Json.encodeBinaryOutput(b)))
        .put("outputs", new JsonArray()
            .add(new JsonObject().put("name", "sum").put("parameters", new JsonObject().put("binary_data", true)))
            .add(new JsonObject().put("name", "product")));
    Buffer json = header.toBuffer();
    Buffer body = Buffer.buffer().appendBuffer(json).appendBytes(a.bytes()).appendBytes(b.bytes());
    HttpResponse<Buffer> resp = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/it-add/infer")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY)
        .putHeader("Inference-Header-Content-Length", Integer.toString(json.length()))
        .sendBuffer(body).await(30, TimeUnit.SECONDS);
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    int jsonLength = Integer.parseInt(resp.getHeader("Inference-Header-Content-Length"));
    JsonObject answer = resp.body().slice(0, jsonLength).toJsonObject();
    JsonObject sum = answer.getJsonArray("outputs").getJsonObject(0);
    assertEquals("sum", sum.getString("name"));
    assertEquals(32, sum.getJsonObject("parameters").getInteger("binary_data_size"));
    assertTrue(!sum.containsKey("data"));
    byte[] raw = resp.body().getBytes(jsonLength, resp.body().length());
    assertArrayEquals(expected.get(0).bytes(), raw, "sum as raw little-endian FP32");
    assertSameTensor(expected.get(1), output(answer, "product"));

    Buffer shortBody = Buffer.buffer().appendBuffer(json).appendBytes(a.bytes()).appendBytes(new byte[5]);
    HttpResponse<Buffer> bad = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/it-add/infer")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY)
        .putHeader("Inference-Header-Content-Length", Integer.toString(json.length()))
        .sendBuffer(shortBody).await(30, TimeUnit.SECONDS);
    assertError(bad, 400, "input 'b': binary_data_size 32 but only 5 bytes remain");
  }

  /** Three rows of distinct, type-appropriate values. */
  private static Tensor sample(String name, DataType type) {
    long[] shape = {2, 3};
    if (type == DataType.BYTES) {
      return Tensors.strings(name, shape, "a", "bc", "", "déf", "g", "hi");
    }
    ByteBuffer buf = ByteBuffer.allocate(6 * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) {
      int v = i * 7 - 11;
      switch (type) {
        case BOOL -> buf.put((byte) (i % 2));
        case UINT8 -> buf.put((byte) (i * 40));
        case INT8 -> buf.put((byte) v);
        case INT16, UINT16 -> buf.putShort((short) (v * 300));
        case INT32, UINT32 -> buf.putInt(v * 100_000);
        case INT64, UINT64 -> buf.putLong(v * 10_000_000_000L);
        case FP16 -> buf.putShort(io.inferium.functions.tensor.Half.fromFloat(v / 4f));
        case BF16 -> buf.putShort(io.inferium.functions.tensor.BFloat16.fromFloat(v / 4f));
        case FP32 -> buf.putFloat(v / 3f);
        case FP64 -> buf.putDouble(v / 3.0);
        default -> throw new IllegalArgumentException(type.name());
      }
    }
    return new Tensor(name, type, shape, buf.flip());
  }

  @Test
  void badRequestsGetNamedErrorsAndHurtNoOne() throws Exception {
    Tensor a = Tensors.fp32("a", new long[] {1, 4}, 1, 2, 3, 4);
    Tensor b = Tensors.fp32("b", new long[] {1, 4}, 5, 6, 7, 8);
    assertError(gw.post("/v2/models/it-add/infer", "{not json"), 400, "malformed JSON");
    assertError(gw.post("/v2/models/it-add/infer", ""), 400, "empty body");
    assertError(gw.infer("it-add", request(a, b.withName("c"))), 400, "unknown input 'c'");
    assertError(gw.infer("it-add", request(a)), 400, "missing input 'b'");
    assertError(gw.infer("it-add", request(a, Tensors.int64("b", new long[] {1, 4}, 1, 2, 3, 4))), 400,
        "input 'b': expected datatype FP32, got INT64");
    assertError(gw.infer("it-add", request(a, Tensors.fp32("b", new long[] {1, 3}, 1, 2, 3))), 400,
        "input 'b': expected shape [-1,4]");
    JsonObject shortData = request(a, b);
    shortData.getJsonArray("inputs").getJsonObject(1).put("data", new JsonArray().add(1).add(2).add(3));
    assertError(gw.infer("it-add", shortData), 400, "input 'b': shape [1,4] needs 4 elements, got 3");
    assertError(gw.infer("it-add", request(a, b).put("outputs", new JsonArray().add(new JsonObject().put("name", "nope")))),
        400, "unknown output 'nope'");
    assertError(gw.infer("no-such-function", request(a, b)), 404, "unknown model 'no-such-function'");
    assertError(gw.get("/v2/models/it-add/versions/99"), 404, "has no version 99");
    assertError(gw.get("/v2/models/it-add/versions/x"), 400, "expected a positive integer");
    String huge = "{\"inputs\":[" + "0,".repeat(600_000) + "0]}";
    assertError(gw.post("/v2/models/it-add/infer", huge), 413, "too large");
    HttpResponse<Buffer> noKey = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/it-add/infer")
        .sendJsonObject(request(a, b)).await(10, TimeUnit.SECONDS);
    assertError(noKey, 401, "missing API key");
    HttpResponse<Buffer> badKey = gw.client.get(gw.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication("inf_wrong").send().await(10, TimeUnit.SECONDS);
    assertError(badKey, 401, "invalid");
    assertEquals(200, gw.client.get(gw.port(), "127.0.0.1", "/v2/health/live").send().await(10, TimeUnit.SECONDS).statusCode());

    HttpResponse<Buffer> fine = gw.infer("it-add", request(a, b));
    assertEquals(200, fine.statusCode(), fine.bodyAsString());
    assertEquals(List.of(6.0, 8.0, 10.0, 12.0), output(fine.bodyAsJsonObject(), "sum").type() == DataType.FP32
        ? toList(Tensors.toDoubleArray(output(fine.bodyAsJsonObject(), "sum"))) : List.of());
  }

  private static List<Double> toList(double[] values) {
    List<Double> out = new ArrayList<>();
    for (double v : values) {
      out.add(v);
    }
    return out;
  }

  /** The states of version 1's verification steps, in order, as the console shows them. */
  private String stepStates(String name) throws Exception {
    JsonObject progress = gw.get("/api/functions/" + name + "/versions/1/verification").bodyAsJsonObject();
    return progress.getJsonArray("steps").stream().map(s -> ((JsonObject) s).getString("state"))
        .collect(java.util.stream.Collectors.joining(" "));
  }

  static void assertError(HttpResponse<Buffer> resp, int status, String fragment) {
    assertEquals(status, resp.statusCode(), resp.bodyAsString());
    String error = resp.bodyAsJsonObject().getString("error");
    assertTrue(error != null && error.contains(fragment), "expected '" + fragment + "' in: " + error);
  }

  @Test
  void brokenAndHostileUploadsAreRejectedByTheCheckThatFindsThem() throws Exception {
    String[][] cases = {
        {"garbage.onnx", "onnx_protobuf"},
        {"truncated.onnx", "onnx_protobuf"},
        {"custom_domain.onnx", "operator_domains"},
        {"external_data.onnx", "no_external_data"},
        {"future_opset.onnx", "opset_supported"},
        {"untyped_io.onnx", "typed_io"},
    };
    for (String[] c : cases) {
      String name = "it-bad-" + c[0].replace(".onnx", "").replace('_', '-');
      JsonObject rec = gw.deployAndWait(new JsonObject().put("name", name), TestGateway.model(c[0]));
      assertEquals("rejected", rec.getString("state"), rec.encodePrettily());
      assertTrue(rec.getString("state_reason").startsWith(c[1] + ":"), rec.getString("state_reason"));
      assertError(gw.infer(name, new JsonObject().put("inputs", new JsonArray())), 409, "rejected");
    }
    assertEquals("done failed skipped skipped skipped done", stepStates("it-bad-garbage"));
    assertError(gw.upload("{\"name\":\"Bad Name\"}", TestGateway.model("add.onnx")), 400, "field 'name'");
    assertError(gw.upload("{\"name\":\"ok\",\"timout_ms\":5}", TestGateway.model("add.onnx")), 400, "unknown field 'timout_ms'");
    assertError(gw.upload("{\"name\":\"ok\",\"kind\":\"llm\"}", TestGateway.model("add.onnx")), 400, "field 'kind'");
    assertError(gw.upload("{\"name\":\"ok\"}", null), 400, "part 'model'");
    assertError(gw.upload(null, TestGateway.model("add.onnx")), 400, "part 'spec'");
    assertError(gw.upload("{nope", TestGateway.model("add.onnx")), 400, "malformed JSON");
    assertError(gw.post("/api/functions", "{}"), 400, "multipart/form-data");
    java.nio.file.Path big = java.nio.file.Files.createTempFile("big-", ".onnx");
    java.nio.file.Files.write(big, new byte[9 << 20]);
    assertError(gw.upload("{\"name\":\"too-big\"}", big), 413, "too large");
    java.nio.file.Files.delete(big);
    assertEquals(200, gw.get("/v2/health/ready").statusCode());
  }

  @Test
  void aModelThatCrashesTheRuntimeCostsOnlyItsSandbox() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "it-crash"), TestGateway.model("crash_tree_ensemble.onnx"));
    assertEquals("rejected", rec.getString("state"), rec.encodePrettily());
    String reason = rec.getString("state_reason");
    // Pinned to ONNX Runtime 1.29.0, whose TreeEnsemble v5 kernel aborts on an out-of-range root.
    // A runtime that refuses the model cleanly still rejects it in sandbox_load, with a message instead of a signal.
    assertTrue(reason.startsWith("sandbox_load:"), reason);
    assertTrue(reason.contains("SIGABRT"), "ONNX Runtime 1.29.0 aborts on this model; got: " + reason);
    // The steps say where it stopped: done up to the sandbox's load, that one failed, the smoke run skipped.
    assertEquals("done done done failed skipped done", stepStates("it-crash"));
    assertEquals(200, gw.get("/v2/health/ready").statusCode());
    assertEquals(2, gw.gateway.supervisor().workers().size());
    // The crash took only the sandbox that verified the model: another one is started and waits for the next deploy.
    io.inferium.infra.testing.Eventually.until("a new standby sandbox worker to attach", java.time.Duration.ofSeconds(60),
        () -> gw.gateway.supervisor().standbySandboxesReady() == 1);
    HttpResponse<Buffer> other = gw.infer("it-add", request(Tensors.fp32("a", new long[] {1, 4}, 1, 1, 1, 1),
        Tensors.fp32("b", new long[] {1, 4}, 1, 1, 1, 1)));
    assertEquals(200, other.statusCode(), other.bodyAsString());
  }

  @Test
  void aModelThatNeverReturnsIsRejectedWithinTheSmokeTimeout() throws Exception {
    long start = System.nanoTime();
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "it-hang"), TestGateway.model("hang_always.onnx"));
    assertEquals("rejected", rec.getString("state"));
    assertTrue(rec.getString("state_reason").startsWith("smoke_inference:"), rec.getString("state_reason"));
    assertTrue(rec.getString("state_reason").contains("did not finish within " + TestGateway.SMOKE_TIMEOUT_MS + " ms"));
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60));
    assertEquals(200, gw.get("/v2/health/ready").statusCode());
  }

  private static JsonObject loop(long iterations, Long timeoutMicros) {
    JsonObject req = request(Tensors.int64("iterations", new long[] {1}, iterations), Tensors.fp32("x", new long[] {1}, 1f));
    if (timeoutMicros != null) {
      req.put("parameters", new JsonObject().put("timeout", timeoutMicros));
    }
    return req;
  }

  @Test
  void aRequestPastItsDeadlineGets504AndServingGoesOn() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "it-loop"), TestGateway.model("loop_by_input.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    assertError(gw.infer("it-loop", loop(1_000_000_000_000_000_000L, 1_500_000L)), 504, "deadline");
    HttpResponse<Buffer> five = gw.infer("it-loop", loop(5, null));
    assertEquals(200, five.statusCode(), five.bodyAsString());
    assertEquals(6.0, Tensors.toDoubleArray(output(five.bodyAsJsonObject(), "y"))[0]);
    assertEquals(200, gw.get("/v2/health/ready").statusCode());
  }

  @Test
  void aKilledWorkersRequestIsReDispatchedAndTheWorkerReplaced() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "it-loop2"), TestGateway.model("loop_by_input.onnx"));
    assertEquals("ready", rec.getString("state"));
    // About two seconds of looping: long enough to kill the worker mid-run, short enough to finish elsewhere.
    long iterations = 3_000_000;
    var pending = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/it-loop2/infer")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY)
        .sendJsonObject(loop(iterations, 60_000_000L));
    var victim = Eventually.value("a worker to pick up the request", Duration.ofSeconds(30),
        () -> gw.gateway.supervisor().workers().stream().filter(w -> w.outstanding() > 0).findFirst(),
        java.util.Optional::isPresent).orElseThrow();
    ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly();
    HttpResponse<Buffer> resp = pending.await(60, TimeUnit.SECONDS);
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    assertEquals(1f + iterations, (float) Tensors.toDoubleArray(output(resp.bodyAsJsonObject(), "y"))[0]);
    assertTrue(gw.metrics.scrape().contains("inferium_redispatched_total{function=\"it-loop2\"}"));

    Eventually.until("the lost worker to be replaced", Duration.ofSeconds(60),
        () -> gw.gateway.supervisor().workers().size() == 2);
    assertTrue(gw.metrics.scrape().contains("inferium_worker_restarts_total{reason=\"exited\"}"));
  }

  @Test
  void aFrozenWorkerIsReplacedAfterMissedHeartbeats() throws Exception {
    var victim = gw.gateway.supervisor().workers().get(0);
    // SIGSTOP freezes the whole process, heartbeat thread included, as a wedged runtime or a swapping host would.
    Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(victim.pid())).start();
    assertEquals(0, stop.waitFor());
    Eventually.until("the frozen worker to leave the pool", Duration.ofSeconds(30),
        () -> !gw.gateway.supervisor().workers().contains(victim));
    // It leaves the pool first; the kill and the reaping of a stopped process follow a moment later.
    Eventually.until("the frozen worker to be killed", Duration.ofSeconds(30),
        () -> !ProcessHandle.of(victim.pid()).map(ProcessHandle::isAlive).orElse(false));
    Eventually.until("the frozen worker to be replaced", Duration.ofSeconds(30),
        () -> gw.gateway.supervisor().workers().size() == 2);
    assertTrue(gw.metrics.scrape().contains("inferium_worker_restarts_total{reason=\"replaced\"}"));
    // The ledger records the miss asynchronously, after the replacement may already be attached.
    JsonObject node = Eventually.value("the missed heartbeat in the ledger", Duration.ofSeconds(10),
        () -> gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
            .filter(n -> n.getString("node_id").equals(victim.workerId())).findFirst().orElseThrow(),
        n -> n.getDouble("reputation") < 1.0);
    assertTrue(node.getDouble("reputation") < 1.0, "a missed heartbeat costs reputation: " + node.encode());
    assertTrue(node.getJsonArray("recent_events").stream().map(JsonObject.class::cast)
        .anyMatch(e -> e.getString("kind").equals("heartbeat_miss")), node.encode());
  }

  @Test
  void metricsCountRequestsByFunctionAndStatus() throws Exception {
    String before = scrape();
    double ok = counter(before, "inferium_requests_total{function=\"it-add\",status=\"200\"}");
    gw.infer("it-add", request(Tensors.fp32("a", new long[] {1, 4}, 1, 1, 1, 1), Tensors.fp32("b", new long[] {1, 4}, 2, 2, 2, 2)));
    String after = scrape();
    assertEquals(ok + 1, counter(after, "inferium_requests_total{function=\"it-add\",status=\"200\"}"));
    for (String name : List.of("inferium_request_duration_seconds_bucket", "inferium_queue_duration_seconds_count",
        "inferium_compute_duration_seconds_count", "inferium_workers_alive", "inferium_verifications_total",
        "inferium_cold_starts_total", "jvm_memory_used_bytes", "vertx_http_server_requests_total")) {
      assertTrue(after.contains(name), "metrics lack " + name);
    }
  }

  private String scrape() throws Exception {
    assertEquals(401, gw.client.get(gw.port(), "127.0.0.1", "/metrics").send().await(10, TimeUnit.SECONDS).statusCode(),
        "metrics need a key");
    HttpResponse<Buffer> resp = gw.get("/metrics");
    assertEquals(200, resp.statusCode());
    return resp.bodyAsString();
  }

  private static double counter(String scrape, String series) {
    return scrape.lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).orElse(0.0);
  }

  @Test
  void functionsCanBeSearchedVersionedAndDeleted() throws Exception {
    JsonObject v1 = gw.deployAndWait(new JsonObject().put("name", "it-store").put("kind", "classifier")
        .put("labels", new JsonArray().add("setosa").add("versicolor").add("virginica"))
        .put("description", "iris species 100%_sure").put("category", "tabular"),
        TestGateway.model("../../../../../engine/src/main/resources/demo/iris.onnx"));
    assertEquals("ready", v1.getString("state"), v1.encodePrettily());
    JsonObject v2 = gw.deployAndWait(new JsonObject().put("name", "it-store").put("description", "the adder, now"),
        TestGateway.model("add.onnx"));
    assertEquals(2, v2.getInteger("version"));
    JsonObject latest = gw.get("/api/functions/it-store").bodyAsJsonObject();
    assertEquals(2, latest.getInteger("version"));
    assertEquals(2, latest.getJsonArray("versions").size());

    assertTrue(names(gw.get("/api/functions?q=ADDER")).contains("it-store"));
    assertTrue(names(gw.get("/api/functions?q=arithmetic")).contains("it-add"), "use cases are searched");
    assertTrue(names(gw.get("/api/functions?category=math")).contains("it-add"));
    assertTrue(!names(gw.get("/api/functions?kind=embedding")).contains("it-add"));
    assertError(gw.get("/api/functions?kind=bogus"), 400, "query parameter 'kind'");

    assertEquals(200, gw.delete("/api/functions/it-store/versions/2").statusCode());
    assertError(gw.get("/api/functions/it-store/versions/2"), 404, "has no version 2");
    JsonObject iris = gw.infer("it-store", request(Tensors.fp32("features", new long[] {1, 4}, 5.1f, 3.5f, 1.4f, 0.2f)))
        .bodyAsJsonObject();
    assertEquals(0L, Tensors.toLongArray(output(iris, "label"))[0], "version 1 (iris) serves again: setosa");
    JsonObject gone = gw.delete("/api/functions/it-store").bodyAsJsonObject();
    assertEquals(1, gone.getInteger("versions_deleted"));
    assertError(gw.get("/api/functions/it-store"), 404, "no function named 'it-store'");
    assertError(gw.delete("/api/functions/it-store"), 404, "no function named");
  }

  private static List<String> names(HttpResponse<Buffer> resp) {
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    return resp.bodyAsJsonObject().getJsonArray("functions").stream().map(o -> ((JsonObject) o).getString("name")).toList();
  }
}
