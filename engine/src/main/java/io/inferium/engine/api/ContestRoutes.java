package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.scoring.ScoringService;
import io.inferium.scoring.board.ContestStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Contests: {@code POST /api/contests} {name, category, dataset, metric, starts_at, ends_at,
 * reward_pool_micro_usd, private} (developers and admins); {@code GET /api/contests?category=};
 * {@code GET /api/contests/:id} with live (or final) standings; {@code POST /api/contests/:id/entries}
 * {function} by the function's developer. A private contest answers 404 to everyone but its owner
 * tenant (and admins).
 */
final class ContestRoutes {

  private final ScoringService scoring;

  ContestRoutes(ScoringService scoring) {
    this.scoring = scoring;
  }

  void mount(Router router) {
    BodyHandler body = LimitedBodyHandler.create(false).setBodyLimit(16 * 1024);
    router.post("/api/contests").handler(body).handler(this::create);
    router.get("/api/contests").handler(this::list);
    router.get("/api/contests/:id").handler(this::get);
    router.post("/api/contests/:id/entries").handler(body).handler(this::enter);
  }

  private static OffsetDateTime time(JsonObject body, String field) {
    String v = ScoringRoutes.string(body, field, true);
    try {
      return OffsetDateTime.parse(v);
    } catch (DateTimeParseException e) {
      throw ApiError.badRequest("field '" + field + "': expected an RFC 3339 time such as 2026-12-01T00:00:00Z, got '" + v + "'");
    }
  }

  private void create(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    if (who.role() == Principal.Role.USER) {
      throw new ApiError(403, "creating contests needs a developer or admin key");
    }
    JsonObject b = ScoringRoutes.body(ctx);
    Object pool = b.getValue("reward_pool_micro_usd", 0);
    if (!(pool instanceof Number n) || n.longValue() != n.doubleValue()) {
      throw ApiError.badRequest("field 'reward_pool_micro_usd': expected an integer, got " + pool);
    }
    String dataset = ScoringRoutes.string(b, "dataset", true);
    String name = ScoringRoutes.string(b, "name", true);
    String category = ScoringRoutes.string(b, "category", true);
    String metric = ScoringRoutes.string(b, "metric", true);
    OffsetDateTime startsAt = time(b, "starts_at");
    OffsetDateTime endsAt = time(b, "ends_at");
    // A contest runs its dataset on every entry: it must be one the creator may see (its own, public or approved).
    scoring.evals().dataset(dataset).compose(ds -> ds.isPresent() && ds.get().visibleTo(who.tenantId(), who.isAdmin())
            ? Future.succeededFuture() : Future.failedFuture(ApiError.notFound("no dataset '" + dataset + "'")))
        .compose(v -> scoring.contests().create(name, category, dataset, metric, startsAt, endsAt, ((Number) pool).longValue(),
            who.tenantId(), Boolean.TRUE.equals(b.getValue("private"))))
        .onSuccess(c -> FunctionRoutes.json(ctx, 201, c.toJson()))
        .onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }

  private void list(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    scoring.contests().list(ctx.queryParams().get("category"))
        .onSuccess(all -> FunctionRoutes.json(ctx, 200, new JsonObject().put("contests", new JsonArray(all.stream()
            .filter(c -> c.visibleTo(who.tenantId(), who.isAdmin())).map(ContestStore.Contest::toJson).toList()))))
        .onFailure(ctx::fail);
  }

  private Future<ContestStore.Contest> visible(RoutingContext ctx, String id) {
    Principal who = Authentication.principal(ctx);
    return scoring.contests().get(id).compose(c -> c.isPresent() && c.get().visibleTo(who.tenantId(), who.isAdmin())
        ? Future.succeededFuture(c.get()) : Future.failedFuture(ApiError.notFound("no contest '" + id + "'")));
  }

  private void get(RoutingContext ctx) {
    visible(ctx, ctx.pathParam("id")).compose(c -> scoring.contests().standings(c)
            .map(places -> c.toJson().put("standings", ContestStore.toJson(places))))
        .onSuccess(body -> FunctionRoutes.json(ctx, 200, body)).onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }

  private void enter(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    String function = ScoringRoutes.string(ScoringRoutes.body(ctx), "function", true);
    visible(ctx, ctx.pathParam("id")).compose(c -> ScoringRoutes.visibleFunction(scoring, ctx, function).compose(fn -> {
      if (!who.mayManage(fn.owner())) {
        return Future.failedFuture(new ApiError(403, "only the developer of '" + function + "' may enter it"));
      }
      if (!c.category().equals(fn.spec().category())) {
        return Future.failedFuture(ApiError.badRequest("field 'function': '" + function + "' is in category '"
            + fn.spec().category() + "', the contest in '" + c.category() + "'"));
      }
      return scoring.contests().enter(c, function, ScoringRoutes.user(who)).map(v -> {
        scoring.scheduler().poke();
        return new JsonObject().put("contest", c.id()).put("function", function);
      });
    })).onSuccess(body -> FunctionRoutes.json(ctx, 201, body)).onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }
}
