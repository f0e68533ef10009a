package io.inferium.engine.api;

import io.inferium.engine.auth.ApiKeys;
import io.inferium.engine.auth.Principal;
import io.vertx.ext.web.RoutingContext;

/** Requires {@code Authorization: Bearer <key>} and puts the {@link Principal} on the context. */
final class Authentication {

  static final String PRINCIPAL = "inferium.principal";

  private final ApiKeys keys;

  Authentication(ApiKeys keys) {
    this.keys = keys;
  }

  void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      Failures.send(ctx, new ApiError(401, "missing API key: send Authorization: Bearer <key>"));
      return;
    }
    // The key lookup may go to the database; hold the body until a BodyHandler downstream takes it.
    ctx.request().pause();
    keys.authenticate(header.substring(7).strip()).onComplete(ar -> {
      if (ar.failed()) {
        ctx.request().resume();
        ctx.fail(ar.cause());
      } else if (ar.result().isEmpty()) {
        ctx.request().resume();
        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        Failures.send(ctx, new ApiError(401, "invalid, revoked or expired API key"));
      } else {
        ctx.put(PRINCIPAL, ar.result().get());
        ctx.next();
        ctx.request().resume();
      }
    });
  }

  static Principal principal(RoutingContext ctx) {
    return ctx.get(PRINCIPAL);
  }
}
