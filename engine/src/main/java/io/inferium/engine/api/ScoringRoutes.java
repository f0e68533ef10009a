package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.completions.Completions;
import io.inferium.engine.scoring.ScoringService;
import io.inferium.functions.CompletionEvent;
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
 *   <li>{@code POST /api/datasets} {name, category | function, format: jsonl|csv|zip, content, public} (developers,
 *       admins); {@code GET /api/datasets?category=&function=}: public and approved datasets and the caller's own;
 *       {@code POST /api/datasets/:id/approve} {approved} (admins): only approved category datasets count toward
 *       the leaderboard and run on other tenants' functions (an admin's uploads are approved at once)
 *   <li>{@code POST /api/benchmarks} {function, dataset}: the function's developer (or an admin) runs it now and
 *       gets the run; rate-limited like a call, at most 1 running and 20 a day per tenant by default (429;
 *       {@link Limits}), and metered to the caller's tenant;
 *       {@code GET /api/benchmarks?function=}: history (runs on datasets the caller may not see are left out
 *       unless the caller manages the function)
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
  private final Limits limits;
  private final Completions completions;

  ScoringRoutes(ScoringService scoring, Limits limits, Completions completions) {
    this.scoring = scoring;
    this.limits = limits;
    this.completions = completions;
  }

  void mount(Router router) {
    BodyHandler small = LimitedBodyHandler.create(false).setBodyLimit(64 * 1024);
    router.post("/api/datasets").handler(LimitedBodyHandler.create(false).setBodyLimit(MAX_DATASET_BYTES)).handler(this::upload);
    router.get("/api/datasets").handler(this::datasets);
    router.post("/api/datasets/:id/approve").handler(small).handler(this::approve);
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
    return visibleFunction(scoring, ctx, name);
  }

  static Future<FunctionRecord> visibleFunction(ScoringService scoring, RoutingContext ctx, String name) {
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
    Object publicValue = body.getValue("public");
    if (publicValue != null && !(publicValue instanceof Boolean)) {
      throw ApiError.badRequest("field 'public': expected true or false, got " + publicValue);
    }
    // An admin's upload is the platform's: approved at once. Anyone else's waits for an admin.
    boolean approved = who.isAdmin();
    boolean isPublic = publicValue == null ? approved : (Boolean) publicValue;
    // Parsing (and, for a zip set, inflating and checking every file's header) runs off the event loop.
    Future<EvalDataset> parsed = ctx.vertx().executeBlocking(() -> {
      try {
        return MediaRows.checked(EvalDataset.parse(format, content), MediaUpload.Bounds.DEFAULT);
      } catch (IllegalArgumentException e) {
        throw ApiError.badRequest(e.getMessage().startsWith("field") ? e.getMessage() : "field 'content': " + e.getMessage());
      }
    }, false);
    Future<Void> check = function == null ? Future.succeededFuture()
        : visibleFunction(ctx, function).compose(fn -> who.mayManage(fn.owner()) ? Future.<Void>succeededFuture()
            : Future.failedFuture(new ApiError(403, "only the developer of '" + function + "' may add its datasets")));
    check.compose(v -> parsed).compose(data -> scoring.evals().createDataset(name, category, function, who.tenantId(),
            format, data, isPublic, approved))
        .onSuccess(ds -> {
          scoring.scheduler().poke();
          FunctionRoutes.json(ctx, 201, ds.toJson());
        })
        .onFailure(err -> ctx.fail(api(err)));
  }

  private void datasets(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    scoring.evals().datasets(ctx.queryParams().get("category"), ctx.queryParams().get("function"), who.tenantId(),
            who.isAdmin())
        .onSuccess(list -> FunctionRoutes.json(ctx, 200, new JsonObject()
            .put("datasets", new JsonArray(list.stream().map(EvalStore.Dataset::toJson).toList()))))
        .onFailure(ctx::fail);
  }

  private void approve(RoutingContext ctx) {
    if (!Authentication.principal(ctx).isAdmin()) {
      throw new ApiError(403, "only an admin key may approve datasets");
    }
    JsonObject body = body(ctx);
    Object value = body.getValue("approved", true);
    if (!(value instanceof Boolean approved)) {
      throw ApiError.badRequest("field 'approved': expected true or false, got " + value);
    }
    String id = ctx.pathParam("id");
    scoring.evals().approve(id, approved).compose(ds -> ds.isEmpty()
            ? Future.<EvalStore.Dataset>failedFuture(ApiError.notFound("no dataset '" + id + "'")) : Future.succeededFuture(ds.get()))
        .onSuccess(ds -> {
          scoring.changed(ds.category());
          scoring.scheduler().poke();
          FunctionRoutes.json(ctx, 200, ds.toJson());
        })
        .onFailure(err -> ctx.fail(api(err)));
  }

  private void benchmark(RoutingContext ctx) {
    JsonObject body = body(ctx);
    String function = string(body, "function", true);
    String dataset = string(body, "dataset", true);
    Principal who = Authentication.principal(ctx);
    limits.request(who);
    long started = System.nanoTime();
    visibleFunction(ctx, function).compose(fn -> {
      if (!who.mayManage(fn.owner())) {
        return Future.failedFuture(new ApiError(403, "only the developer of '" + function + "' (or an admin) may start "
            + "its benchmark runs"));
      }
      return scoring.evals().dataset(dataset);
    }).compose(ds -> {
      if (ds.isEmpty() || !ds.get().visibleTo(who.tenantId(), who.isAdmin())) {
        return Future.failedFuture(ApiError.notFound("no dataset '" + dataset + "'"));
      }
      return scoring.functions().latestReady(function).compose(ready -> ready.isEmpty()
          ? Future.failedFuture(new ApiError(409, "'" + function + "' has no ready version to benchmark"))
          : limits.benchmarksToday(who, who.tenantId() == null ? Future.succeededFuture(0L)
              : scoring.evals().startedToday(who.tenantId())).compose(v -> {
                Runnable release = limits.benchmark(who);
                return scoring.runAndSignal(ready.get(), ds.get(), "manual", who.tenantId())
                    .onComplete(ar -> release.run())
                    .compose(run -> bill(who, ready.get(), run, started).map(billed -> {
                      ctx.response().putHeader(Billed.HEADER, Boolean.toString(billed));
                      return run;
                    }));
              }));
    }).onSuccess(run -> FunctionRoutes.json(ctx, 200, run)).onFailure(err -> ctx.fail(api(err)));
  }

  /**
   * A finished run someone started is billed to its tenant like the calls it made: one completion event
   * (id {@code bench:<run id>}, modality {@code benchmark}, units = rows), durable before the answer. True
   * when billed; false when there was nothing to bill (a failed run) or the event could not be written.
   */
  private Future<Boolean> bill(Principal who, FunctionRecord fn, JsonObject run, long startNanos) {
    Long charge = run.getLong("cost_micro_usd");
    if (charge == null || !"done".equals(run.getString("state"))) {
      return Future.succeededFuture(false);
    }
    int rows = run.getInteger("rows") == null ? 0 : run.getInteger("rows");
    return completions.emit(CompletionEvent.builder("bench:" + run.getString("id"), fn).tenant(who.tenantId())
            .endpoint("benchmark", "benchmark").charge(rows, 0, charge)
            .timings(0, 0, java.util.concurrent.TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos))
            .detail("dataset", run.getString("dataset_id")).build())
        .onSuccess(billed -> {
          if (billed) {
            limits.charged(who, charge);
          }
        });
  }

  private void runs(RoutingContext ctx) {
    String function = ctx.queryParams().get("function");
    if (function == null) {
      throw ApiError.badRequest("query parameter 'function': required");
    }
    Principal who = Authentication.principal(ctx);
    visibleFunction(ctx, function).compose(fn -> scoring.evals().runs(function, 100).compose(list -> who.mayManage(fn.owner())
            ? Future.succeededFuture(list)
            : scoring.evals().datasets(null, null, who.tenantId(), false).map(seen -> {
              java.util.Set<String> ids = new java.util.HashSet<>(seen.stream().map(EvalStore.Dataset::id).toList());
              return list.stream().filter(r -> ids.contains(r.getString("dataset_id"))).toList();
            })))
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
