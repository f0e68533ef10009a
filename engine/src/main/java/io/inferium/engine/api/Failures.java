package io.inferium.engine.api;

import io.inferium.engine.deploy.TooManyDeploys;
import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.failure.NoWorkerAvailable;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.failure.ClientGone;
import io.inferium.engine.failure.QueueFull;
import io.inferium.engine.failure.BadRequest;
import io.inferium.functions.FunctionConflictException;
import io.inferium.functions.InvalidSpecException;
import io.inferium.functions.tensor.TensorFormatException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns any failure into {@code {"error": "..."}} with the status that fits it. Used as the router's
 * failure handler, so handlers simply fail their context (or their future) with a typed exception.
 */
public final class Failures {

  private static final Logger log = LoggerFactory.getLogger(Failures.class);

  private Failures() {}

  /** The API error a failure amounts to. */
  public static ApiError classify(Throwable err) {
    return classify(err, null);
  }

  /** The API error a failure of the request {@code ctx} amounts to: an internal one is logged with its request id. */
  public static ApiError classify(Throwable err, RoutingContext ctx) {
    if (err instanceof ApiError e) {
      return e;
    }
    if (err instanceof InvalidSpecException || err instanceof TensorFormatException) {
      return ApiError.badRequest(err.getMessage());
    }
    if (err instanceof DecodeException) {
      return ApiError.badRequest("malformed JSON: " + err.getMessage());
    }
    if (err instanceof java.io.IOException && String.valueOf(err.getMessage()).startsWith("Size exceed allowed maximum capacity")) {
      // Netty's multipart decoder on a form field over the server's limit: a spec with examples can pass it.
      return new ApiError(413, "a multipart form field is larger than the server takes in a field; send a large "
          + "spec (one with examples, say) as a file part instead: curl -F spec=@spec.json");
    }
    if (err instanceof FunctionConflictException) {
      return new ApiError(409, err.getMessage());
    }
    if (err instanceof TooManyDeploys) {
      return new ApiError(429, err.getMessage() + "; retry later", 10);
    }
    if (err instanceof QueueFull full) {
      return new ApiError(429, err.getMessage() + "; retry later", full.retryAfterSeconds());
    }
    if (err instanceof BadRequest) {
      return ApiError.badRequest(err.getMessage());
    }
    if (err instanceof ClientGone) {
      return new ApiError(499, err.getMessage());
    }
    if (err instanceof NoWorkerAvailable) {
      return new ApiError(503, err.getMessage() + "; retry later", 1);
    }
    if (databaseUnreachable(err)) {
      // Not the caller's fault and not a bug: the caller may retry, and the log need not hold a stack per request.
      RequestLog.about(ctx, log.atWarn()).log("Database unreachable: {}", err.toString());
      return new ApiError(503, "the database is unreachable; retry later", 2);
    }
    if (err instanceof DeadlineExceeded) {
      return new ApiError(504, err.getMessage());
    }
    if (err instanceof WorkerFailure wf) {
      return switch (wf.code()) {
        case "bad_input" -> ApiError.badRequest(wf.getMessage());
        case "overloaded" -> new ApiError(503, wf.getMessage(), 1);
        case "cancelled" -> new ApiError(504, wf.getMessage());
        case "model_error" -> new ApiError(500, "the model failed: " + wf.getMessage());
        default -> new ApiError(502, wf.getMessage());
      };
    }
    if (unstorableText(err)) {
      // Java strings are valid Unicode, so the one character PostgreSQL's text refuses is NUL: the caller's
      // input, not a bug (the driver's message, which quotes SQL, stays out of the answer).
      return ApiError.badRequest("a text value in the request contains a NUL character (U+0000), which cannot be "
          + "stored; remove it");
    }
    return internal(err, ctx);
  }

