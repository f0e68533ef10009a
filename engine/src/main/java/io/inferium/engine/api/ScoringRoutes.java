package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.scoring.ScoringService;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.scoring.ScoringException;
import io.inferium.scoring.board.UsagePoints;
import io.inferium.scoring.eval.EvalDataset;
import io.inferium.scoring.eval.EvalStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Evaluation and human-rating routes, and the leaderboard:
 * <ul>
 *   <li>{@code POST /api/datasets} {name, category | function, format: jsonl|csv, content} (developers, admins);
 *       {@code GET /api/datasets?category=&function=}
 *   <li>{@code POST /api/benchmarks} {function, dataset}: runs now and answers with the run;
 *       {@code GET /api/benchmarks?function=}: history
 *   <li>{@code PUT /api/functions/:name/rating} {stars, feedback}; {@code GET /api/functions/:name/ratings};
 *       {@code PUT /api/functions/:name/ratings/:user/helpful} {helpful} (the function's developer)
 *   <li>{@code POST /api/functions/:name/events} {type: download | space_deploy}: usage points, once per user
 *   <li>{@code GET /api/leaderboard?category=&sort=} and {@code GET /api/leaderboard/stream} (SSE)
 * </ul>
 * Another tenant's private function answers 404, as everywhere.
 */
final class ScoringRoutes {

  private static final long MAX_DATASET_BYTES = 16 * 1024 * 1024;

  private final ScoringService scoring;

  ScoringRoutes(ScoringService scoring) {
    this.scoring = scoring;
  }

  void mount(Router router) {
    BodyHandler small = BodyHandler.create(false).setBodyLimit(64 * 1024);
    router.post("/api/datasets").handler(BodyHandler.create(false).setBodyLimit(MAX_DATASET_BYTES)).handler(this::upload);
    router.get("/api/datasets").handler(this::datasets);
    router.post("/api/benchmarks").handler(small).handler(this::benchmark);
    router.get("/api/benchmarks").handler(this::runs);
    router.put("/api/functions/:name/rating").handler(small).handler(this::rate);
    router.get("/api/functions/:name/ratings").handler(this::ratings);
    router.put("/api/functions/:name/ratings/:user/helpful").handler(small).handler(this::helpful);
    router.post("/api/functions/:name/events").handler(small).handler(this::event);
    router.get("/api/leaderboard").handler(this::leaderboard);
    new LeaderboardStream(scoring).mount(router);
    new ContestRoutes(scoring).mount(router);
  }

  /** The identity a rating or vote belongs to: the tenant, or the key for platform keys. */
  static String user(Principal who) {
    return who.tenantId() != null ? who.tenantId() : "key:" + who.keyId();
  }

  /** Maps scoring refusals to API errors. */
  static Throwable api(Throwable err) {
    return err instanceof ScoringException s ? new ApiError(s.status(), s.getMessage(), s.status() == 429 ? 3600 : 0)
        : err instanceof IllegalArgumentException ? ApiError.badRequest(err.getMessage()) : err;
  }

  static JsonObject body(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    if (body == null) {
      throw ApiError.badRequest("expected a JSON object body");
    }
    return body;
  }

  static String string(JsonObject body, String field, boolean required) {
    Object v = body.getValue(field);
    if (v == null) {
      if (required) {
        throw ApiError.badRequest("field '" + field + "': required");
      }
      return null;
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw ApiError.badRequest("field '" + field + "': expected a non-empty string, got " + v);
    }
    return s;
  }

  /** The latest version of a function the caller may see, or 404. */
  Future<FunctionRecord> visibleFunction(RoutingContext ctx, String name) {
    Principal who = Authentication.principal(ctx);
    return scoring.functions().latest(name).compose(f -> f.isPresent()
        && who.maySee(f.get().owner(), f.get().spec().visibility() == FunctionSpec.Visibility.PUBLIC)
        ? Future.succeededFuture(f.get()) : Future.failedFuture(ApiError.notFound("no function named '" + name + "'")));
  }

  private void upload(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    if (who.role() == Principal.Role.USER) {
      throw new ApiError(403, "uploading datasets needs a developer or admin key");
    }
    JsonObject body = body(ctx);
    String name = string(body, "name", true);
    String category = string(body, "category", false);
    String function = string(body, "function", false);
    String format = string(body, "format", true);
    String content = string(body, "content", true);
    if (category == null && function == null) {
      throw ApiError.badRequest("field 'category' or 'function': one of them is required");
    }
    EvalDataset data;
    try {
      data = EvalDataset.parse(format, content);
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest(e.getMessage().startsWith("field") ? e.getMessage() : "field 'content': " + e.getMessage());
    }
    Future<Void> check = function == null ? Future.succeededFuture()
        : visibleFunction(ctx, function).compose(fn -> who.mayManage(fn.owner()) ? Future.<Void>succeededFuture()
            : Future.failedFuture(new ApiError(403, "only the developer of '" + function + "' may add its datasets")));
    check.compose(v -> scoring.evals().createDataset(name, category, function, who.tenantId(), format, data))
        .onSuccess(ds -> {
          scoring.scheduler().poke();
          FunctionRoutes.json(ctx, 201, ds.toJson());
        })
        .onFailure(err -> ctx.fail(api(err)));
  }

  private void datasets(RoutingContext ctx) {
    scoring.evals().datasets(ctx.queryParams().get("category"), ctx.queryParams().get("function"))
        .onSuccess(list -> FunctionRoutes.json(ctx, 200, new JsonObject()
            .put("datasets", new JsonArray(list.stream().map(EvalStore.Dataset::toJson).toList()))))
        .onFailure(ctx::fail);
  }

  private void benchmark(RoutingContext ctx) {
    JsonObject body = body(ctx);
    String function = string(body, "function", true);
    String dataset = string(body, "dataset", true);
    visibleFunction(ctx, function).compose(fn -> scoring.functions().latestReady(function).compose(ready -> {
      if (ready.isEmpty()) {
        return Future.failedFuture(new ApiError(409, "'" + function + "' has no ready version to benchmark"));
      }
      return scoring.evals().dataset(dataset).compose(ds -> ds.isEmpty()
          ? Future.failedFuture(ApiError.notFound("no dataset '" + dataset + "'"))
          : scoring.runAndSignal(ready.get(), ds.get(), "manual"));
    })).onSuccess(run -> FunctionRoutes.json(ctx, 200, run)).onFailure(err -> ctx.fail(api(err)));
  }

  private void runs(RoutingContext ctx) {
    String function = ctx.queryParams().get("function");
    if (function == null) {
      throw ApiError.badRequest("query parameter 'function': required");
    }
    visibleFunction(ctx, function).compose(fn -> scoring.evals().runs(function, 100))
        .onSuccess(list -> FunctionRoutes.json(ctx, 200, new JsonObject().put("function", function)
            .put("runs", new JsonArray(list))))
        .onFailure(err -> ctx.fail(api(err)));
  }

  private void rate(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (!(body.getValue("stars") instanceof Integer stars)) {
      throw ApiError.badRequest("field 'stars': expected an integer from 1 to 5, got " + body.getValue("stars"));
    }
    String feedback = body.getValue("feedback") == null ? null : string(body, "feedback", false);
    String name = ctx.pathParam("name");
    Principal who = Authentication.principal(ctx);
    visibleFunction(ctx, name).compose(fn -> scoring.ratings().rate(name, user(who), stars, feedback).onSuccess(r ->
            scoring.changed(fn.spec().category())))
        .onSuccess(r -> FunctionRoutes.json(ctx, r.getBoolean("created") ? 201 : 200, r))
        .onFailure(err -> ctx.fail(api(err)));
  }

  private void ratings(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    visibleFunction(ctx, name).compose(fn -> scoring.ratings().list(name))
        .onSuccess(r -> FunctionRoutes.json(ctx, 200, r)).onFailure(err -> ctx.fail(api(err)));
  }

  private void helpful(RoutingContext ctx) {
    JsonObject body = body(ctx);
    boolean helpful = !(body.getValue("helpful") instanceof Boolean b) || b;
    String name = ctx.pathParam("name");
    Principal who = Authentication.principal(ctx);
    visibleFunction(ctx, name).compose(fn -> {
      if (!who.mayManage(fn.owner())) {
        return Future.failedFuture(new ApiError(403, "only the developer of '" + name + "' marks feedback helpful"));
      }
      return scoring.ratings().markHelpful(name, ctx.pathParam("user"), helpful)
          .onSuccess(v -> scoring.changed(fn.spec().category()));
    }).onSuccess(v -> FunctionRoutes.json(ctx, 200, new JsonObject().put("function", name)
        .put("user", ctx.pathParam("user")).put("helpful", helpful))).onFailure(err -> ctx.fail(api(err)));
  }

  private void event(RoutingContext ctx) {
    JsonObject body = body(ctx);
    String type = string(body, "type", true);
    if (!type.equals("download") && !type.equals("space_deploy")) {
      throw ApiError.badRequest("field 'type': expected download | space_deploy, got '" + type + "'");
    }
    String name = ctx.pathParam("name");
    Principal who = Authentication.principal(ctx);
    int pts = type.equals("download") ? UsagePoints.DOWNLOAD : UsagePoints.SPACE_DEPLOY;
    visibleFunction(ctx, name).compose(fn -> scoring.points().record(type + ":" + name + ":" + user(who), name, type, pts)
            .onSuccess(isNew -> scoring.changed(fn.spec().category())))
        .onSuccess(isNew -> FunctionRoutes.json(ctx, isNew ? 201 : 200, new JsonObject().put("function", name)
            .put("type", type).put("counted", isNew)))
        .onFailure(err -> ctx.fail(api(err)));
  }

  private void leaderboard(RoutingContext ctx) {
    String category = ctx.queryParams().get("category");
    if (category == null || category.isBlank()) {
      throw ApiError.badRequest("query parameter 'category': required");
    }
    String sort = ctx.queryParams().get("sort") == null ? "score" : ctx.queryParams().get("sort");
    Principal who = Authentication.principal(ctx);
    scoring.board(category, sort, who.tenantId(), who.isAdmin())
        .onSuccess(b -> FunctionRoutes.json(ctx, 200, b)).onFailure(err -> ctx.fail(api(err)));
  }

}
