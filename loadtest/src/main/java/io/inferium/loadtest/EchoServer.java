package io.inferium.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The floor of a Vert.x 5 JSON service on this machine, the baseline the gateway's serving path is
 * held against: one HTTP server (one event loop, like the gateway's), a router, the body read and
 * parsed as JSON, the same object encoded back as the answer. No database, no worker, no auth.
 */
final class EchoServer {

  /** Bodies larger than this are refused (413), as the gateway refuses oversized requests. */
  static final long MAX_BODY_BYTES = 1 << 20;

  private EchoServer() {}

  /** Listens on {@code host:port} (0 for any free port); completes with the server. */
  static Future<HttpServer> start(Vertx vertx, String host, int port) {
    Router router = Router.router(vertx);
    router.post("/echo").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.post("/echo").handler(ctx -> {
      JsonObject body;
      try {
        body = ctx.body().asJsonObject();
      } catch (RuntimeException e) {
        ctx.response().setStatusCode(400).end("body is not a JSON object: " + e.getMessage());
        return;
      }
      if (body == null) {
        ctx.response().setStatusCode(400).end("body is empty; a JSON object was expected");
        return;
      }
      ctx.response().putHeader("Content-Type", "application/json").end(body.toBuffer());
    });
    return vertx.createHttpServer().requestHandler(router).listen(port, host);
  }
}