  /**
   * Whether PostgreSQL refused a text or JSON value it cannot store: {@code 22021} (a NUL byte in text) or
   * {@code 22P05} ({@code \u0000} in jsonb).
   */
  static boolean unstorableText(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof io.vertx.pgclient.PgException pg
          && ("22021".equals(pg.getSqlState()) || "22P05".equals(pg.getSqlState()))) {
        return true;
      }
    }
    return false;
  }

  /** Whether a failure is the database's connection refused or lost (not an error in a query). */
  static boolean databaseUnreachable(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException || t instanceof io.vertx.sqlclient.ClosedConnectionException) {
        return true;
      }
    }
    return false;
  }

  /**
   * An unexpected failure: its text may hold internals (SQL, paths, class names), so the caller gets
   * only an id and the log gets the id with the whole exception. {@link #classify} may be called more
   * than once for one failure (metrics, then the answer); the id rides on the exception as a
   * suppressed marker so it is logged once and answered with the same id.
   */
  private static InternalError internal(Throwable err, RoutingContext ctx) {
    for (Throwable s : err.getSuppressed()) {
      if (s instanceof ErrorId id) {
        return new InternalError(id.getMessage());
      }
    }
    String id = java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    err.addSuppressed(new ErrorId(id));
    RequestLog.about(ctx, log.atError()).addKeyValue("error_id", id).setCause(err).log("Internal error {}", id);
    return new InternalError(id);
  }

  /** A 500 that tells the caller nothing but an id to quote. */
  public static final class InternalError extends ApiError {
    private final String errorId;

    InternalError(String errorId) {
      super(500, "internal error");
      this.errorId = errorId;
    }

    public String errorId() {
      return errorId;
    }
  }

  private static final class ErrorId extends RuntimeException {
    ErrorId(String id) {
      super(id, null, false, false);
    }
  }

  /** Router failure handler. */
  public static void handle(RoutingContext ctx) {
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    ApiError malformed = MultipartGuard.malformedBody(ctx);
    ApiError error;
    if (malformed != null) {
      error = malformed;
    } else if (ctx.failure() != null) {
      error = classify(ctx.failure(), ctx);
    } else if (ctx.statusCode() == 413 && ctx.get(LimitedBodyHandler.LIMIT) instanceof Long limit) {
      error = tooLarge(ctx, limit);
    } else {
      error = fromStatus(ctx.statusCode());
    }
    send(ctx, error);
  }

  public static void send(RoutingContext ctx, ApiError error) {
    if (error.retryAfterSeconds() > 0) {
      ctx.response().putHeader("Retry-After", Integer.toString(error.retryAfterSeconds()));
    }
    boolean openAi = ctx.request().path().startsWith("/v1/");
    JsonObject body = openAi ? OpenAiErrors.body(error) : new JsonObject().put("error", error.getMessage());
    if (error instanceof InternalError internal && !openAi) {
      body.put("error_id", internal.errorId());
    }
    ctx.response().setStatusCode(openAi ? OpenAiErrors.status(error) : error.status())
        .putHeader("Content-Type", "application/json")
        .end(body.encode());
  }

  /** A body over its route's limit: the limit, and the size the client declared when it did. */
  private static ApiError tooLarge(RoutingContext ctx, long limit) {
    String declared = ctx.request().getHeader("Content-Length");
    return new ApiError(413, "request body too large: this route reads at most " + limit + " bytes"
        + (declared == null ? "" : " and this request declared " + declared));
  }

  private static ApiError fromStatus(int status) {
    return switch (status) {
      case 401 -> new ApiError(401, "missing or invalid API key: send Authorization: Bearer <key>");
      case 403 -> new ApiError(403, "this key may not do that");
      case 404 -> ApiError.notFound("no such route");
      case 405 -> new ApiError(405, "method not allowed on this route");
      case 413 -> new ApiError(413, "request body too large");
      default -> new ApiError(status < 400 ? 500 : status, "request failed with status " + status);
    };
  }
}
