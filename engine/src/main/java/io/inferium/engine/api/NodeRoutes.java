package io.inferium.engine.api;

import io.inferium.engine.gateway.WorkerLink;
import io.inferium.engine.gateway.WorkerSupervisor;
import io.inferium.verifier.NodeLedger;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The verification network's nodes: {@code GET /api/nodes} (state, capabilities, reputation, stake,
 * recent events with evidence) and {@code POST /api/nodes/{id}/stake} (an admin deposit).
 */
final class NodeRoutes {

  private final NodeLedger ledger;
  private final WorkerSupervisor supervisor;

  NodeRoutes(NodeLedger ledger, WorkerSupervisor supervisor) {
    this.ledger = ledger;
    this.supervisor = supervisor;
  }

  void mount(Router router) {
    router.get("/api/nodes").handler(this::list);
    router.post("/api/nodes/:id/stake").handler(BodyHandler.create(false).setBodyLimit(4096)).handler(this::deposit);
  }

  private void list(RoutingContext ctx) {
    Map<String, WorkerLink> attached = supervisor.workers().stream()
        .collect(Collectors.toMap(WorkerLink::workerId, w -> w, (a, b) -> a));
    ledger.list().onSuccess(nodes -> {
      JsonArray out = new JsonArray();
      for (JsonObject n : nodes) {
        WorkerLink link = attached.get(n.getString("node_id"));
        n.put("attached", link != null);
        if (link != null) {
          n.put("capabilities", link.hello().getJsonObject("capabilities"))
              .put("runtime", link.hello().getJsonObject("runtime"))
              .put("pid", link.pid())
              .put("inflight", link.reserved());
        }
        out.add(n);
      }
      FunctionRoutes.json(ctx, 200, new JsonObject().put("nodes", out));
    }).onFailure(ctx::fail);
  }

  private void deposit(RoutingContext ctx) {
    if (!Authentication.principal(ctx).isAdmin()) {
      throw new ApiError(403, "only an admin key may deposit stake");
    }
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw ApiError.badRequest("malformed JSON: " + e.getMessage());
    }
    Object amount = body == null ? null : body.getValue("amount_micro_usd");
    if (!(amount instanceof Integer || amount instanceof Long) || ((Number) amount).longValue() <= 0) {
      throw ApiError.badRequest("field 'amount_micro_usd': expected a positive integer, got " + amount);
    }
    String id = ctx.pathParam("id");
    ledger.deposit(id, ((Number) amount).longValue())
        .onSuccess(r -> {
          if (r == null) {
            ctx.fail(ApiError.notFound("no node '" + id + "'"));
          } else {
            FunctionRoutes.json(ctx, 200, r);
          }
        })
        .onFailure(ctx::fail);
  }
}
