package io.inferium.engine;

import static io.inferium.engine.GatewayIT.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.api.HttpTimeouts;
import io.inferium.engine.gateway.WorkerPortLimits;
import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The attacks on the gateway's edges, replayed against a real gateway with short limits: each ends in
 * a closed connection or a clear 4xx for the attacker, while another tenant's ordinary request still
 * gets the right answer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EdgesIT {

  private static final long HEADER_MS = 1_500;
  private static final long KEEPALIVE_MS = 2_000;
  private static final long BODY_GRACE_MS = 2_000;
  private static final long HELLO_MS = 2_500;
  private static final int MAX_UNATTESTED = 4;
  private static final int MAX_FRAME = 64 << 10;

  private TestGateway gw;
  private String aliceDev;
  private String aliceUser;
  private String malloryDev;
  private String malloryUser;

  @BeforeAll
  void start() throws Exception {
    Path tiers = Files.createTempFile("tiers-", ".json");
    Files.writeString(tiers, """
        {"default_tier": "free",
         "tiers": {
           "free":  {"requests_per_minute": 10000, "monthly_included_micro_usd": null, "storage_bytes": 10000000,
                     "max_concurrent_uploads": 2, "max_streams": 2, "max_pending_verifications": 1,
                     "most_urgent_priority": 5},
           "small": {"requests_per_minute": 10000, "monthly_included_micro_usd": null, "storage_bytes": 600,
                     "max_pending_verifications": 8},
           "pro":   {"requests_per_minute": 10000, "monthly_included_micro_usd": null, "storage_bytes": 10000000,
                     "max_concurrent_uploads": 4, "max_streams": 8, "max_pending_verifications": 8,
                     "most_urgent_priority": 3}},
         "upgrade_order": ["free", "small", "pro"]}""");
    EdgeLimits edges = new EdgeLimits(
        new HttpTimeouts(HEADER_MS, KEEPALIVE_MS, BODY_GRACE_MS, 64 << 10, 60, 1_000),
        new WorkerPortLimits(64 << 10, HELLO_MS, MAX_UNATTESTED, MAX_FRAME));
    gw = TestGateway.start(1, b -> b.tiersFile(tiers).edges(edges));
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"alice\",\"tier\":\"pro\"}").statusCode());
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"mallory\",\"tier\":\"free\"}").statusCode());
    aliceDev = key("alice", "developer");
    aliceUser = key("alice", "user");
    malloryDev = key("mallory", "developer");
    malloryUser = key("mallory", "user");
    // Unbatched, so a request may carry any number of rows (the frame-limit test sends 5000).
    JsonObject ready = gw.deployAndWait(new JsonObject().put("name", "edge-add")
        .put("batching", new JsonObject().put("max_batch_size", 0)), TestGateway.model("add.onnx"));
    assertEquals("ready", ready.getString("state"), ready.encode());
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private String key(String tenant, String role) throws Exception {
    return gw.newKey(tenant, role);
  }

  private HttpResponse<Buffer> post(String key, String path, JsonObject body) throws Exception {
    return gw.postAs(key, path, body);
  }

  private HttpResponse<Buffer> deploy(String key, String name, String model) throws Exception {
    Path file = TestGateway.model(model);
    MultipartForm form = MultipartForm.create().attribute("spec", new JsonObject().put("name", name).encode())
        .binaryFileUpload("model", file.getFileName().toString(), file.toString(), "application/octet-stream");
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions").bearerTokenAuthentication(key)
        .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
  }

  private static JsonObject addRequest(int rows) {
    float[] a = new float[rows * 4];
    float[] b = new float[rows * 4];
    for (int i = 0; i < a.length; i++) {
      a[i] = i % 7;
      b[i] = 1;
    }
    return new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {rows, 4}, a)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {rows, 4}, b))));
  }

  /** Alice's ordinary call, with the answer checked: 1+1, 2+1, 3+1, 4+1. */
  private void aliceStillServed() throws Exception {
    JsonObject body = new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, 1, 2, 3, 4)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 1, 1, 1))));
    HttpResponse<Buffer> ok = TestGateway.poll("alice's request answered",
        () -> post(aliceUser, "/v2/models/edge-add/infer", body), r -> r.statusCode() == 200);
    JsonArray data = ok.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
    assertEquals(new JsonArray().add(2.0).add(3.0).add(4.0).add(5.0), data, ok.bodyAsString());
  }

  // ---- raw sockets -------------------------------------------------------------------------------

  /** Reads until the peer closes (true) or {@code ms} pass with the connection still open (false). */
  private static boolean closedWithin(Socket s, long ms) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    InputStream in = s.getInputStream();
    byte[] buf = new byte[8192];
    while (System.nanoTime() < deadline) {
      s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      try {
        if (in.read(buf) < 0) {
          return true;
        }
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException reset) {
        return true;
      }
    }
    return false;
  }

  /** Reads an HTTP response head and as much body as arrives within {@code ms}; "" when nothing did. */
  private static String readResponse(Socket s, long ms) throws IOException {
    s.setSoTimeout((int) ms);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    try {
      while (System.nanoTime() < deadline) {
        int n = s.getInputStream().read(buf);
        if (n < 0) {
          break;
        }
        got.write(buf, 0, n);
        String text = got.toString(StandardCharsets.UTF_8);
        int head = text.indexOf("\r\n\r\n");
        if (head >= 0 && text.endsWith("}")) {
          break;
        }
      }
    } catch (SocketTimeoutException | java.net.SocketException done) {
      // whatever arrived is the answer
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  private Socket http() throws IOException {
    Socket s = new Socket("127.0.0.1", gw.port());
    s.setTcpNoDelay(true);
    return s;
  }

  private static void send(Socket s, String text) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  // ---- the worker port ---------------------------------------------------------------------------

  @Test
  @Order(1)
  void aHugeFrameBeforeHelloIsRefusedAtOnceWithoutBufferingIt() throws Exception {
    Runtime rt = Runtime.getRuntime();
    System.gc();
    long heapBefore = rt.totalMemory() - rt.freeMemory();
    long start = System.nanoTime();
    long written = 0;
    try (Socket s = new Socket("127.0.0.1", gw.gateway.supervisor().port())) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeInt(300 << 20);
      byte[] chunk = new byte[64 << 10];
      try {
        for (int i = 0; i < 64; i++) { // up to 4 MiB of the announced 300
          out.write(chunk);
          out.flush();
          written += chunk.length;
        }
      } catch (IOException closedUnderUs) {
        // the gateway closed the connection: what the test expects
      }
      assertTrue(closedWithin(s, 3_000), "the connection is still open");
    }
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(tookMs < HELLO_MS, "closed after " + tookMs + " ms, not at once");
    System.gc();
    long grown = rt.totalMemory() - rt.freeMemory() - heapBefore;
    System.out.printf("300 MiB length prefix before hello: closed after %d ms, %d bytes written before the close, "
        + "heap %+d MiB%n", tookMs, written, grown >> 20);
    assertTrue(grown < 64L << 20, "the heap grew by " + (grown >> 20) + " MiB");
    aliceStillServed();
  }

  @Test
  @Order(2)
  void aSilentConnectionIsClosedAtTheHelloTimeoutAndOneTooManyPushesOutTheOldest() throws Exception {
    long start = System.nanoTime();
    try (Socket silent = new Socket("127.0.0.1", gw.gateway.supervisor().port())) {
      assertTrue(closedWithin(silent, HELLO_MS + 5_000), "a silent connection stayed open");
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(tookMs >= HELLO_MS - 100, "closed after " + tookMs + " ms, before the hello timeout");
    }
    // The silent connection's place is free as soon as the gateway closes it: connections opened the
    // moment its close is seen all get their full hello time (none is pushed out on a stale count).
    List<Socket> held = new ArrayList<>();
    long heldAt = System.nanoTime();
    try {
      for (int i = 0; i < MAX_UNATTESTED; i++) {
        held.add(new Socket("127.0.0.1", gw.gateway.supervisor().port()));
      }
      Eventually.until("the gateway counts the " + MAX_UNATTESTED + " held connections",
          () -> gw.gateway.supervisor().unattestedConnections() == MAX_UNATTESTED);
      long heldMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - heldAt);
      assertTrue(heldMs < HELLO_MS - 500, "the checks below need the held connections younger than the hello time");
      for (Socket s : held) {
        assertFalse(closedWithin(s, 20), "a held connection was closed within " + heldMs + " ms, before its hello time");
      }
      // One more: the oldest silent connection makes room for it, at once.
      try (Socket oneMore = new Socket("127.0.0.1", gw.gateway.supervisor().port())) {
        long at = System.nanoTime();
        assertTrue(closedWithin(held.get(0), HELLO_MS - 500), "the oldest silent connection was not pushed out");
        System.out.printf("connection %d without hello pushed out the oldest after %d ms%n", MAX_UNATTESTED + 1,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - at));
        assertFalse(closedWithin(oneMore, 20), "the newcomer was closed instead of the oldest");
        for (Socket s : held.subList(1, held.size())) {
          assertFalse(closedWithin(s, 20), "a younger held connection was pushed out");
        }
        assertEquals(MAX_UNATTESTED, gw.gateway.supervisor().unattestedConnections());
        assertTrue(closedWithin(oneMore, HELLO_MS + 5_000), "the newcomer outlived the hello timeout");
      }
      for (Socket s : held) {
        assertTrue(closedWithin(s, HELLO_MS + 5_000), "a held connection outlived the hello timeout");
      }
      assertEquals(0, gw.gateway.supervisor().unattestedConnections(), "connections closed at the hello timeout still count");
      String metrics = gw.metrics.scrape();
      for (String reason : List.of("pushed_out", "hello_timeout", "oversized_hello")) {
        String series = "inferium_port_closed_before_hello_total{port=\"worker\",reason=\"" + reason + "\"} ";
        double n = metrics.lines().filter(l -> l.startsWith(series)).mapToDouble(l -> Double.parseDouble(
            l.substring(series.length()))).findFirst().orElse(0);
        assertTrue(n >= 1, reason + " not counted: " + n);
      }
      assertTrue(metrics.contains("inferium_port_unattested_connections{port=\"worker\"} 0.0"), "gauge missing");
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
    aliceStillServed();
  }

  /**
   * The attack the cap alone allowed: anyone on the machine fills every place with silent connections and reopens
   * each one the hello timeout closes. A worker that dies meanwhile must still be replaced: its replacement's
   * connection pushes out the attacker's oldest.
   */
  @Test
  @Order(3)
  void aWorkerIsReplacedWhileAnAttackerKeepsThePortFull() throws Exception {
    int port = gw.gateway.supervisor().port();
    java.util.concurrent.atomic.AtomicBoolean attacking = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
    List<Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread attacker = new Thread(() -> {
      try {
        while (attacking.get()) {
          synchronized (held) {
            held.removeIf(s -> {
              try {
                boolean gone = closedWithin(s, 1);
                if (gone) {
                  s.close();
                }
                return gone;
              } catch (IOException e) {
                return true;
              }
            });
            while (held.size() < MAX_UNATTESTED) {
              held.add(new Socket("127.0.0.1", port));
              opened.incrementAndGet();
            }
          }
          Thread.sleep(5);
        }
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }, "edges-attacker");
    attacker.start();
    try {
      Eventually.until("the attacker to hold every place",
          () -> gw.gateway.supervisor().unattestedConnections() == MAX_UNATTESTED);
      var victim = gw.gateway.supervisor().workers().get(0);
      ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly();
      Eventually.until("the killed worker to be replaced while the port is kept full", Duration.ofSeconds(90),
          () -> gw.gateway.supervisor().workers().stream().anyMatch(w -> w.pid() != victim.pid()));
      assertTrue(attacker.isAlive(), "the attacker stopped early");
      aliceStillServed();
      System.out.printf("worker replaced while the attacker kept %d places full (%d connections opened)%n",
          MAX_UNATTESTED, opened.get());
    } finally {
      attacking.set(false);
      attacker.join(10_000);
      synchronized (held) {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }

  @Test
  @Order(4)
  void aFrameOverTheLinkLimitEndsThatRequestNamingTheLimitAndTheWorkerIsReplaced() throws Exception {
    // 5000 rows × 4 FP32 = 80,000 bytes of output: over this gateway's 64 KiB worker frame limit.
    HttpResponse<Buffer> big = post(malloryUser, "/v2/models/edge-add/infer", addRequest(5_000));
    assertError(big, 502, "over the " + MAX_FRAME + "-byte limit of worker links");
    aliceStillServed();
  }

  // ---- HTTP timeouts -----------------------------------------------------------------------------

  @Test
  @Order(5)
  void headersSentOneByteAtATimeAreCutOffAtTheHeaderTimeout() throws Exception {
    String head = "GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(200);
    long start = System.nanoTime();
    try (Socket s = http()) {
      boolean cut = false;
      for (int i = 0; i < head.length() && !cut; i++) {
        try {
          send(s, head.substring(i, i + 1));
        } catch (IOException closed) {
          cut = true;
          break;
        }
        cut = closedWithin(s, 100);
      }
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(cut, "a slowloris client was never cut off");
      assertTrue(tookMs >= HEADER_MS - 100 && tookMs < HEADER_MS + 3_000, "cut after " + tookMs + " ms");
      System.out.printf("slowloris headers cut after %d ms%n", tookMs);
    }
    aliceStillServed();
  }

  @Test
  @Order(6)
  void anIdleKeptAliveConnectionIsClosedAfterTheKeepAliveTimeout() throws Exception {
    try (Socket s = http()) {
      send(s, "GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assertTrue(readResponse(s, 5_000).startsWith("HTTP/1.1 200"));
      long start = System.nanoTime();
      assertTrue(closedWithin(s, KEEPALIVE_MS + 3_000), "an idle connection stayed open");
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(tookMs >= KEEPALIVE_MS - 200, "closed after " + tookMs + " ms");
    }
  }

  @Test
  @Order(7)
  void aBodyTrickledSlowlyIsAnswered408AndClosed() throws Exception {
    try (Socket s = http()) {
      send(s, "POST /v2/models/edge-add/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + malloryUser
          + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"inputs\": [");
      long start = System.nanoTime();
      String answer = "";
      for (int i = 0; i < 40 && answer.isEmpty(); i++) {
        try {
          send(s, " ");
        } catch (IOException closed) {
          break;
        }
        answer = readResponse(s, 250);
      }
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(answer.startsWith("HTTP/1.1 408"), "got: " + answer);
      assertTrue(answer.contains("request body not received in time"), answer);
      assertTrue(closedWithin(s, 3_000), "the connection stayed open after the 408");
      assertTrue(tookMs >= BODY_GRACE_MS - 100 && tookMs < BODY_GRACE_MS + 4_000, "408 after " + tookMs + " ms");
    }
    aliceStillServed();
  }

  @Test
  @Order(8)
  void anOpenEventStreamOutlivesTheHeaderAndKeepAliveTimeouts() throws Exception {
    try (Socket s = http()) {
      send(s, "GET /api/leaderboard/stream?category=tabular HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
          + aliceUser + "\r\n\r\n");
      String head = readResponse(s, 3_000);
      assertTrue(head.startsWith("HTTP/1.1 200"), head);
      assertTrue(!closedWithin(s, HEADER_MS + KEEPALIVE_MS + 500), "a streaming response was cut by a timeout");
    }
  }

  // ---- role before body --------------------------------------------------------------------------

  private Set<Path> uploads() throws IOException {
    Path dir = gw.dataDir.resolve("uploads");
    try (Stream<Path> files = Files.list(dir)) {
      return files.collect(Collectors.toSet());
    }
  }

  /** Sends the head of a 100 MB upload, then its body; returns {response, bytes of body sent before the close}. */
  private String[] hugeUpload(String key) throws Exception {
    try (Socket s = http()) {
      send(s, "POST /api/functions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (key == null ? "" : "Authorization: Bearer " + key + "\r\n")
          + "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 100000000\r\n\r\n");
      String answer = readResponse(s, 5_000);
      long sent = 0;
      byte[] chunk = new byte[64 << 10];
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      try {
        while (sent < 100_000_000 && System.nanoTime() < deadline) {
          s.getOutputStream().write(chunk);
          sent += chunk.length;
        }
      } catch (IOException closed) {
        // the gateway closed the connection
      }
      return new String[] {answer, Long.toString(sent)};
    }
  }

  @Test
  @Order(9)
  void aUserKeyOrNoKeyIsRefusedBeforeAnUploadIsRead() throws Exception {
    Set<Path> before = uploads();
    String[] user = hugeUpload(malloryUser);
    assertTrue(user[0].startsWith("HTTP/1.1 403"), user[0]);
    assertTrue(user[0].contains("a user key may not deploy functions"), user[0]);
    assertTrue(user[0].toLowerCase().contains("connection: close"), user[0]);
    assertTrue(Long.parseLong(user[1]) < 100_000_000, "the whole upload was taken: " + user[1] + " bytes");
    String[] anonymous = hugeUpload(null);
    assertTrue(anonymous[0].startsWith("HTTP/1.1 401"), anonymous[0]);
    assertTrue(Long.parseLong(anonymous[1]) < 100_000_000, "the whole upload was taken: " + anonymous[1] + " bytes");
    System.out.printf("100 MB uploads refused before the body: user key after %s bytes, no key after %s bytes%n",
        user[1], anonymous[1]);
    assertEquals(before, uploads(), "an upload was written to disk");
    aliceStillServed();
  }

  // ---- per-tenant limits -------------------------------------------------------------------------

  @Test
  @Order(10)
  void aTenantHoldsAtMostItsTiersUploadsAtOnce() throws Exception {
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        Socket s = http();
        send(s, "POST /api/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + malloryDev
            + "\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 1000000\r\n\r\n--XyZ\r\n");
        // No answer: it was admitted and its body is being read (which also gives the gateway time to count it).
        assertEquals("", readResponse(s, 300));
        slow.add(s);
      }
      HttpResponse<Buffer> third = deploy(malloryDev, "m-third", "add.onnx");
      assertError(third, 429, "tier free allows 2 uploads at once");
      assertEquals(202, deploy(aliceDev, "alice-upload", "add.onnx").statusCode(), "another tenant's upload");
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
    // Closed uploads give their slots back.
    HttpResponse<Buffer> later = TestGateway.poll("an upload once the slow ones are gone",
        () -> deploy(malloryDev, "m-later", "add.onnx"), r -> r.statusCode() != 429);
    assertEquals(202, later.statusCode(), later.bodyAsString());
    aliceStillServed();
  }

  @Test
  @Order(11)
  void aTenantOpensAtMostItsTiersEventStreams() throws Exception {
    List<Socket> streams = new ArrayList<>();
    String request = "GET /api/leaderboard/stream?category=tabular HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ";
    try {
      for (int i = 0; i < 2; i++) {
        Socket s = http();
        send(s, request + malloryUser + "\r\n\r\n");
        assertTrue(readResponse(s, 3_000).startsWith("HTTP/1.1 200"));
        streams.add(s);
      }
      HttpResponse<Buffer> third = gw.client.get(gw.port(), "127.0.0.1", "/api/leaderboard/stream?category=tabular")
          .bearerTokenAuthentication(malloryUser).send().await(30, TimeUnit.SECONDS);
      assertError(third, 429, "tier free allows 2 open event streams");
      try (Socket other = http()) {
        send(other, request + aliceUser + "\r\n\r\n");
        assertTrue(readResponse(other, 3_000).startsWith("HTTP/1.1 200"), "another tenant's stream");
      }
      streams.remove(0).close();
      try (Socket again = TestGateway.poll("a stream once one closed", () -> {
        Socket s = http();
        send(s, request + malloryUser + "\r\n\r\n");
        if (readResponse(s, 3_000).startsWith("HTTP/1.1 200")) {
          return s;
        }
        s.close();
        return null;
      }, s -> s != null)) {
        assertTrue(again.isConnected());
      }
    } finally {
      for (Socket s : streams) {
        s.close();
      }
    }
  }

  @Test
  @Order(12)
  void aTenantCannotFillTheVerificationQueue() throws Exception {
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"vera\",\"tier\":\"free\"}").statusCode());
    String vera = key("vera", "developer");
    // The first version hangs its smoke inference, so it stays in verification for seconds.
    assertEquals(202, deploy(vera, "vera-hang", "hang_always.onnx").statusCode());
    assertError(deploy(vera, "vera-second", "add.onnx"), 429, "tier free allows 1 deployment(s) waiting for verification");
    assertEquals(202, deploy(aliceDev, "alice-during", "add.onnx").statusCode(), "another tenant's deploy gets in");
    HttpResponse<Buffer> later = TestGateway.poll("vera's next deploy once hers is verified",
        () -> deploy(vera, "vera-later", "add.onnx"), r -> r.statusCode() != 429);
    assertEquals(202, later.statusCode(), later.bodyAsString());
  }

  @Test
  @Order(13)
  void onlyTiersThatGrantItMayAskForAnUrgentPriority() throws Exception {
    JsonObject urgent = addRequest(1).put("parameters", new JsonObject().put("priority", 1));
    assertError(post(malloryUser, "/v2/models/edge-add/infer", urgent), 403,
        "parameter 'priority': 1 is more urgent than tier free allows (5 to 9");
    assertError(post(aliceUser, "/v2/models/edge-add/infer", urgent), 403, "tier pro allows (3 to 9");
    JsonObject three = addRequest(1).put("parameters", new JsonObject().put("priority", 3));
    assertEquals(200, post(aliceUser, "/v2/models/edge-add/infer", three).statusCode());
    JsonObject lazy = addRequest(1).put("parameters", new JsonObject().put("priority", 9));
    assertEquals(200, post(malloryUser, "/v2/models/edge-add/infer", lazy).statusCode());
    assertEquals(200, gw.infer("edge-add", urgent).statusCode(), "the platform key keeps any priority");
  }

  @Test
  @Order(14)
  void everyVersionCountsItsBytesAgainstTheStorageQuota() throws Exception {
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"stor\",\"tier\":\"small\"}").statusCode());
    String dev = key("stor", "developer");
    // add.onnx is 203 bytes: two names fit in 600, the third copy of the same bytes does not.
    assertEquals(202, deploy(dev, "stor-1", "add.onnx").statusCode());
    assertEquals(202, deploy(dev, "stor-2", "add.onnx").statusCode());
    HttpResponse<Buffer> third = deploy(dev, "stor-3", "add.onnx");
    assertError(third, 402, "model storage quota of tier small exceeded");
    assertTrue(third.bodyAsJsonObject().getString("error").contains("every function version counts"), third.bodyAsString());
    assertEquals(202, deploy(aliceDev, "alice-copy", "add.onnx").statusCode(), "another tenant's deploy of the same bytes");
  }

  @Test
  @Order(15)
  void aShapeWhoseByteCountOverflowsIsA400NamingTheInput() throws Exception {
    JsonObject header = new JsonObject().put("inputs", new JsonArray()
        .add(new JsonObject().put("name", "a").put("datatype", "FP32").put("shape", new JsonArray().add(1L << 60).add(4))
            .put("parameters", new JsonObject().put("binary_data_size", 0)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 1, 1, 1))));
    Buffer body = header.toBuffer();
    HttpResponse<Buffer> resp = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/edge-add/infer")
        .bearerTokenAuthentication(malloryUser).putHeader("Inference-Header-Content-Length", Integer.toString(body.length()))
        .putHeader("Content-Type", "application/octet-stream").sendBuffer(body).await(30, TimeUnit.SECONDS);
    assertError(resp, 400, "input 'a': shape [1152921504606846976,4] of FP32 has more bytes than a tensor can hold");
    aliceStillServed();
  }
}
