package io.inferium.engine.api;

import io.inferium.engine.auth.ApiKeys;
import io.inferium.engine.auth.Principal;
import io.inferium.engine.auth.Tenants;
import io.inferium.engine.auth.Tiers;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Tenants and their API keys: {@code /api/tenants} (admin; {@code PUT /api/tenants/{id}} {tier} moves a tenant to
 * another tier, effective at once on this gateway), {@code /api/tenants/{id}/keys} (admin, or a developer of that
 * tenant), {@code /api/tiers}. Anything about another tenant answers 404.
 */
final class TenantRoutes {

  static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final long BODY_LIMIT = 64 << 10;

  private final Tenants tenants;
  private final ApiKeys keys;
  private final Tiers tiers;
  private final io.inferium.engine.auth.ConsoleSessions sessions;

  TenantRoutes(Tenants tenants, ApiKeys keys, Tiers tiers, io.inferium.engine.auth.ConsoleSessions sessions) {
    this.tenants = tenants;
    this.keys = keys;
    this.tiers = tiers;
    this.sessions = sessions;
  }

  void mount(Router router) {
    BodyHandler body = LimitedBodyHandler.create(false).setBodyLimit(BODY_LIMIT);
    router.get("/api/tiers").handler(ctx -> FunctionRoutes.json(ctx, 200, new JsonObject().put("tiers", tiers.toJson())));
    router.post("/api/tenants").handler(body).handler(this::create);
    router.get("/api/tenants").handler(this::list);
    router.get("/api/tenants/:id").handler(this::get);
    router.put("/api/tenants/:id").handler(body).handler(this::update);
    router.post("/api/tenants/:id/keys").handler(body).handler(this::createKey);
    router.get("/api/tenants/:id/keys").handler(this::listKeys);
    router.delete("/api/tenants/:id/keys/:key").handler(this::revokeKey);
    router.post("/api/operator-keys").handler(body).handler(this::createOperatorKey);
    router.delete("/api/operator-keys/:key").handler(this::revokeOperatorKey);
  }

  /** {@code POST /api/operator-keys} {name}: an admin issues a platform key that reads metrics and node info only. */
  private void createOperatorKey(RoutingContext ctx) {
    requireAdmin(ctx);
    JsonObject body = json(ctx);
    String name = body.getValue("name") instanceof String s ? s : "operator";
    keys.create(null, Principal.Role.OPERATOR, name, null)
        .onSuccess(key -> FunctionRoutes.json(ctx, 201, key)).onFailure(ctx::fail);
  }

  private void revokeOperatorKey(RoutingContext ctx) {
    requireAdmin(ctx);
    String keyId = ctx.pathParam("key");
    keys.revokeOperator(keyId).compose(done -> done ? Future.succeededFuture()
            : Future.failedFuture(ApiError.notFound("no operator key '" + keyId + "'")))
        .onSuccess(v -> FunctionRoutes.json(ctx, 200, new JsonObject().put("id", keyId).put("revoked", true)))
        .onFailure(ctx::fail);
  }

  private static JsonObject json(RoutingContext ctx) {
    try {
      JsonObject o = ctx.body().asJsonObject();
      if (o == null) {
        throw ApiError.badRequest("expected a JSON object body");
      }
      return o;
    } catch (io.vertx.core.json.DecodeException | ClassCastException e) {
      throw ApiError.badRequest("malformed JSON: " + e.getMessage());
    }
  }

  private void create(RoutingContext ctx) {
    requireAdmin(ctx);
    JsonObject body = json(ctx);
    String id = body.getValue("id") instanceof String s ? s : null;
    if (id == null || !ID.matcher(id).matches()) {
      throw ApiError.badRequest("field 'id': must match " + ID.pattern() + ", got " + body.getValue("id"));
    }
    String name = body.getValue("name") instanceof String s && !s.isBlank() ? s : id;
    String tier = body.getValue("tier") == null ? tiers.defaultTier().name() : String.valueOf(body.getValue("tier"));
    if (tiers.get(tier).isEmpty()) {
      throw ApiError.badRequest("field 'tier': expected one of " + String.join(", ", tiers.names()) + ", got '" + tier + "'");
    }
    tenants.create(id, name, tier)
        .onSuccess(t -> ctx.response().putHeader("Location", "/api/tenants/" + t.id()))
        .onSuccess(t -> FunctionRoutes.json(ctx, 201, t.toJson()))
        .onFailure(err -> ctx.fail(err instanceof Tenants.Exists ? new ApiError(409, err.getMessage()) : err));
  }

