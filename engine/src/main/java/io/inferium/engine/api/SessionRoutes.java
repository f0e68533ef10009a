package io.inferium.engine.api;

import io.inferium.engine.auth.ApiKeys;
import io.inferium.engine.auth.ConsoleSessions;
import io.inferium.engine.auth.Principal;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/**
 * The web console's sign-in: {@code POST /api/session} {"key": "..."} exchanges an API key for a session cookie
 * (HttpOnly, SameSite=Strict, Secure over TLS) and answers the CSRF token the page sends with changes;
 * {@code GET /api/session} says who is signed in (without credentials, or with a cookie whose session has ended:
 * {@code {"signed_in": false}}); {@code DELETE /api/session} signs out for good. Every other
 * endpoint is the public API, which accepts the cookie as well as a bearer key.
 */
final class SessionRoutes {

  private static final long BODY_LIMIT = 4096;
  private static final int MAX_KEY_CHARS = 512;

  private final ApiKeys keys;
  private final ConsoleSessions sessions;

  SessionRoutes(ApiKeys keys, ConsoleSessions sessions) {
    this.keys = keys;
    this.sessions = sessions;
  }

  /** Sign-in takes no credentials but the key in its body: mount it before the authentication of {@code /api/*}. */
  void mountSignIn(Router router) {
    router.post("/api/session").handler(LimitedBodyHandler.create(false).setBodyLimit(BODY_LIMIT)).handler(this::signIn);
    // A page without credentials, or with a cookie whose session has ended, learns so with a 200 (and the dead
    // cookie is cleared), not a 401 its browser would log as an error. A bearer request goes on to authentication.
    router.get("/api/session").handler(ctx -> {
      if (ctx.request().getHeader("Authorization") != null) {
        ctx.next();
        return;
      }
      Cookie cookie = ctx.request().getCookie(Authentication.COOKIE);
      if (cookie == null) {
        signedOut(ctx, false);
        return;
      }
      ctx.request().pause();
      sessions.authenticate(cookie.getValue(), Authentication.remote(ctx)).onComplete(ar -> {
        ctx.request().resume();
        if (ar.succeeded() && ar.result().isEmpty()) {
          signedOut(ctx, true);
        } else {
          // Valid (now cached), or throttled: authentication answers either way.
          ctx.next();
        }
      });
    });
  }

  private static void signedOut(RoutingContext ctx, boolean clearCookie) {
    if (clearCookie) {
      ctx.response().addCookie(Cookie.cookie(Authentication.COOKIE, "").setHttpOnly(true).setPath("/")
          .setSameSite(CookieSameSite.STRICT).setSecure(ctx.request().isSSL()).setMaxAge(0));
    }
    ctx.response().putHeader("Cache-Control", "no-store");
    FunctionRoutes.json(ctx, 200, new JsonObject().put("signed_in", false));
  }

  void mount(Router router) {
    router.get("/api/session").handler(this::who);
    router.delete("/api/session").handler(this::signOut);
  }

  private void signIn(RoutingContext ctx) {
    // A cross-site form can post text/plain or form data but not JSON without a CORS preflight, which this
    // server never grants: so no other site can sign a browser in under the attacker's key.
    String type = String.valueOf(ctx.request().getHeader("Content-Type")).toLowerCase(Locale.ROOT);
    if (!type.startsWith("application/json")) {
      throw new ApiError(415, "expected Content-Type application/json with a body {\"key\": \"<API key>\"}, got "
          + ctx.request().getHeader("Content-Type"));
    }
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (io.vertx.core.json.DecodeException | ClassCastException e) {
      throw ApiError.badRequest("malformed JSON: expected {\"key\": \"<API key>\"}");
    }
    Object key = body == null ? null : body.getValue("key");
    if (!(key instanceof String secret) || secret.isBlank()) {
      throw ApiError.badRequest("field 'key': required, the API key to sign in with");
    }
    if (secret.length() > MAX_KEY_CHARS) {
      throw ApiError.badRequest("field 'key': longer than " + MAX_KEY_CHARS + " characters, not an API key");
    }
    keys.authenticate(secret.strip(), Authentication.remote(ctx))
        .recover(err -> err instanceof ApiKeys.TooManyUnknownKeys many
            ? io.vertx.core.Future.failedFuture(new ApiError(429, many.getMessage(), many.retryAfterSeconds()))
            : io.vertx.core.Future.failedFuture(err))
        .compose(found -> found.isEmpty()
            ? io.vertx.core.Future.failedFuture(new ApiError(401, "invalid, revoked or expired API key"))
            : sessions.create(found.get()).map(s -> {
              ctx.response().addCookie(Cookie.cookie(Authentication.COOKIE, s.id()).setHttpOnly(true).setPath("/")
                  .setSameSite(CookieSameSite.STRICT).setSecure(ctx.request().isSSL()).setMaxAge(ConsoleSessions.TTL_SECONDS));
              return describe(found.get()).put("csrf_token", s.csrfToken())
                  .put("expires_at", s.expiresAt().toInstant().toString());
            }))
        .onSuccess(out -> {
          ctx.response().putHeader("Cache-Control", "no-store");
          FunctionRoutes.json(ctx, 201, out);
        })
        .onFailure(ctx::fail);
  }

  private void who(RoutingContext ctx) {
    JsonObject out = describe(Authentication.principal(ctx)).put("signed_in", true);
    String session = ctx.get(Authentication.SESSION);
    if (session != null) {
      out.put("csrf_token", ConsoleSessions.csrfToken(session));
    }
    ctx.response().putHeader("Cache-Control", "no-store");
    FunctionRoutes.json(ctx, 200, out);
  }

  private void signOut(RoutingContext ctx) {
    String session = ctx.get(Authentication.SESSION);
    if (session == null) {
      throw ApiError.badRequest("no console session to sign out of: this request was authenticated with a bearer key "
          + "(revoke a key with DELETE /api/tenants/{tenant}/keys/{key})");
    }
    sessions.revoke(session).onSuccess(v -> {
      ctx.response().addCookie(Cookie.cookie(Authentication.COOKIE, "").setHttpOnly(true).setPath("/")
          .setSameSite(CookieSameSite.STRICT).setSecure(ctx.request().isSSL()).setMaxAge(0));
      ctx.response().setStatusCode(204).end();
    }).onFailure(ctx::fail);
  }

  private static JsonObject describe(Principal p) {
    return new JsonObject().put("key_id", p.keyId()).put("role", p.role().name().toLowerCase(Locale.ROOT))
        .put("tenant_id", p.tenantId()).put("tier", p.tier());
  }
}
