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
  private final io.inferium.scoring.Invoices invoices;

  private final io.inferium.engine.settlement.SettlementService settlement;

  UsageRoutes(UsageMeter meter, io.inferium.scoring.Invoices invoices,
      io.inferium.engine.settlement.SettlementService settlement) {
    this.meter = meter;
    this.invoices = invoices;
    this.settlement = settlement;
  }

  void mount(Router router) {
    router.get("/api/usage").handler(this::usage);
    router.get("/api/invoices").handler(this::invoices);
    router.get("/api/invoices/:id").handler(this::invoice);
    router.get("/api/earnings").handler(this::earnings);
  }

  /** The tenant a request is about: the caller's own, or for an admin the {@code tenant} parameter (required). */
  private static String tenant(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    if (!who.isAdmin()) {
      return who.tenantId();
    }
    String t = ctx.queryParams().get("tenant");
    if (t == null) {
      throw ApiError.badRequest("query parameter 'tenant': an admin names the tenant whose invoices to read");
    }
    return t;
  }

  private void invoices(RoutingContext ctx) {
    String tenant = tenant(ctx);
    meter.flush().otherwiseEmpty().compose(v -> invoices.list(tenant))
        .onSuccess(list -> FunctionRoutes.json(ctx, 200, new io.vertx.core.json.JsonObject().put("tenant_id", tenant)
            .put("invoices", new io.vertx.core.json.JsonArray(list))))
        .onFailure(ctx::fail);
  }

  private void invoice(RoutingContext ctx) {
    String tenant = tenant(ctx);
    String id = ctx.pathParam("id");
    boolean csv = "csv".equals(ctx.queryParams().get("format"))
        || String.valueOf(ctx.request().getHeader("Accept")).contains("text/csv");
    meter.flush().otherwiseEmpty().compose(v -> invoices.get(tenant, id))
        .onSuccess(inv -> {
          if (inv.isEmpty()) {
            ctx.fail(ApiError.notFound("no invoice '" + id + "'"));
          } else if (csv) {
            ctx.response().putHeader("Content-Type", "text/csv; charset=utf-8")
                .putHeader("Content-Disposition", "attachment; filename=\"" + id + ".csv\"")
                .end(io.inferium.scoring.Invoices.csv(inv.get()));
          } else {
            FunctionRoutes.json(ctx, 200, inv.get());
          }
        })
        .onFailure(ctx::fail);
  }

  /**
   * {@code GET /api/earnings?from=&to=}: a developer tenant's share of its functions' charges and its contest credits;
   * for an operator key (or an admin naming {@code operator=}), what each of its nodes earned instead
   * ({@link io.inferium.engine.settlement.OperatorEarnings}); both with the settlements that pay the payee.
   */
  private void earnings(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    Instant from = time(ctx, "from", now.withDayOfMonth(1).toLocalDate().atStartOfDay(ZoneOffset.UTC).toInstant());
    Instant to = time(ctx, "to", now.toInstant().plusSeconds(1));
    if (!from.isBefore(to)) {
      throw ApiError.badRequest("query parameters 'from' and 'to': 'from' (" + from + ") must be before 'to' (" + to + ")");
    }
    String operator = ctx.queryParams().get("operator");
    if (operator != null && !who.isAdmin() && !(who.role() == Principal.Role.OPERATOR && operator.equals(who.keyId()))) {
      // Another operator's nodes, shares and slashes are its own business.
      throw new ApiError(403, "query parameter 'operator': only an admin may read another operator's earnings");
    }
    if (who.role() == Principal.Role.OPERATOR && who.tenantId() == null) {
      operatorEarnings(ctx, who.keyId(), from, to);
      return;
    }
    if (operator != null) {
      settlement.operatorEarnings().isOperator(operator).onSuccess(known -> {
        if (known) {
          operatorEarnings(ctx, operator, from, to);
        } else {
          ctx.fail(ApiError.notFound("query parameter 'operator': no operator key '" + operator + "'"));
        }
      }).onFailure(ctx::fail);
      return;
    }
    String developer = who.isAdmin() ? ctx.queryParams().get("developer") : SettlementRoutes.payee(who);
    if (developer == null) {
      throw ApiError.badRequest("query parameter 'developer' or 'operator': an admin names the developer tenant or "
          + "the operator key whose earnings to read");
    }
    meter.flush().otherwiseEmpty().compose(v -> invoices.earnings(developer, from, to))
        .compose(body -> withSettlements(body, developer))
        .onSuccess(body -> FunctionRoutes.json(ctx, 200, body)).onFailure(ctx::fail);
  }

  /** An operator's per-node earnings; its shares settle to {@code operator:<key id>}'s address. */
  private void operatorEarnings(RoutingContext ctx, String operatorKeyId, Instant from, Instant to) {
    String payee = "operator:" + operatorKeyId;
    meter.flush().otherwiseEmpty().compose(v -> settlement.operatorEarnings().of(operatorKeyId, from, to))
        .compose(body -> withSettlements(body.put("payee", payee), payee))
        .onSuccess(body -> FunctionRoutes.json(ctx, 200, body)).onFailure(ctx::fail);
  }

  /** Adds the settlements that pay {@code payee} (epochs, amounts, proofs for PayoutDistributor.claim) and its address. */
  private io.vertx.core.Future<io.vertx.core.json.JsonObject> withSettlements(io.vertx.core.json.JsonObject body,
      String payee) {
    return settlement.ledger().addressOf(payee).compose(address -> settlement.claimsOf(payee)
        .map(claims -> {
          body.put("payout_address", address.orElse(null)).put("settlements", claims);
          if (settlement.deployment() != null) {
            body.put("distributor", new io.vertx.core.json.JsonObject()
                .put("chain_id", settlement.deployment().chainId())
                .put("contract", settlement.deployment().distributor())
                .put("token", settlement.deployment().token()));
          }
          return body;
        }));
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
