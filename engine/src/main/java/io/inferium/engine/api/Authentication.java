package io.inferium.engine.api;

import io.inferium.engine.auth.ApiKeys;
import io.inferium.engine.auth.ConsoleSessions;
import io.inferium.engine.auth.Principal;
import io.vertx.core.Future;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/**
 * Requires {@code Authorization: Bearer <key>}, or, without that header, the web console's session cookie, and
 * puts the {@link Principal} on the context. A cookie-authenticated request that changes something (any method
 * but GET, HEAD and OPTIONS) must also carry the session's CSRF token in {@value #CSRF_HEADER}, else 403; bearer
 * requests need no token (a browser never adds an Authorization header on its own).
 */
final class Authentication {

  static final String PRINCIPAL = "inferium.principal";
  /** The console session id a request was authenticated with (absent for bearer requests). */
  static final String SESSION = "inferium.session";
  static final String COOKIE = "inferium_session";
  static final String CSRF_HEADER = "X-CSRF-Token";

  private final ApiKeys keys;
  private final ConsoleSessions sessions;

  Authentication(ApiKeys keys, ConsoleSessions sessions) {
    this.keys = keys;
    this.sessions = sessions;
  }

  void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null) {
      // Only requests without the header pay for cookie parsing: the bearer path stays as it was.
      Cookie cookie = ctx.request().getCookie(COOKIE);
      if (cookie != null) {
        session(ctx, cookie.getValue());
        return;
      }
    }
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      Failures.send(ctx, new ApiError(401, "missing API key: send Authorization: Bearer <key>"));
      return;
    }
    admit(ctx, keys.authenticate(header.substring(7).strip(), remote(ctx)), "invalid, revoked or expired API key");
  }

  private void session(RoutingContext ctx, String id) {
    HttpMethod m = ctx.request().method();
    if (m != HttpMethod.GET && m != HttpMethod.HEAD && m != HttpMethod.OPTIONS
        && !ConsoleSessions.csrfMatches(id, ctx.request().getHeader(CSRF_HEADER))) {
      Failures.send(ctx, new ApiError(403, "missing or wrong " + CSRF_HEADER + " header: a request signed in with the "
          + "console's session cookie that changes something must carry the token from POST or GET /api/session"));
      return;
    }
    ctx.put(SESSION, id);
    admit(ctx, sessions.authenticate(id, remote(ctx)), "console session expired or signed out (or its key was "
        + "revoked): sign in again");
  }

  private void admit(RoutingContext ctx, Future<Optional<Principal>> lookup, String invalid) {
    // The key lookup may go to the database; hold the body until a BodyHandler downstream takes it.
    ctx.request().pause();
    lookup.onComplete(ar -> {
      if (ar.failed() && ar.cause() instanceof ApiKeys.TooManyUnknownKeys many) {
        ctx.request().resume();
        Failures.send(ctx, new ApiError(429, many.getMessage(), many.retryAfterSeconds()));
      } else if (ar.failed()) {
        ctx.request().resume();
        ctx.fail(ar.cause());
      } else if (ar.result().isEmpty()) {
        ctx.request().resume();
        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        Failures.send(ctx, new ApiError(401, invalid));
      } else if (ar.result().get().role() == Principal.Role.OPERATOR && !operatorMay(ctx)) {
        ctx.request().resume();
        Failures.send(ctx, new ApiError(403, "an operator key may only read /metrics and /api/nodes (and each node's /events)"));
      } else {
        ctx.put(PRINCIPAL, ar.result().get());
        ctx.next();
        ctx.request().resume();
      }
    });
  }

  /** The address unknown-key lookups are charged to: the TCP peer (never a forwarded-for header, which anyone can set). */
  static String remote(RoutingContext ctx) {
    // The connection's own address: the router's request wrapper would parse forwarding headers first, per request.
    io.vertx.core.net.SocketAddress a = ctx.request().connection().remoteAddress();
    return a == null || a.host() == null ? "unknown" : a.host();
  }

  private static boolean operatorMay(RoutingContext ctx) {
    String path = ctx.normalizedPath();
    return ctx.request().method() == io.vertx.core.http.HttpMethod.GET
        && (path.equals("/metrics") || path.equals("/api/nodes") || path.equals("/api/tiers")
            || path.equals("/api/earnings") || path.equals("/api/payout-address") || NodeRoutes.isEventsPath(path))
        // Where its nodes' shares are paid on chain (docs/CHAIN.md "Settlement").
        || path.equals("/api/payout-address") && ctx.request().method() == HttpMethod.PUT
        // The console: an operator may see who it is signed in as, and sign out.
        || path.equals("/api/session") && (ctx.request().method() == HttpMethod.GET || ctx.request().method() == HttpMethod.DELETE);
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
