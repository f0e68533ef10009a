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
    keys.authenticate(header.substring(7).strip(), remote(ctx)).onComplete(ar -> {
      if (ar.failed() && ar.cause() instanceof ApiKeys.TooManyUnknownKeys many) {
        ctx.request().resume();
        Failures.send(ctx, new ApiError(429, many.getMessage(), many.retryAfterSeconds()));
      } else if (ar.failed()) {
        ctx.request().resume();
        ctx.fail(ar.cause());
      } else if (ar.result().isEmpty()) {
        ctx.request().resume();
        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        Failures.send(ctx, new ApiError(401, "invalid, revoked or expired API key"));
      } else if (ar.result().get().role() == Principal.Role.OPERATOR && !operatorMay(ctx)) {
        ctx.request().resume();
        Failures.send(ctx, new ApiError(403, "an operator key may only read /metrics and /api/nodes"));
      } else {
        ctx.put(PRINCIPAL, ar.result().get());
        ctx.next();
        ctx.request().resume();
      }
    });
  }

  /** The address unknown-key lookups are charged to: the TCP peer (never a forwarded-for header, which anyone can set). */
  private static String remote(RoutingContext ctx) {
    // The connection's own address: the router's request wrapper would parse forwarding headers first, per request.
    io.vertx.core.net.SocketAddress a = ctx.request().connection().remoteAddress();
    return a == null || a.host() == null ? "unknown" : a.host();
  }

  private static boolean operatorMay(RoutingContext ctx) {
    String path = ctx.normalizedPath();
    return ctx.request().method() == io.vertx.core.http.HttpMethod.GET
        && (path.equals("/metrics") || path.equals("/api/nodes") || path.equals("/api/tiers"));
  }

  /** Lets only admin and operator keys through (403 for the others); for {@code /metrics}. */
  static void requireOperator(RoutingContext ctx) {
    if (principal(ctx).mayOperate()) {
      ctx.next();
    } else {
      Failures.send(ctx, new ApiError(403, "reading metrics needs an admin or operator key"));
    }
  }

  static Principal principal(RoutingContext ctx) {
    return ctx.get(PRINCIPAL);
  }
}