  /** {@code PUT /api/tenants/{id}} {"tier"}: admin only; the tenant's cached keys and sessions take the new tier at once. */
  private void update(RoutingContext ctx) {
    requireAdmin(ctx);
    String id = ctx.pathParam("id");
    JsonObject body = json(ctx);
    for (String field : body.fieldNames()) {
      if (!field.equals("tier")) {
        throw ApiError.badRequest("field '" + field + "': only 'tier' can be changed");
      }
    }
    Object tier = body.getValue("tier");
    if (!(tier instanceof String name) || tiers.get(name).isEmpty()) {
      throw ApiError.badRequest("field 'tier': expected one of " + String.join(", ", tiers.names()) + ", got "
          + (tier instanceof String ? "'" + tier + "'" : String.valueOf(tier)));
    }
    tenants.setTier(id, (String) tier).compose(found -> found.isEmpty()
            ? Future.<Tenants.Tenant>failedFuture(ApiError.notFound("no tenant '" + id + "'")) : Future.succeededFuture(found.get()))
        .onSuccess(moved -> {
          keys.forgetTenant(id);
          sessions.forgetTenant(id);
          FunctionRoutes.json(ctx, 200, moved.toJson());
        })
        .onFailure(ctx::fail);
  }

  private void list(RoutingContext ctx) {
    requireAdmin(ctx);
    tenants.list().onSuccess(all -> FunctionRoutes.json(ctx, 200, new JsonObject()
        .put("tenants", new JsonArray(all.stream().map(Tenants.Tenant::toJson).toList())))).onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Principal who = Authentication.principal(ctx);
    if (!who.isAdmin() && !id.equals(who.tenantId())) {
      throw ApiError.notFound("no tenant '" + id + "'");
    }
    tenants.get(id).compose(t -> t.isEmpty() ? Future.failedFuture(ApiError.notFound("no tenant '" + id + "'"))
            : tenants.storageBytes(id).map(used -> t.get().toJson()
                .put("limits", tiers.get(t.get().tier()).map(tier -> tier.toJson()).orElse(null))
                .put("storage_used_bytes", used)))
        .onSuccess(body -> FunctionRoutes.json(ctx, 200, body)).onFailure(ctx::fail);
  }

  /** Admins manage every tenant's keys; a developer manages its own tenant's; everyone else sees 404. */
  private Future<Tenants.Tenant> manageable(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Principal who = Authentication.principal(ctx);
    boolean allowed = who.isAdmin() || (who.role() == Principal.Role.DEVELOPER && id.equals(who.tenantId()));
    if (!allowed && !id.equals(who.tenantId())) {
      return Future.failedFuture(ApiError.notFound("no tenant '" + id + "'"));
    }
    if (!allowed) {
      return Future.failedFuture(new ApiError(403, "a user key may not manage keys; use a developer or admin key"));
    }
    return tenants.get(id).compose(t -> t.<Future<Tenants.Tenant>>map(Future::succeededFuture)
        .orElseGet(() -> Future.failedFuture(ApiError.notFound("no tenant '" + id + "'"))));
  }

  private void createKey(RoutingContext ctx) {
    JsonObject body = json(ctx);
    String roleText = body.getValue("role") == null ? "user" : String.valueOf(body.getValue("role"));
    Principal.Role role;
    if (roleText.equals("developer") || roleText.equals("user")) {
      role = Principal.Role.valueOf(roleText.toUpperCase(Locale.ROOT));
    } else {
      throw ApiError.badRequest("field 'role': expected developer | user, got '" + roleText + "'");
    }
    OffsetDateTime expires = null;
    if (body.getValue("expires_at") != null) {
      try {
        expires = OffsetDateTime.parse(String.valueOf(body.getValue("expires_at")));
      } catch (DateTimeParseException e) {
        throw ApiError.badRequest("field 'expires_at': expected an RFC 3339 time such as 2027-01-01T00:00:00Z, got '"
            + body.getValue("expires_at") + "'");
      }
    }
    OffsetDateTime expiresAt = expires;
    String name = body.getValue("name") instanceof String s ? s : null;
    manageable(ctx).compose(t -> keys.create(t.id(), role, name, expiresAt))
        .onSuccess(key -> FunctionRoutes.json(ctx, 201, key)).onFailure(ctx::fail);
  }

  private void listKeys(RoutingContext ctx) {
    manageable(ctx).compose(t -> keys.list(t.id()))
        .onSuccess(list -> FunctionRoutes.json(ctx, 200, new JsonObject()
            .put("keys", new JsonArray(list.stream().map(ApiKeys.KeyInfo::toJson).toList()))))
        .onFailure(ctx::fail);
  }

  private void revokeKey(RoutingContext ctx) {
    String keyId = ctx.pathParam("key");
    manageable(ctx).compose(t -> keys.revoke(t.id(), keyId))
        .compose(done -> done ? Future.succeededFuture()
            : Future.failedFuture(ApiError.notFound("no key '" + keyId + "' for this tenant")))
        .onSuccess(v -> FunctionRoutes.json(ctx, 200, new JsonObject().put("id", keyId).put("revoked", true)))
        .onFailure(ctx::fail);
  }

  private static void requireAdmin(RoutingContext ctx) {
    if (!Authentication.principal(ctx).isAdmin()) {
      throw new ApiError(403, "only an admin key may manage tenants");
    }
  }
}
