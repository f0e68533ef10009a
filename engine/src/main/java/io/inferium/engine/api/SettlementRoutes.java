package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.settlement.SettlementLedger;
import io.inferium.engine.settlement.SettlementService;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Settlement on chain (issue 13; docs/CHAIN.md "Settlement"):
 * <ul>
 *   <li>{@code GET|PUT /api/payout-address} {address}: where the caller's tenant is paid. Only its developer and
 *       operator keys (or an admin naming {@code tenant=}) may set it: a user key handed to an app must not be able
 *       to redirect the tenant's earnings.
 *   <li>{@code POST /api/settlements} {cutoff?} (admin): builds the next settlement epoch now from what is unsettled
 *       before the cutoff (default: a second ago); it is opened on chain by the outbox.
 * </ul>
 * What a tenant may claim, with proofs, is in {@code GET /api/earnings} ({@code settlements}).
 */
final class SettlementRoutes {

  private final SettlementService settlement;

  SettlementRoutes(SettlementService settlement) {
    this.settlement = settlement;
  }

  void mount(Router router) {
    router.get("/api/payout-address").handler(this::getAddress);
    router.put("/api/payout-address").handler(LimitedBodyHandler.create(false).setBodyLimit(4096)).handler(this::putAddress);
    router.post("/api/settlements").handler(LimitedBodyHandler.create(false).setBodyLimit(4096)).handler(this::settle);
  }

  /**
   * Who is paid: a tenant, or an operator key (platform keys with no tenant) as {@code operator:<key id>}, whose
   * nodes' operator shares settle to it.
   */
  static String payee(Principal who) {
    if (who.tenantId() == null && who.role() == Principal.Role.OPERATOR) {
      return "operator:" + who.keyId();
    }
    return who.tenantId();
  }

  /** The payee this is about: the caller's own, or for an admin the {@code tenant} parameter. */
  private static String tenant(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    String t = who.isAdmin() ? ctx.queryParams().get("tenant") : payee(who);
    if (t == null) {
      throw ApiError.badRequest(who.isAdmin() ? "query parameter 'tenant': an admin names the tenant"
          : "this key belongs to no tenant; payout addresses are per tenant");
    }
    return t;
  }

  private void getAddress(RoutingContext ctx) {
    String tenant = tenant(ctx);
    settlement.ledger().addressOf(tenant).onSuccess(a -> FunctionRoutes.json(ctx, 200,
        new JsonObject().put("tenant", tenant).put("address", a.orElse(null)))).onFailure(ctx::fail);
  }

  private void putAddress(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    if (!(who.isAdmin() || who.role() == Principal.Role.DEVELOPER || who.role() == Principal.Role.OPERATOR)) {
      throw new ApiError(403, "only a developer or operator key of the tenant (or an admin) may set its payout address");
    }
    String tenant = tenant(ctx);
    String address;
    try {
      address = SettlementLedger.address("address", ScoringRoutes.body(ctx).getValue("address"));
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    settlement.ledger().setAddress(tenant, address).onSuccess(v -> FunctionRoutes.json(ctx, 200,
        new JsonObject().put("tenant", tenant).put("address", address))).onFailure(ctx::fail);
  }

  private void settle(RoutingContext ctx) {
    if (!Authentication.principal(ctx).isAdmin()) {
      throw new ApiError(403, "only an admin key may build a settlement epoch");
    }
    if (!settlement.on()) {
      throw new ApiError(409, "settlement needs a chain: start the gateway with --chain-rpc, --chain-key-file and "
          + "--chain-deployment");
    }
    JsonObject body = ctx.body().isEmpty() ? new JsonObject() : ScoringRoutes.body(ctx);
    Instant cutoff = Instant.now().minusSeconds(1);
    Object c = body.getValue("cutoff");
    if (c != null) {
      try {
        cutoff = Instant.parse(String.valueOf(c));
      } catch (DateTimeParseException e) {
        throw ApiError.badRequest("field 'cutoff': expected an ISO-8601 instant such as 2026-12-05T00:00:00Z, got '" + c + "'");
      }
      if (cutoff.isAfter(Instant.now())) {
        throw ApiError.badRequest("field 'cutoff': must not be in the future (usage still arriving would be split)");
      }
    }
    settlement.settle(cutoff).onSuccess(built -> {
      if (built.isEmpty()) {
        FunctionRoutes.json(ctx, 200, new JsonObject().put("epoch", (Object) null)
            .put("note", "nothing to settle: no party with a payout address is owed anything before the cutoff"));
        return;
      }
      SettlementLedger.Built b = built.get();
      FunctionRoutes.json(ctx, 201, new JsonObject().put("epoch", b.epoch().epoch()).put("accounts", b.accounts())
          .put("payout_micro_usd", b.payoutMicroUsd()).put("platform_burned_micro_usd", b.platformMicroUsd())
          .put("payout_total", b.epoch().payoutTotal().toString())
          .put("platform_share", b.epoch().platformShare().toString())
          .put("root", org.web3j.utils.Numeric.toHexString(b.epoch().root())).put("state", "awaiting opening"));
    }).onFailure(ctx::fail);
  }
}
