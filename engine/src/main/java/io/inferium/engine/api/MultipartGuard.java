package io.inferium.engine.api;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;
import java.io.IOException;

/**
 * Guards around Vert.x's multipart body handling for uploads, for two faults {@code DeployFuzzIT}
 * found: (1) {@code BodyHandler} never finishes a request whose file part lacks its closing
 * boundary — the request has ended, but that part's upload waits for more bytes forever, holding the
 * connection and a temporary file; (2) Netty's multipart decoder throws a
 * {@code NullPointerException} on a part whose {@code Content-Disposition} has no name, which
 * reached the client as a 500.
 *
 * <p>{@link #arm} goes before the body handler, {@link #passed} right after it. If the body handler
 * has not passed the request on {@link #GRACE_MS} after its last byte arrived, the uploads are
 * cancelled and deleted and the request ends with a 400 and a closed connection; a failure raised
 * while the body was still being decoded is a 400 ({@link #malformedBody}).
 */
final class MultipartGuard {

  /** Time for the body handler to finish writing the uploads after the request's last byte. */
  static final long GRACE_MS = 5_000;

  private static final String ARMED = "inferium.multipart.armed";
  private static final String PASSED = "inferium.multipart.passed";
  private static final String UNENDED = "inferium.multipart.unended";

  private static ApiError unended() {
    return ApiError.badRequest("malformed multipart body: a part never ended (its closing boundary --<boundary> is missing)");
  }

  private MultipartGuard() {}

  /** A platform handler, so that Vert.x Web lets it run before the body handler. */
  static PlatformHandler arm(Vertx vertx) {
    return ctx -> {
      ctx.put(ARMED, Boolean.TRUE);
      ctx.request().end().onSuccess(v -> {
        if (ctx.get(PASSED) != null) {
          return;
        }
        long timer = vertx.setTimer(GRACE_MS, t -> {
          if (ctx.get(PASSED) == null && !ctx.response().headWritten() && !ctx.failed()) {
            ctx.put(UNENDED, Boolean.TRUE);
            ctx.response().putHeader("Connection", "close");
            // Cancelling makes the body handler fail the context, which malformedBody answers.
            ctx.cancelAndCleanupFileUploads();
            if (!ctx.failed()) {
              ctx.fail(unended());
            }
          }
        });
        ctx.addEndHandler(done -> vertx.cancelTimer(timer));
      });
      ctx.next();
    };
  }

  static Handler<RoutingContext> passed() {
    return ctx -> {
      ctx.put(PASSED, Boolean.TRUE);
      ctx.next();
    };
  }

  /**
   * The 400 for a failure the multipart decoder raised while reading this request's body, or null
   * when the failure is not that (another route, the body already decoded, a typed error, or a
   * file-system failure writing the upload, which is the server's).
   */
  static ApiError malformedBody(RoutingContext ctx) {
    Throwable err = ctx.failure();
    if (ctx.get(UNENDED) != null) {
      return err instanceof ApiError e ? e : unended();
    }
    if (ctx.get(ARMED) == null || ctx.get(PASSED) != null || err == null || err instanceof ApiError
        || err instanceof IOException || err instanceof io.vertx.core.file.FileSystemException) {
      return null;
    }
    ctx.response().putHeader("Connection", "close");
    return ApiError.badRequest("malformed multipart body: a part could not be decoded (each part needs "
        + "Content-Disposition: form-data; name=\"...\" and ends at the next --<boundary>)");
  }
}
