package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.scoring.UsageMeter;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;

/**
 * {@code GET /api/usage?from=&to=&group_by=function|day}: the caller's tenant's usage (admins see
 * everyone's, or one tenant's with {@code tenant=}). Defaults: this calendar month (UTC), by function.
 */
final class UsageRoutes {

  private final UsageMeter meter;

  UsageRoutes(UsageMeter meter) {
    this.meter = meter;
  }

  void mount(Router router) {
    router.get("/api/usage").handler(this::usage);
  }

  private void usage(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    Instant from = time(ctx, "from", now.withDayOfMonth(1).toLocalDate().atStartOfDay(ZoneOffset.UTC).toInstant());
    Instant to = time(ctx, "to", now.toInstant().plusSeconds(1));
    String groupBy = ctx.queryParams().get("group_by") == null ? "function" : ctx.queryParams().get("group_by");
    if (!groupBy.equals("function") && !groupBy.equals("day")) {
      throw ApiError.badRequest("query parameter 'group_by': expected function | day, got '" + groupBy + "'");
    }
    String tenant = who.isAdmin() ? ctx.queryParams().get("tenant") : who.tenantId();
    boolean all = who.isAdmin() && tenant == null;
    meter.flush().otherwiseEmpty()
        .compose(v -> meter.summary(tenant, all, from, to, groupBy))
        .onSuccess(body -> FunctionRoutes.json(ctx, 200, body.put("tenant", tenant)))
        .onFailure(ctx::fail);
  }

  private static Instant time(RoutingContext ctx, String param, Instant fallback) {
    String v = ctx.queryParams().get(param);
    if (v == null) {
      return fallback;
    }
    try {
      return Instant.parse(v);
    } catch (DateTimeParseException e) {
      throw ApiError.badRequest("query parameter '" + param + "': expected an RFC 3339 UTC time such as "
          + "2026-11-01T00:00:00Z, got '" + v + "'");
    }
  }
}
