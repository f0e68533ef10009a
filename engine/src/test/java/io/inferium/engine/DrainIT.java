package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
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

  // ---- SIGTERM to a real gateway process under streaming load (issue 17's must-show) ----

  private static final String PROCESS_KEY = "drain-admin-key-0123456789";
  private static final java.util.regex.Pattern READY = java.util.regex.Pattern.compile("Inferium ready at http://[^:]+:(\\d+)");
  private static final int STREAMS = 6;
  private static final int ATTEMPTS = 3;

  /** What one request of the load saw, in the test JVM's clock. */
  private record Outcome(long sentNanos, long endNanos, int status, String retryAfter, String body, Throwable failure,
      String requestId, String completionId) {
    Outcome(long sentNanos, long endNanos, int status, String retryAfter, String body, Throwable failure) {
      this(sentNanos, endNanos, status, retryAfter, body, failure, null, null);
    }
  }

  /**
   * Every run checks that no started stream is cut and that refusals follow readiness. That a stream was still
   * running when refusals began depends on timing the test does not control: on a loaded machine the test JVM can
   * stall for a few hundred ms, every stream ends meanwhile and the clients' next requests reach the server after its
   * refusals began (seen in CI with the suite at 2 cores). Such a run proves nothing about the streams a drain lets
   * finish, so the scenario is run again, up to {@value #ATTEMPTS} times, until one shows it.
   */
  @Test
  void sigtermUnderStreamingLoadFinishesEveryStartedStreamAndRefusesOnlyAfterReadinessTurned() throws Exception {
    java.util.List<String> missed = new java.util.ArrayList<>();
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      String miss = drainUnderStreamingLoad();
      if (miss == null) {
        return;
      }
      System.out.printf("Drain attempt %d: no stream outlived the first refusal (%s)%n", attempt, miss);
      missed.add(miss);
    }
    org.junit.jupiter.api.Assertions.fail("in " + ATTEMPTS + " runs no stream still running when refusals began "
        + "finished with [DONE]: " + missed);
  }

  /** One drain under load, every assertion made; returns why no stream outlived the first refusal, or null if one did. */
  private String drainUnderStreamingLoad() throws Exception {
    java.nio.file.Path dataDir = java.nio.file.Files.createTempDirectory("inferium-drain-");
    java.nio.file.Path logFile = dataDir.resolve("gateway.log");
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    // A fresh connection per request: a request either reaches the server whole or is refused at connect,
    // so any cut the test sees is the server's doing, not a pooled connection closed under it.
    io.vertx.core.http.HttpClient http = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setKeepAlive(false),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(STREAMS + 4));
    Process gateway = null;
    try (io.inferium.infra.TestDatabase db = io.inferium.infra.TestDatabase.create()) {
      java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
          java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          // The server's own logging configuration (not the tests'), in JSON: the access lines are checked below.
          "-Xss8m", "-Xmx512m", "-Dlogback.configurationFile=" + serverLogback(), "-cp", System.getProperty("java.class.path"),
          "io.inferium.engine.cli.Main", "--log-format", "json", "serve",
          "--port", "0", "--data-dir", dataDir.toString(), "--db-url", db.url(), "--workers", "1",
          "--admin-key", PROCESS_KEY, "--drain-delay-ms", "1500", "--drain-grace-ms", "30000"));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile());
      pb.environment().remove("INFERIUM_KAFKA");
      pb.environment().put("INFERIUM_ACCESS_LOG", "INFO"); // the access lines are checked below (off by default)
      gateway = pb.start();
      Process p = gateway;
      String started = Eventually.value("the gateway process to be ready", Duration.ofSeconds(120), () -> {
        if (!p.isAlive()) {
          throw new AssertionError("gateway exited " + p.exitValue() + ": " + java.nio.file.Files.readString(logFile));
        }
        return java.nio.file.Files.readString(logFile);
      }, t -> READY.matcher(t).find());
      java.util.regex.Matcher m = READY.matcher(started);
      m.find();
      int port = Integer.parseInt(m.group(1));
      deployTinyGpt(vertx, port);

      // STREAMS clients, each streaming completions back to back until it is refused or finds the door shut.
      java.util.List<Outcome> outcomes = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      java.util.Set<Integer> streaming = java.util.concurrent.ConcurrentHashMap.newKeySet();
      java.util.List<Future<Void>> clients = new java.util.ArrayList<>();
      for (int c = 0; c < STREAMS; c++) {
        int client = c;
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        vertx.runOnContext(v -> streamLoop(http, port, client, outcomes, streaming, done));
        clients.add(done.future());
      }
      Eventually.until("every client's stream to be under way", Duration.ofSeconds(60), () -> streaming.size() == STREAMS);

      long sigtermNanos = System.nanoTime();
      gateway.destroy(); // SIGTERM, as systemd (KillMode=mixed) or the kubelet sends it
      // Readiness, polled on fresh connections until the server no longer takes them; and until the first refusal a
      // plain request each time, which dates the start of refusals to within one poll.
      io.vertx.ext.web.client.WebClient web = io.vertx.ext.web.client.WebClient.wrap(http);
      java.util.List<Outcome> ready = new java.util.ArrayList<>();
      java.util.List<Outcome> probes = new java.util.ArrayList<>();
      while (true) {
        boolean refusedYet = probes.stream().anyMatch(o -> o.status() == 503);
        boolean notReadyYet = ready.stream().anyMatch(o -> o.status() == 503);
        long sent = System.nanoTime();
        try {
          // Readiness until it turned 503, then the plain request alone (polled tight) until it is refused, then
          // readiness again until the server is gone.
          if (!notReadyYet || refusedYet) {
            HttpResponse<Buffer> r = web.get(port, "127.0.0.1", "/v2/health/ready").timeout(10_000).send()
                .await(15, TimeUnit.SECONDS);
            ready.add(new Outcome(sent, System.nanoTime(), r.statusCode(), r.getHeader("Retry-After"), r.bodyAsString(), null));
          }
          if (!refusedYet) {
            long probeSent = System.nanoTime();
            HttpResponse<Buffer> models = web.get(port, "127.0.0.1", "/v1/models").bearerTokenAuthentication(PROCESS_KEY)
                .timeout(10_000).send().await(15, TimeUnit.SECONDS);
            probes.add(new Outcome(probeSent, System.nanoTime(), models.statusCode(), models.getHeader("Retry-After"),
                models.bodyAsString(), null));
          }
        } catch (Exception closed) {
          ready.add(new Outcome(sent, System.nanoTime(), 0, null, null, closed));
          break;
        }
        Thread.sleep(notReadyYet && !refusedYet ? 5 : 25);
      }
      Future.join(clients).await(60, TimeUnit.SECONDS);
      assertTrue(gateway.waitFor(90, TimeUnit.SECONDS), "the gateway exits after its drain");
      String log = java.nio.file.Files.readString(logFile);

      // Readiness answered 503 (draining) before anything was refused, and never 200 again.
      Outcome firstNotReady = ready.stream().filter(o -> o.status() != 200).findFirst().orElseThrow();
      assertEquals(503, firstNotReady.status(), "readiness turns 503 first: " + ready);
      assertTrue(new JsonObject(firstNotReady.body()).getBoolean("draining"), firstNotReady.body());
      assertTrue(ready.stream().filter(o -> o.sentNanos() > firstNotReady.endNanos()).noneMatch(o -> o.status() == 200),
          "readiness never turns back to 200 once draining");
      assertTrue(probes.stream().allMatch(o -> o.status() == 200 || o.status() == 503), "probes: " + probes);
      java.util.List<Outcome> refused = java.util.stream.Stream.concat(outcomes.stream(), probes.stream())
          .filter(o -> o.status() == 503).toList();
      assertFalse(refused.isEmpty(), "the clients kept trying, so some were refused: " + outcomes.stream().map(o -> o.status() + "/"
          + TimeUnit.NANOSECONDS.toMillis(o.endNanos() - sigtermNanos) + "ms/" + o.failure()).toList() + "\n" + log);
      long firstRefusal = refused.stream().mapToLong(Outcome::endNanos).min().orElseThrow();
      assertTrue(firstNotReady.endNanos() < firstRefusal, "readiness said 503 "
          + TimeUnit.NANOSECONDS.toMillis(firstRefusal - firstNotReady.endNanos()) + " ms before the first refusal");
      for (Outcome r : refused) {
        assertEquals("1", r.retryAfter(), "a refusal says when to retry: " + r.body());
        assertEquals("server_error", new JsonObject(r.body()).getJsonObject("error").getString("type"), r.body());
      }

      // Every stream that started finished with [DONE] or a clean SSE error event; none was cut.
      int finishedAfterRefusals = 0;
      int streamsAtSigterm = 0;
      for (Outcome o : outcomes) {
        assertTrue(o.status() == 0 || o.status() == 200 || o.status() == 503, "unexpected answer: " + o);
        if (o.status() == 0) {
          // Not answered at all: only a connection the closed server refused (the request never started).
          assertTrue(o.failure() instanceof java.net.ConnectException
              || String.valueOf(o.failure()).contains("Connection refused"), "a request cut before its answer: " + o.failure());
          continue;
        }
        if (o.status() != 200) {
          continue;
        }
        assertNull(o.failure(), "a started stream was cut: " + o.failure() + " after " + o.body());
        java.util.List<String> events = OpenAiIT.events(o.body());
        assertFalse(events.isEmpty(), o.body());
        String last = events.get(events.size() - 1);
        for (String e : events.subList(0, events.size() - 1)) {
          new JsonObject(e); // every event but [DONE] is whole JSON
        }
        assertTrue(last.equals("[DONE]") || new JsonObject(last).containsKey("error"), "stream ended with " + last);
        if (o.sentNanos() < sigtermNanos && o.endNanos() > sigtermNanos) {
          streamsAtSigterm++;
        }
        if (o.sentNanos() < firstRefusal && o.endNanos() > firstRefusal && last.equals("[DONE]")) {
          finishedAfterRefusals++;
        }
      }
      // Judged on the server's clock too: a test JVM starved on two cores may see its first refusal hundreds of ms
      // after the server began refusing, when every stream has ended; the access lines say when each ended there.
      int outlivedOnServer = streamsOutlivingTheFirstRefusal(log, outcomes);
      System.out.printf("Drain under load: %d requests (%d streams answered, %d refused), %d mid-stream at SIGTERM, %d of "
          + "them still streaming when refusals began (%d on the server's clock); readiness 503 %d ms before the first "
          + "refusal%n", outcomes.size(), outcomes.stream().filter(o -> o.status() == 200).count(), refused.size(),
          streamsAtSigterm, finishedAfterRefusals, outlivedOnServer,
          TimeUnit.NANOSECONDS.toMillis(firstRefusal - firstNotReady.endNanos()));
      assertEquals(STREAMS, streamsAtSigterm, "every client was mid-stream at the SIGTERM");
      long lastServed = probes.stream().filter(o -> o.status() == 200).mapToLong(Outcome::sentNanos).max().orElse(sigtermNanos);
      assertFalse(log.contains("still in flight after the grace period"), log);
      assertAccessLines(log, outcomes);
      return finishedAfterRefusals >= 1 || outlivedOnServer >= 1 ? null : "refusals began within "
          + TimeUnit.NANOSECONDS.toMillis(firstRefusal - lastServed) + " ms before the first was seen; streams ended at "
          + "(ms after it) " + outcomes.stream().filter(o -> o.status() == 200)
              .map(o -> TimeUnit.NANOSECONDS.toMillis(o.endNanos() - firstRefusal)).toList()
          + "; on the server's clock " + outlivedOnServer + " outlived its first refusal";
    } finally {
      if (gateway != null && gateway.isAlive()) {
        gateway.descendants().forEach(ProcessHandle::destroyForcibly);
        gateway.destroyForcibly();
      }
      http.close();
      vertx.close().await(30, TimeUnit.SECONDS);
      try (var paths = java.nio.file.Files.walk(dataDir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /**
   * How many streams the server answered 200 that were under way at its first refusal (started before it by their
   * access line's duration, ended after it) and that their client saw end with [DONE]: the access lines' times are
   * the server's (logback's event timestamp, at the response's end), so a client that saw the refusal late does not
   * matter.
   */
  private static int streamsOutlivingTheFirstRefusal(String log, java.util.List<Outcome> outcomes) {
    java.util.List<JsonObject> lines = new java.util.ArrayList<>();
    for (String line : log.split("\n")) {
      if (!line.startsWith("{")) {
        continue;
      }
      JsonObject event = new JsonObject(line);
      if ("inferium.access".equals(event.getString("loggerName"))) {
        JsonObject fields = new JsonObject().put("at", event.getLong("timestamp"));
        event.getJsonArray("kvpList").forEach(kv -> fields.mergeIn((JsonObject) kv));
        lines.add(fields);
      }
    }
    long firstRefusal = lines.stream().filter(l -> "503".equals(l.getString("status"))).mapToLong(l -> l.getLong("at"))
        .min().orElse(Long.MAX_VALUE);
    java.util.Set<String> done = new java.util.HashSet<>();
    for (Outcome o : outcomes) {
      java.util.List<String> events = o.status() == 200 && o.body() != null ? OpenAiIT.events(o.body()) : java.util.List.of();
      if (!events.isEmpty() && events.get(events.size() - 1).equals("[DONE]")) {
        done.add(o.requestId());
      }
    }
    return (int) lines.stream().filter(l -> "200".equals(l.getString("status")) && done.contains(l.getString("request_id")))
        .filter(l -> l.getLong("at") - Long.parseLong(l.getString("duration_ms")) < firstRefusal && l.getLong("at") > firstRefusal)
        .count();
  }

  /**
   * The gateway's stderr is JSON lines only (stdout's ready and draining lines aside), and every answered request
   * of the load has its access line: its {@code x-request-id} as the field {@code request_id}, its status, and for a
   * stream the completion id it was billed under.
   */
  private static void assertAccessLines(String log, java.util.List<Outcome> outcomes) {
    java.util.Map<String, JsonObject> access = new java.util.HashMap<>();
    for (String line : log.split("\n")) {
      if (line.startsWith("Inferium ready at") || line.startsWith("inferium: ") || line.isBlank()) {
        continue;
      }
      JsonObject event;
      try {
        event = new JsonObject(line);
      } catch (io.vertx.core.json.DecodeException e) {
        throw new AssertionError("a log line that is not JSON: " + line + "\nin:\n" + log, e);
      }
      if ("inferium.access".equals(event.getString("loggerName"))) {
        JsonObject fields = new JsonObject();
        event.getJsonArray("kvpList").forEach(kv -> fields.mergeIn((JsonObject) kv));
        access.put(fields.getString("request_id"), fields);
      }
    }
    for (Outcome o : outcomes) {
      if (o.status() == 0) {
        continue;
      }
      assertTrue(o.requestId() != null && o.requestId().matches("req_[0-9a-f]{32}"), "x-request-id: " + o.requestId());
      JsonObject line = access.get(o.requestId());
      assertTrue(line != null, "no access line for " + o.requestId() + " among " + access.size());
      assertEquals("POST", line.getString("method"));
      assertEquals("/v1/completions", line.getString("path"));
      assertEquals(Integer.toString(o.status()), line.getString("status"), "key-values are strings: " + line.encode());
      assertEquals(o.completionId(), line.getString("completion_id"), line.encode());
    }
  }

  /**
   * The engine's own logback.xml by URL: by name the test class path has two (the node's too), and logback then
   * prints its status list, which is not JSON.
   */
  private static String serverLogback() throws Exception {
    String where = io.inferium.engine.cli.Main.class.getProtectionDomain().getCodeSource().getLocation().toString();
    return where.endsWith(".jar") ? "jar:" + where + "!/logback.xml" : where + "logback.xml";
  }

  private static void deployTinyGpt(io.vertx.core.Vertx vertx, int port) throws Exception {
    java.nio.file.Path d = OpenAiIT.MODELS.resolve("tiny-gpt");
    io.vertx.ext.web.multipart.MultipartForm form = io.vertx.ext.web.multipart.MultipartForm.create()
        .attribute("spec", new JsonObject(java.nio.file.Files.readString(d.resolve("spec.json"))).encode())
        .binaryFileUpload("model", "model.onnx", d.resolve("model.onnx").toString(), "application/octet-stream")
        .binaryFileUpload("tokenizer", "tokenizer.json", d.resolve("tokenizer.json").toString(), "application/json")
        .binaryFileUpload("tokenizer_config", "tokenizer_config.json", d.resolve("tokenizer_config.json").toString(),
            "application/json")
        .binaryFileUpload("generation_config", "generation_config.json", d.resolve("generation_config.json").toString(),
            "application/json");
    io.vertx.ext.web.client.WebClient client = io.vertx.ext.web.client.WebClient.create(vertx);
    try {
      HttpResponse<Buffer> resp = client.post(port, "127.0.0.1", "/api/functions").bearerTokenAuthentication(PROCESS_KEY)
          .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
      assertEquals(202, resp.statusCode(), resp.bodyAsString());
      JsonObject rec = Eventually.value("tiny-gpt verified", Duration.ofSeconds(120), () -> client.get(port, "127.0.0.1",
              "/api/functions/tiny-gpt/versions/1").bearerTokenAuthentication(PROCESS_KEY).send()
          .await(30, TimeUnit.SECONDS).bodyAsJsonObject(), r -> !"verifying".equals(r.getString("state")));
      assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    } finally {
      client.close();
    }
  }

  /** One client: streamed completions back to back; stops at a refusal or a refused connection. */
  private static void streamLoop(io.vertx.core.http.HttpClient http, int port, int client, java.util.List<Outcome> outcomes,
      java.util.Set<Integer> streaming, io.vertx.core.Promise<Void> done) {
    long sent = System.nanoTime();
    // Lengths differ per client: generations batched together would otherwise all end in the same step, leaving a
    // moment with no stream in flight, and the drain's refusals could begin in it (seen once in CI).
    String body = new JsonObject().put("model", "tiny-gpt").put("prompt", "The license " + client)
        .put("max_tokens", 120 + 24 * client)
        .put("temperature", 0.9).put("seed", client).put("stream", true).encode();
    StringBuilder received = new StringBuilder();
    int[] status = {0};
    String[] retryAfter = {null};
    String[] ids = {null, null};
    http.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST).setPort(port)
            .setHost("127.0.0.1").setURI("/v1/completions")
            .putHeader("Authorization", "Bearer " + PROCESS_KEY).putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(body))
        .compose(resp -> {
          status[0] = resp.statusCode();
          retryAfter[0] = resp.getHeader("Retry-After");
          ids[0] = resp.getHeader("x-request-id");
          ids[1] = resp.getHeader("X-Inferium-Request-Id");
          resp.handler(chunk -> {
            received.append(chunk.toString(java.nio.charset.StandardCharsets.UTF_8));
            if (resp.statusCode() == 200) {
              streaming.add(client);
            }
          });
          return resp.end();
        })
        .onComplete(ar -> {
          streaming.remove(client);
          outcomes.add(new Outcome(sent, System.nanoTime(), status[0], retryAfter[0], received.toString(),
              ar.failed() ? ar.cause() : null, ids[0], ids[1]));
          if (ar.failed() || status[0] != 200) {
            done.complete();
          } else {
            streamLoop(http, port, client, outcomes, streaming, done);
          }
        });
  }
}
