package io.inferium.engine.api;

import io.inferium.engine.gateway.WorkerLink;
import io.inferium.engine.gateway.WorkerSupervisor;
import io.inferium.verifier.NodeHistory;
import io.inferium.verifier.NodeLedger;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The verification network's nodes: {@code GET /api/nodes} (state, capabilities, reputation, stake,
 * recent events with evidence; for attached ones the pool slot they run in), {@code GET
 * /api/nodes/{id}/events} (one node's whole event history, paged), {@code POST
 * /api/nodes/{id}/stake} (an admin deposit) and {@code POST /api/nodes/{id}/reinstate} (an admin puts an
 * ejected node back in service, with a {@code reason} that is audited).
 */
final class NodeRoutes {

  private final NodeLedger ledger;
  private final WorkerSupervisor supervisor;
  private final double minReputation;

  private static final int MAX_REASON_CHARS = 1000;

  /** Null when the gateway has no node port. */
  private final io.inferium.engine.gateway.RemoteNodes remote;

  NodeRoutes(NodeLedger ledger, WorkerSupervisor supervisor, io.inferium.engine.gateway.RemoteNodes remote) {
    this.ledger = ledger;
    this.supervisor = supervisor;
    this.remote = remote;
    this.minReputation = ledger.settings().minReputation();
  }

  void mount(Router router) {
    router.get("/api/nodes").handler(this::list);
    router.get("/api/nodes/:id/events").handler(this::events);
    // The role is checked before the body is read, so a non-admin's body is never buffered: a route of its own, since
    // vertx-web puts a body handler ahead of any other handler of the same route.
    router.post("/api/nodes/:id/stake").handler(ctx -> adminOnly(ctx, "deposit stake"));
    router.post("/api/nodes/:id/stake").handler(LimitedBodyHandler.create(false).setBodyLimit(4096)).handler(this::deposit);
    router.post("/api/nodes/:id/reinstate").handler(ctx -> adminOnly(ctx, "reinstate a node"));
    router.post("/api/nodes/:id/reinstate").handler(LimitedBodyHandler.create(false).setBodyLimit(4096)).handler(this::reinstate);
  }

  /** Nodes a page of {@code GET /api/nodes} holds by default, and at most. */
  static final int DEFAULT_NODES = 1000;
  static final int MAX_NODES = 5000;
  /** A detached local node stays in the default listing for a day after it was last seen or changed. */
  static final long RECENT_SECONDS = 24 * 3600;

  /**
   * {@code GET /api/nodes?all=&limit=&after=&node=}: by default the nodes that matter now (attached, remote, and
   * local ones seen or changed in the last day: a local worker gets a fresh node id per spawn, so the whole table
   * grows by one row per restart); {@code all=true} every node; {@code node=ID} that one node. Ordered by node id,
   * in pages of {@code limit} (default 1000, at most 5000); {@code next_after} names the next page's {@code after}.
   */
  private void list(RoutingContext ctx) {
    Map<String, WorkerLink> attached = supervisor.workers().stream()
        .collect(Collectors.toMap(WorkerLink::workerId, w -> w, (a, b) -> a));
    int limit = (int) positive(ctx, "limit", DEFAULT_NODES);
    if (limit > MAX_NODES) {
      throw ApiError.badRequest("query parameter 'limit': at most " + MAX_NODES + ", got " + limit);
    }
    String all = ctx.queryParams().get("all");
    if (all != null && !all.equals("true") && !all.equals("false")) {
      throw ApiError.badRequest("query parameter 'all': expected true or false, got '" + all + "'");
    }
    java.util.Set<String> current = new java.util.HashSet<>(attached.keySet());
    NodeLedger.Listing listing = new NodeLedger.Listing("true".equals(all), current, RECENT_SECONDS,
        ctx.queryParams().get("after"), limit, ctx.queryParams().get("node"));
    ledger.list(listing).onSuccess(nodes -> {
      JsonArray out = new JsonArray();
      for (JsonObject n : nodes) {
        WorkerLink link = attached.get(n.getString("node_id"));
        n.put("attached", link != null);
        var remoteNode = remote == null ? null : remote.node(n.getString("node_id")).orElse(null);
        if (remoteNode != null) {
          n.mergeIn(remote.describe(remoteNode)).put("attached", remoteNode.connected());
        }
        if (link != null) {
          n.put("slot", link.label());
          n.put("capabilities", link.hello().getJsonObject("capabilities"))
              .put("runtime", link.hello().getJsonObject("runtime"))
              .put("pid", link.pid())
              .put("inflight", link.reserved());
        }
        out.add(n);
      }
      String next = nodes.size() == limit ? nodes.get(nodes.size() - 1).getString("node_id") : null;
      FunctionRoutes.json(ctx, 200, new JsonObject().put("nodes", out).put("next_after", next));
    }).onFailure(ctx::fail);
  }

