package io.inferium.engine.api;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-connection deadlines the HTTP server does not have: complete request headers within
 * {@link HttpTimeouts#headerTimeoutMs} of connecting (and within {@link HttpTimeouts#keepAliveTimeoutMs} of
 * the previous response), a request body at no less than a minimum average rate after a grace (else
 * 408 and close), and a connection whose request body was not read (an early 401/403/413/429) closed
 * once the answer is out, so an unread upload is never drained in full. Vert.x's idle timeout, counting
 * both directions, is the backstop for everything else. All state lives on the connection's context.
 */
final class ConnectionGuard {

  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);
  private static final String CONN = "inferium.connection";

  private final Vertx vertx;
  private final HttpTimeouts timeouts;

  ConnectionGuard(Vertx vertx, HttpTimeouts timeouts) {
    this.vertx = vertx;
    this.timeouts = timeouts;
  }

  /**
   * One connection: the request in progress (null between requests) and its one deadline. The deadline moves with
   * every request (headers, body, keep-alive) but the Vert.x timer behind it does not: a timer that fires before the
   * deadline sets itself again for the rest, and one is replaced only when a deadline comes earlier than it. So a
   * keep-alive connection costs a timer per keep-alive period, not a set and a cancel per request (both show in
   * a profile of the request path: the timer map, the event loop's scheduled-task queue).
   */
  private final class Conn {
    final HttpConnection connection;
    final List<Runnable> onClose = new ArrayList<>();
    HttpServerRequest current;
    /** What runs when the deadline passes; null: no deadline. */
    Runnable action;
    long deadlineNanos;
    /** The pending Vert.x timer (-1: none) and when it fires. */
    long timer = -1;
    long timerAtNanos;
    boolean closed;

    Conn(HttpConnection connection) {
      this.connection = connection;
    }

    void arm(long ms, Runnable fire) {
      long now = System.nanoTime();
      action = fire;
      deadlineNanos = now + TimeUnit.MILLISECONDS.toNanos(Math.max(1, ms));
      if (timer >= 0 && timerAtNanos <= deadlineNanos) {
        return;
      }
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      schedule(now);
    }

    private void schedule(long now) {
      long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - now + 999_999));
      timerAtNanos = now + TimeUnit.MILLISECONDS.toNanos(ms);
      timer = vertx.setTimer(ms, t -> {
        if (t != timer) {
          return;
        }
        timer = -1;
        if (closed || action == null) {
          return;
        }
        long at = System.nanoTime();
        if (at - deadlineNanos < 0) {
          schedule(at);
          return;
        }
        Runnable fire = action;
        action = null;
        fire.run();
      });
    }

    /** No deadline until the next {@link #arm}; a pending timer finds none and lapses. */
    void disarm() {
      action = null;
    }

    /** At close: the pending timer goes too. */
    void cancel() {
      action = null;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }
  }

  private final java.util.Map<HttpConnection, Conn> connections = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The server options the guard relies on: Vert.x's idle timeout (both directions) as the backstop,
   * and no HTTP/2 cleartext detection, under which Vert.x calls the connection handler only once the
   * first request arrives, so a client that never completes its headers would go unseen.
   */
  static io.vertx.core.http.HttpServerOptions serverOptions(HttpTimeouts timeouts) {
    return new io.vertx.core.http.HttpServerOptions().setIdleTimeout(timeouts.idleTimeoutS()).setHttp2ClearTextEnabled(false);
  }

  /** The server's connection handler. */
  void connected(HttpConnection connection) {
    Conn c = new Conn(connection);
    connections.put(connection, c);
    connection.closeHandler(v -> {
      connections.remove(connection);
      c.closed = true;
      c.cancel();
      List<Runnable> hooks = new ArrayList<>(c.onClose);
      c.onClose.clear();
      hooks.forEach(ConnectionGuard::quietly);
    });
    c.arm(timeouts.headerTimeoutMs(), () -> {
      if (c.current == null) {
        log.debug("Closing {}: no complete request headers within {} ms", connection.remoteAddress(), timeouts.headerTimeoutMs());
        connection.close();
      }
    });
  }

  /** Whether the request announced a body (a non-zero Content-Length, or chunks). */
  private static boolean hasBody(HttpServerRequest req) {
    String length = req.getHeader("Content-Length");
    String encoding = req.getHeader("Transfer-Encoding");
    return (length != null && !length.strip().equals("0")) || (encoding != null && encoding.toLowerCase(java.util.Locale.ROOT).contains("chunked"));
  }

  /** Called with each request before the router sees it: its headers are complete; its body is timed. */
  void request(HttpServerRequest req) {
    Conn c = connections.get(req.connection());
    if (c == null) {
      return;
    }
    c.current = req;
    c.disarm();
    if (hasBody(req) && !req.isEnded()) {
      long start = System.nanoTime();
      watchBody(c, req, start);
    }
  }

  private void watchBody(Conn c, HttpServerRequest req, long startNanos) {
    c.arm(allowedMs(req.bytesRead()) - elapsedMs(startNanos), () -> {
      if (c.current != req || req.isEnded()) {
        return;
      }
      long elapsed = elapsedMs(startNanos);
      long read = req.bytesRead();
      if (elapsed < allowedMs(read)) {
        watchBody(c, req, startNanos);
        return;
      }
      String message = "request body not received in time: " + read + " bytes in " + elapsed + " ms (a body may take "
          + timeouts.bodyGraceMs() + " ms plus 1 s per " + timeouts.minBodyBytesPerSecond() + " bytes)";
      log.debug("Closing {}: {}", c.connection.remoteAddress(), message);
      if (req.response().headWritten() || req.response().ended()) {
        c.connection.close();
        return;
      }
      ApiError error = new ApiError(408, message);
      JsonObject body = req.path() != null && req.path().startsWith("/v1/") ? OpenAiErrors.body(error)
          : new JsonObject().put("error", message);
      req.response().setStatusCode(408).putHeader("Content-Type", "application/json").putHeader("Connection", "close")
          .end(body.encode()).onComplete(ar -> c.connection.close());
    });
  }

  private long allowedMs(long bytesRead) {
    return timeouts.bodyGraceMs() + bytesRead * 1000 / timeouts.minBodyBytesPerSecond();
  }

  private static long elapsedMs(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  /** The router's first handler: notes the response's end, and closes a connection whose body was left unread. */
  void route(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    Conn c = connections.get(req.connection());
    // The router hands handlers a wrapper; the guard compares the request it was given itself.
    HttpServerRequest original = c == null ? null : c.current;
    if (c != null) {
      ctx.put(CONN, c);
    }
    boolean body = hasBody(req);
    ctx.addHeadersEndHandler(v -> {
      if (body && !req.isEnded()) {
        ctx.response().putHeader("Connection", "close");
      }
    });
    ctx.addEndHandler(ar -> {
      if (c == null || c.closed) {
        return;
      }
      if (body && !req.isEnded()) {
        // Answered before its body was read: discard (never store) what the client is still sending,
        // for at most lingerMs and LINGER_MAX_BYTES, so a client that writes its whole body before
        // reading gets the answer instead of a reset; then close rather than drain an upload nobody wants.
        long bytesAtAnswer = req.bytesRead();
        // The byte cap is enforced as the bytes arrive: at loopback speed a 50 ms check alone lets tens of MB through.
        req.handler(chunk -> {
          if (!c.closed && req.bytesRead() - bytesAtAnswer > LINGER_MAX_BYTES) {
            c.connection.close();
          }
        });
        req.resume();
        linger(c, req, bytesAtAnswer, System.nanoTime());
        return;
      }
      if (c.current == original) {
        c.current = null;
        c.arm(timeouts.keepAliveTimeoutMs(), () -> {
          if (c.current == null) {
            c.connection.close();
          }
        });
      }
    });
    ctx.next();
  }

  /** What a lingering connection may discard after an early answer before it is closed. */
  static final long LINGER_MAX_BYTES = 16L << 20;

  private void linger(Conn c, HttpServerRequest req, long bytesAtAnswer, long startNanos) {
    c.arm(50, () -> {
      if (req.isEnded() || req.bytesRead() - bytesAtAnswer > LINGER_MAX_BYTES || elapsedMs(startNanos) >= timeouts.lingerMs()) {
        c.connection.close();
      } else {
        linger(c, req, bytesAtAnswer, startNanos);
      }
    });
  }

  /**
   * Runs {@code release} once, when the request's response ends or its connection closes, whichever is
   * first: for per-tenant counters held by a request (uploads, streams).
   */
  static void whenDone(RoutingContext ctx, Runnable release) {
    Runnable once = once(release);
    Object c = ctx.get(CONN);
    Conn conn = c instanceof Conn found ? found : null;
    ctx.addEndHandler(ar -> {
      once.run();
      if (conn != null) {
        conn.onClose.remove(once);
      }
    });
    if (conn != null) {
      if (conn.closed) {
        once.run();
      } else {
        conn.onClose.add(once);
      }
    }
  }

  static Runnable once(Runnable r) {
    java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (done.compareAndSet(false, true)) {
        r.run();
      }
    };
  }

  private static void quietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.warn("Connection close hook failed", e);
    }
  }
}
