package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link ConnectionGuard} on a real Vert.x server, driven by raw sockets as slow clients would. */
class ConnectionGuardTest {

  private static final HttpTimeouts TIMEOUTS = new HttpTimeouts(600, 800, 700, 64 << 10, 30, 300);

  private Vertx vertx;
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    ConnectionGuard guard = new ConnectionGuard(vertx, TIMEOUTS);
    Router router = Router.router(vertx);
    router.route().handler(guard::route);
    router.get("/ok").handler(ctx -> ctx.response().end("ok"));
    router.get("/stream").handler(ctx -> ctx.response().setChunked(true).write("data: 1\n\n"));
    router.post("/refuse").handler(ctx -> ctx.response().setStatusCode(403).end("{\"error\": \"no\"}"));
    router.post("/echo").handler(BodyHandler.create(false)).handler(ctx -> ctx.response().end("got " + ctx.body().length()));
    server = vertx.createHttpServer(ConnectionGuard.serverOptions(TIMEOUTS))
        .connectionHandler(guard::connected)
        .requestHandler(req -> {
          guard.request(req);
          router.handle(req);
        })
        .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", server.actualPort());
    s.setTcpNoDelay(true);
    return s;
  }

  private static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    s.getOutputStream().flush();
  }

  /** Milliseconds until the server closed the connection, or -1 if it was still open after {@code ms}. */
  private static long closesWithin(Socket s, long ms) throws IOException {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.MILLISECONDS.toNanos(ms);
    byte[] buf = new byte[4096];
    while (System.nanoTime() < deadline) {
      s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      try {
        if (s.getInputStream().read(buf) < 0) {
          return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }
      } catch (SocketTimeoutException e) {
        return -1;
      } catch (IOException reset) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      }
    }
    return -1;
  }

  private static String response(Socket s) throws IOException {
    s.setSoTimeout(3_000);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      int n;
      while ((n = s.getInputStream().read(buf)) > 0) {
        got.write(buf, 0, n);
        String text = got.toString(StandardCharsets.UTF_8);
        int head = text.indexOf("\r\n\r\n");
        if (head >= 0) {
          int length = text.toLowerCase().indexOf("content-length: ");
          if (length >= 0) {
            int end = text.indexOf("\r\n", length);
            int want = Integer.parseInt(text.substring(length + 16, end).strip());
            if (got.size() >= head + 4 + want) {
              break;
            }
          } else {
            break;
          }
        }
      }
    } catch (SocketTimeoutException | java.net.SocketException done) {
      // what arrived is the answer
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  @Test
  void headersThatNeverCompleteAreCutAtTheHeaderTimeout() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: a");
      long took = closesWithin(s, 5_000);
      assertTrue(took >= 0, "never cut");
      assertTrue(took >= TIMEOUTS.headerTimeoutMs() - 100, "cut after " + took + " ms");
    }
  }

  @Test
  void aKeptAliveConnectionServesSeveralRequestsThenClosesWhenIdle() throws Exception {
    try (Socket s = connect()) {
      for (int i = 0; i < 3; i++) {
        send(s, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        String answer = response(s);
        assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("ok"), answer);
        assertFalse(answer.toLowerCase().contains("connection: close"), answer);
      }
      long took = closesWithin(s, 5_000);
      assertTrue(took >= TIMEOUTS.keepAliveTimeoutMs() - 100, "closed after " + took + " ms");
    }
  }

  @Test
  void theKeepAliveDeadlineMovesWithEachRequestThoughItsTimerIsSetOnce() throws Exception {
    try (Socket s = connect()) {
      // Five requests 250 ms apart span 1 s, past the 800 ms keep-alive counted from the first answer: the timer set
      // then fires before the moved deadline and must set itself again, not close a connection in use.
      for (int i = 0; i < 5; i++) {
        send(s, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        String answer = response(s);
        assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("ok"), "request " + i + ": " + answer);
        Thread.sleep(250);
      }
      long took = closesWithin(s, 5_000);
      assertTrue(took >= 0, "never closed");
      assertTrue(took >= TIMEOUTS.keepAliveTimeoutMs() - 250 - 100, "closed " + took + " ms after the last sleep");
    }
  }

  @Test
  void aBodyThatStallsIsAnswered408() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc");
      String answer = response(s);
      assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
      assertTrue(closesWithin(s, 3_000) >= 0, "still open after the 408");
    }
  }

  @Test
  void aBodyAtAFairRateIsRead() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
      send(s, "56789");
      String answer = response(s);
      assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("got 10"), answer);
    }
  }

  @Test
  void anEarlyAnswerClosesTheConnectionInsteadOfDrainingTheBody() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
      String answer = response(s);
      assertTrue(answer.startsWith("HTTP/1.1 403"), answer);
      assertTrue(answer.toLowerCase().contains("connection: close"), answer);
      long sent = 0;
      byte[] chunk = new byte[64 << 10];
      try {
        while (sent < 100_000_000) {
          s.getOutputStream().write(chunk);
          sent += chunk.length;
        }
      } catch (IOException closed) {
        // expected
      }
      assertTrue(sent < 50_000_000, sent + " bytes were taken");
    }
  }

  @Test
  void aStreamingResponseIsNotCutWhileItLasts() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
      assertTrue(response(s).startsWith("HTTP/1.1 200"));
      assertEquals(-1, closesWithin(s, TIMEOUTS.headerTimeoutMs() + TIMEOUTS.keepAliveTimeoutMs() + 300));
    }
  }
}
