package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The mempool with real workers: dynamic batching, isolation of bad requests, bounded queues, failover. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MempoolIT {

  private TestGateway gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(2);
    deploy("mp-add", "add.onnx", "{\"max_batch_size\": 16, \"max_queue_delay_ms\": 20}");
    deploy("mp-gather", "gather.onnx", "{\"max_batch_size\": 8, \"max_queue_delay_ms\": 200}");
    deploy("mp-loop", "loop_by_input.onnx", "{\"max_queue_size\": 2}");
  }

  private void deploy(String name, String model, String batching) throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", name).put("batching", new JsonObject(batching)),
        TestGateway.model(model));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private Future<HttpResponse<Buffer>> send(String function, JsonObject body) {
    return gw.client.post(gw.port(), "127.0.0.1", "/v2/models/" + function + "/infer")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendJsonObject(body);
  }

  private static JsonObject request(Tensor... inputs) {
    JsonArray in = new JsonArray();
    for (Tensor t : inputs) {
      in.add(V2Json.encodeOutput(t));
    }
    return new JsonObject().put("inputs", in);
  }

  private static double[] output(HttpResponse<Buffer> resp, String name) {
    for (Object o : resp.bodyAsJsonObject().getJsonArray("outputs")) {
      if (((JsonObject) o).getString("name").equals(name)) {
        return Tensors.toDoubleArray(V2Json.decodeInput((JsonObject) o));
      }
    }
    throw new AssertionError("no output " + name + ": " + resp.bodyAsString());
  }

  private static JsonObject addRequest(int i) {
    return request(Tensors.fp32("a", new long[] {1, 4}, i, i, i, i), Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4));
  }

  @Test
  void concurrentRequestsShareBatchesAndEachGetsItsOwnAnswer() throws Exception {
    int n = 48;
    List<Future<HttpResponse<Buffer>>> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      pending.add(send("mp-add", addRequest(i)));
    }
    int batched = 0;
    for (int i = 0; i < n; i++) {
      HttpResponse<Buffer> resp = pending.get(i).await(60, TimeUnit.SECONDS);
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      double[] sum = output(resp, "sum");
      assertEquals(List.of(i + 1.0, i + 2.0, i + 3.0, i + 4.0), List.of(sum[0], sum[1], sum[2], sum[3]), "request " + i);
      assertEquals(4, sum.length, "a request gets its own rows, not the batch's");
      if (Long.parseLong(resp.getHeader("X-Inferium-Batch-Rows")) > 1) {
        batched++;
      }
    }
    assertTrue(batched > n / 2, "only " + batched + " of " + n + " concurrent requests shared a batch");
    String metrics = gw.metrics.scrape();
    assertTrue(metrics.contains("inferium_batch_size_rows_count{function=\"mp-add\"}"), "batch size histogram missing");
    assertTrue(metrics.contains("inferium_batches_total{function=\"mp-add\""), "batch close reasons missing");
  }

  @Test
  void aBadRequestInABatchFailsAloneAndItsBatchMatesSucceed() throws Exception {
    List<Future<HttpResponse<Buffer>>> pending = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      long index = i == 3 ? 99 : i;
      pending.add(send("mp-gather", request(Tensors.int64("i", new long[] {1}, index))));
    }
    for (int i = 0; i < 6; i++) {
      HttpResponse<Buffer> resp = pending.get(i).await(60, TimeUnit.SECONDS);
      if (i == 3) {
        assertEquals(400, resp.statusCode(), resp.bodyAsString());
        assertTrue(resp.bodyAsJsonObject().getString("error").contains("99"), resp.bodyAsString());
      } else {
        assertEquals(200, resp.statusCode(), resp.bodyAsString());
        assertEquals(i * 1.5, output(resp, "y")[0], "request " + i);
      }
    }
  }

  private static JsonObject loop(long iterations, long timeoutMicros) {
    return request(Tensors.int64("iterations", new long[] {1}, iterations), Tensors.fp32("x", new long[] {1}, 1f))
        .put("parameters", new JsonObject().put("timeout", timeoutMicros));
  }

  @Test
  void aFullQueueAnswers429AtOnceAndQueuedRequestsExpireWith504() throws Exception {
    // Two workers take four batches each (deadline 3 s); two more wait in the queue (deadline 1 s);
    // the queue (max_queue_size 2) is then full and the next request is refused at once.
    List<Future<HttpResponse<Buffer>>> running = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      running.add(send("mp-loop", loop(1_000_000_000_000_000_000L, 3_000_000L)));
    }
    awaitMetric("(all 8 sent to workers)", "inferium_batches_total{function=\"mp-loop\",reason=\"unbatched\"} 8.0");
    List<Future<HttpResponse<Buffer>>> queued = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      queued.add(send("mp-loop", loop(1, 1_000_000L)));
    }
    awaitMetric("(2 queued)", "inferium_queue_depth{function=\"mp-loop\",version=\"1\"} 2.0");
    HttpResponse<Buffer> refused = null;
    for (int i = 0; i < 5; i++) {
      long askedAt = System.nanoTime();
      refused = send("mp-loop", loop(1, 3_000_000L)).await(10, TimeUnit.SECONDS);
      // A figure, not an assertion (timings belong to benchmarks): a refusal's round trip, client included.
      System.out.printf("full queue: 429 #%d answered in %.2f ms (client round trip)%n", i + 1,
          (System.nanoTime() - askedAt) / 1e6);
    }
    assertEquals(429, refused.statusCode(), refused.bodyAsString());
    assertEquals("1", refused.getHeader("Retry-After"));
    assertTrue(refused.bodyAsJsonObject().getString("error").contains("queue of mp-loop/1 is full"));

    for (Future<HttpResponse<Buffer>> f : queued) {
      HttpResponse<Buffer> resp = f.await(30, TimeUnit.SECONDS);
      assertEquals(504, resp.statusCode(), resp.bodyAsString());
      assertTrue(resp.bodyAsJsonObject().getString("error").contains("waiting in the queue"), resp.bodyAsString());
    }
    for (Future<HttpResponse<Buffer>> f : running) {
      HttpResponse<Buffer> resp = f.await(30, TimeUnit.SECONDS);
      assertEquals(504, resp.statusCode(), resp.bodyAsString());
      assertTrue(resp.bodyAsJsonObject().getString("error").contains("running mp-loop/1"), resp.bodyAsString());
    }
    String metrics = gw.metrics.scrape();
    assertTrue(metrics.contains("inferium_rejections_total{function=\"mp-loop\",reason=\"queue_full\"} 5.0"), metrics);
    assertTrue(metrics.contains("inferium_rejections_total{function=\"mp-loop\",reason=\"deadline\"} 2.0"), metrics);
    HttpResponse<Buffer> after = send("mp-loop", loop(3, 10_000_000L)).await(30, TimeUnit.SECONDS);
    assertEquals(200, after.statusCode(), after.bodyAsString());
  }

  @Test
  void aClientThatHangsUpLeavesTheQueue() throws Exception {
    deploy("mp-hangup", "loop_by_input.onnx", "{}");
    // The premise is every worker busy: a worker killed by an earlier test must be back first, or it would attach
    // mid-test and take the impatient request.
    TestGateway.poll("both workers attached", () -> gw.gateway.supervisor().workers().size(), n -> n == 2);
    List<Future<HttpResponse<Buffer>>> running = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      running.add(send("mp-hangup", loop(1_000_000_000_000_000_000L, 3_000_000L)));
    }
    awaitMetric("(all 8 sent to workers)", "inferium_batches_total{function=\"mp-hangup\",reason=\"unbatched\"} 8.0");
    Future<HttpResponse<Buffer>> impatient = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/mp-hangup/infer")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY).timeout(300).sendJsonObject(loop(1, 10_000_000L));
    assertTrue(impatient.transform(ar -> Future.succeededFuture(ar.failed())).await(10, TimeUnit.SECONDS),
        "the client gives up after 300 ms");
    awaitMetric("(the hung-up request left)", "inferium_rejections_total{function=\"mp-hangup\",reason=\"client_gone\"} 1.0");
    awaitMetric("(queue empty)", "inferium_queue_depth{function=\"mp-hangup\",version=\"1\"} 0.0");
    for (Future<HttpResponse<Buffer>> f : running) {
      assertEquals(504, f.await(30, TimeUnit.SECONDS).statusCode());
    }
    assertTrue(gw.metrics.scrape().contains("inferium_batches_total{function=\"mp-hangup\",reason=\"unbatched\"} 8.0"),
        "the hung-up request never reached a worker");
  }

  /** Polls the scrape (with a deadline) until it contains {@code line}; the first argument is a label for errors. */
  private void awaitMetric(String label, String line) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!gw.metrics.scrape().contains(line)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("metrics never showed " + line + " " + label);
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  @Test
  void noRequestIsLostOrAnsweredTwiceWhenAWorkerIsKilledUnderLoad() throws Exception {
    int clients = 6;
    long runNanos = TimeUnit.SECONDS.toNanos(4);
    AtomicInteger sent = new AtomicInteger();
    Map200 answers = new Map200();
    long start = System.nanoTime();
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      loops.add(clientLoop(c, start, runNanos, sent, answers));
    }
    TimeUnit.MILLISECONDS.sleep(1200);
    var victim = gw.gateway.supervisor().workers().get(0);
    ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly();
    Future.all(loops).await(90, TimeUnit.SECONDS);

    assertTrue(sent.get() > 50, "too little load: " + sent.get());
    assertEquals(sent.get(), answers.total(), "every request answered exactly once");
    assertEquals(List.of(), answers.failures, "every answer is a correct 200");
    assertTrue(gw.metrics.scrape().contains("inferium_worker_restarts_total"), "the killed worker was noticed");
  }

  /** Answers by request number; a second answer for one number would be a duplicate. */
  private static final class Map200 {
    final ConcurrentHashMap<Integer, Integer> counts = new ConcurrentHashMap<>();
    final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());

    int total() {
      return counts.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  private Future<Void> clientLoop(int client, long start, long runNanos, AtomicInteger sent, Map200 answers) {
    if (System.nanoTime() - start > runNanos) {
      return Future.succeededFuture();
    }
    int id = sent.incrementAndGet();
    return send("mp-add", addRequest(id)).transform(ar -> {
      answers.counts.merge(id, 1, Integer::sum);
      if (ar.failed()) {
        answers.failures.add(id + ": " + ar.cause());
      } else if (ar.result().statusCode() != 200) {
        answers.failures.add(id + ": HTTP " + ar.result().statusCode() + " " + ar.result().bodyAsString());
      } else if (output(ar.result(), "sum")[0] != id + 1.0) {
        answers.failures.add(id + ": wrong sum " + output(ar.result(), "sum")[0]);
      }
      return clientLoop(client, start, runNanos, sent, answers);
    });
  }
}
