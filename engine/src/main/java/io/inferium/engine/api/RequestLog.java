package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Every HTTP request's id and its access-log line. The id ({@code req_} and 32 hex digits) is assigned as the
 * router sees the request, answered in {@code x-request-id} on every response (OpenAI's header; errors and
 * refusals included), and carried by every log line the gateway writes about the request as the key-value
 * {@code request_id} (a field of its own in {@code --log-format json}). Key-values rather than MDC: a request
 * hops between event loops and worker threads, where a thread-bound MDC would name the wrong request.
 *
 * <p>The access line, one per request when its response ends (or its connection closes first), goes to the
 * logger {@value #ACCESS_LOGGER} at INFO (health probes and {@code /metrics} scrapes at DEBUG): method, path,
 * status, duration, request id, tenant, and the completion id ({@code X-Inferium-Request-Id}: usage, receipts,
 * completion events) when the request had one. Operators turn it off with that logger's level.
 */
public final class RequestLog {

  /** The logger of the access lines. */
  public static final String ACCESS_LOGGER = "inferium.access";
  /** The response header that carries the id. */
  public static final String HEADER = "x-request-id";
  private static final String KEY = "inferium.request_id";
  /** A request line is at most 4 KiB (Vert.x's default); a log line needs far less of its path. */
  static final int MAX_LOGGED_PATH = 256;
  private static final Logger access = LoggerFactory.getLogger(ACCESS_LOGGER);

  private RequestLog() {
  }

  /** The router's first handler: assigns the id, answers it in {@link #HEADER}, and logs the access line at the end. */
  static void start(RoutingContext ctx) {
    long start = System.nanoTime();
    ThreadLocalRandom random = ThreadLocalRandom.current();
    String id = "req_" + HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextLong());
    ctx.put(KEY, id);
    ctx.response().putHeader(HEADER, id);
    if (access.isInfoEnabled()) { // read per request: an operator may turn the access log on live
      ctx.addEndHandler(ar -> accessLine(ctx, id, start, ar.succeeded()));
    }
    ctx.next();
  }

  /** The request's id; null for a context this class did not start (a test's router). */
  public static String id(RoutingContext ctx) {
    return ctx == null ? null : ctx.get(KEY);
  }

  /** {@code builder} with the request's id added as the key-value {@code request_id} (when it has one). */
  public static LoggingEventBuilder about(RoutingContext ctx, LoggingEventBuilder builder) {
    String id = id(ctx);
    return id == null ? builder : builder.addKeyValue("request_id", id);
  }

  private static void accessLine(RoutingContext ctx, String id, long startNanos, boolean ended) {
    String path = ctx.request().path();
    boolean probe = path != null && (path.startsWith("/v2/health/") || path.equals("/metrics"));
    Level level = probe ? Level.DEBUG : Level.INFO;
    if (!access.isEnabledForLevel(level)) {
      return;
    }
    HttpServerResponse response = ctx.response();
    long ms = (System.nanoTime() - startNanos) / 1_000_000;
    String shown = path == null ? "" : path.length() > MAX_LOGGED_PATH ? path.substring(0, MAX_LOGGED_PATH) + "..." : path;
    Principal who = Authentication.principal(ctx);
    String method = ctx.request().method().name();
    LoggingEventBuilder line = access.atLevel(level)
        .addKeyValue("request_id", id)
        .addKeyValue("method", method)
        .addKeyValue("path", shown)
        .addKeyValue("status", response.getStatusCode())
        .addKeyValue("duration_ms", ms);
    if (who != null && who.tenantId() != null) {
      line = line.addKeyValue("tenant", who.tenantId());
    }
    String completion = response.headers().get("X-Inferium-Request-Id");
    if (completion != null) {
      line = line.addKeyValue("completion_id", completion);
    }
    if (!ended) {
      // The connection closed before the response ended: a client that hung up, or a drain past its grace.
      line = line.addKeyValue("outcome", "closed");
    }
    line.log("{} {} {} {} ms", method, shown, response.getStatusCode(), ms);
  }
}