  private static final java.util.regex.Pattern EVENTS_PATH = java.util.regex.Pattern.compile("/api/nodes/[^/]+/events");
  static final int DEFAULT_EVENTS = 100;

  static boolean isEventsPath(String path) {
    return EVENTS_PATH.matcher(path).matches();
  }

  /**
   * {@code GET /api/nodes/{id}/events?limit=&before=}: one node's ledger events, newest first, in pages of at most
   * {@link NodeHistory#MAX_PAGE} (admin and operator keys): its reputation over time and its slashes with evidence.
   */
  private void events(RoutingContext ctx) {
    if (!Authentication.principal(ctx).mayOperate()) {
      throw new ApiError(403, "a node's event history needs an admin or operator key");
    }
    int limit = (int) positive(ctx, "limit", DEFAULT_EVENTS);
    if (limit > NodeHistory.MAX_PAGE) {
      throw ApiError.badRequest("query parameter 'limit': at most " + NodeHistory.MAX_PAGE + ", got " + limit);
    }
    long before = positive(ctx, "before", 0);
    String id = ctx.pathParam("id");
    ledger.history().page(id, before == 0 ? null : before, limit).onSuccess(page -> {
      if (page.isEmpty()) {
        ctx.fail(ApiError.notFound("no node '" + id + "'"));
      } else {
        FunctionRoutes.json(ctx, 200, new JsonObject().put("node_id", id)
            .put("events", new JsonArray(page.get().events())).put("next_before", page.get().nextBefore()));
      }
    }).onFailure(ctx::fail);
  }

  private static long positive(RoutingContext ctx, String name, long otherwise) {
    String text = ctx.queryParams().get(name);
    if (text == null) {
      return otherwise;
    }
    try {
      long v = Long.parseLong(text);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ApiError.badRequest("query parameter '" + name + "': expected a positive integer, got '" + text + "'");
  }

  private static void adminOnly(RoutingContext ctx, String what) {
    if (!Authentication.principal(ctx).isAdmin()) {
      throw new ApiError(403, "only an admin key may " + what);
    }
    ctx.next();
  }

  private void reinstate(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw ApiError.badRequest("malformed JSON: " + e.getMessage());
    }
    Object reason = body == null ? null : body.getValue("reason");
    if (!(reason instanceof String r) || r.isBlank() || r.length() > MAX_REASON_CHARS) {
      throw ApiError.badRequest("field 'reason': expected a non-empty string of at most " + MAX_REASON_CHARS
          + " characters saying why the node is reinstated, got " + (reason == null ? "nothing" : reason));
    }
    Object rep = body.getValue("reputation");
    double min = minReputation;
    if (rep != null && !(rep instanceof Number n && n.doubleValue() > min && n.doubleValue() <= 1.0)) {
      throw ApiError.badRequest("field 'reputation': expected a number above the ejection threshold " + min
          + " and at most 1.0, got " + rep);
    }
    double reputation = rep == null ? NodeLedger.REINSTATED_REPUTATION : ((Number) rep).doubleValue();
    String id = ctx.pathParam("id");
    ledger.reinstate(id, Authentication.principal(ctx).keyId(), ((String) reason).strip(), reputation)
        .onSuccess(result -> {
          if (result == null) {
            ctx.fail(ApiError.notFound("no node '" + id + "'"));
          } else {
            FunctionRoutes.json(ctx, 200, result);
          }
        })
        .onFailure(ctx::fail);
  }

  private void deposit(RoutingContext ctx) {
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
