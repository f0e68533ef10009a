package io.inferium.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The load loops against a synthetic server on loopback that answers at once except for one
 * request, which it holds for {@link #STALL_MS}. With one connection that stall delays every
 * request scheduled behind it: the open loop must charge it to all of them (coordinated omission
 * corrected), while a closed loop by construction sees one slow request.
 */
class LoadGeneratorTest {

  static final int STALL_MS = 300;
  static final int STALLED_REQUEST = 10;

  Vertx vertx;
  HttpServer server;
  final AtomicInteger served = new AtomicInteger();

  @BeforeEach
  void startServer() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      int n = served.incrementAndGet();
      if (req.path().endsWith("/fail/infer")) {
        req.response().setStatusCode(503).end("{\"error\":\"busy\"}");
      } else if (n == STALLED_REQUEST) {
        vertx.setTimer(STALL_MS, t -> req.response().end("{}"));
      } else {
        req.response().end("{}");
      }
    })).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  LoadTarget target(String function) {
    return LoadTarget.infer("http://127.0.0.1:" + server.actualPort(), function, "k",
        InferBody.json(Buffer.buffer("{\"inputs\":[]}")));
  }

  @Test
  void openLoopChargesAStallToEveryRequestScheduledBehindIt() throws Exception {
    // 100 requests 10 ms apart over one connection; request 10 (intended at ~90 ms) is held 300 ms,
    // so about 30 requests scheduled during the stall wait for the connection.
    LoadResult r = new LoadGenerator(vertx).openLoop("open", target("m"),
            new LoadGenerator.OpenPlan(100, 1, Duration.ZERO, Duration.ofSeconds(1), 1_000))
        .await(30, TimeUnit.SECONDS);

    assertEquals(100, r.latency().getTotalCount(), r.toJson().encode());
    assertEquals(100, served.get());
    assertTrue(r.latency().getMaxValue() >= TimeUnit.MILLISECONDS.toMicros(STALL_MS - 20), r.toJson().encode());
    // A fifth of all requests waited over 100 ms: the stall is not one sample but a third of the run.
    assertTrue(r.latencyMs(80) > 100, "p80 " + r.latencyMs(80) + " ms: the stall was not charged to waiting requests");
    assertEquals("open", r.mode());
  }

  @Test
  void closedLoopSeesTheSameStallAsOneSlowRequest() throws Exception {
    LoadResult r = new LoadGenerator(vertx).closedLoop("closed", target("m"),
            new LoadGenerator.ClosedPlan(1, Duration.ZERO, Duration.ofSeconds(1), 200))
        .await(30, TimeUnit.SECONDS);

    assertTrue(served.get() <= 200, "the request cap holds: " + served.get());
    assertTrue(r.latencyMs(100) >= STALL_MS - 20, r.toJson().encode());
    // The omission the open loop corrects: everything but the stalled request looks fast.
    assertTrue(r.latencyMs(80) < 50, r.toJson().encode());
  }

  @Test
  void closedLoopStopsAtItsRequestCapAndCountsErrorsByStatus() throws Exception {
    LoadResult r = new LoadGenerator(vertx).closedLoop("fail", target("fail"),
            new LoadGenerator.ClosedPlan(4, Duration.ZERO, Duration.ofSeconds(5), 40))
        .await(30, TimeUnit.SECONDS);

    assertEquals(40, served.get());
    assertEquals(0, r.ok());
    assertEquals(40L, r.errors().get("http 503"), r.errors().toString());
  }

  @Test
  void onlyLoopbackTargetsAreAccepted() {
    assertThrows(IllegalArgumentException.class,
        () -> new LoadTarget("10.1.2.3", 80, "/", MultiMap.caseInsensitiveMultiMap(), Buffer.buffer(), 1000));
    assertThrows(IllegalArgumentException.class,
        () -> LoadTarget.infer("https://127.0.0.1:1", "m", null, InferBody.json(Buffer.buffer("{}"))));
    new LoadTarget("localhost", 80, "/", MultiMap.caseInsensitiveMultiMap(), Buffer.buffer(), 1000);
  }
}
