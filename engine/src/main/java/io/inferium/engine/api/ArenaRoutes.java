package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.completions.Completions;
import io.inferium.engine.completions.Digests;
import io.inferium.engine.mempool.Mempool;
import io.inferium.engine.scoring.ScoringService;
import io.inferium.functions.CompletionEvent;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.tensor.V2Json;
import io.inferium.scoring.arena.Ballot;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The arena. {@code POST /api/arena/battles} {category, input} runs one input on 2 or 3 ready functions of the
 * category that accept it, drawn by weighted random sampling (weight 1/√(1 + battles so far), so newcomers get
 * seen), and answers with the outputs labelled A, B, C; which function is which stays server-side. The input's
 * shape picks the battle: a V2 inference request ({@code {"inputs": [...]}}) for tensor functions, a
 * {@code prompt} or chat {@code messages} for text generation ({@link ArenaText}; with {@code stream: true} the
 * answers stream side by side as Server-Sent Events), {@code texts} for embeddings ({@link ArenaEmbeddings}), an
 * {@code image}, {@code audio} clip or {@code video} for image classifiers and audio and video functions with labels
 * ({@link ArenaMedia}; also as a multipart upload).
 * {@code POST /api/arena/battles/:id/vote} {ranking: {"A": 1, "B": 2, ...}} or {all_bad: true} ranks them (ties
 * allowed) and reveals the identities with what each run cost. Only the battle's creator votes on it, once (409
 * after); votes per user per day are capped (429). Arena runs go through the mempool (tensors) or the text
 * scheduler like any request and are limited and billed like any call: each run counts against the caller's
 * tier rate (429) and the monthly quota (402), each generation takes one of the tier's concurrent-generation
 * slots and a streamed battle one of its streams, and an answered battle records one usage event per run
 * (modality {@code arena}) to the caller's tenant, at each function's price. Before the vote nothing in an
 * answer names a function: no worker or timing headers, no token counts or charges (prices differ, so they would
 * tell the models apart), tensor outputs named by position (not by the developer's names), and a failed run is reported by its label, not its function's error message.
 */
final class ArenaRoutes {

  static final List<String> LABELS = List.of("A", "B", "C");
  static final int PRIORITY = 5;

  private final ScoringService scoring;
  private final Mempool mempool;
  private final HttpVerticle.Text text;
  private final Limits limits;
  private final Completions completions;

  private final io.vertx.core.Vertx vertx;
  private final MediaUpload.Bounds bounds;

  ArenaRoutes(io.vertx.core.Vertx vertx, ScoringService scoring, Mempool mempool, HttpVerticle.Text text, Limits limits,
      Completions completions, MediaUpload.Bounds bounds) {
    this.vertx = vertx;
    this.bounds = bounds;
    this.scoring = scoring;
    this.mempool = mempool;
    this.text = text;
    this.limits = limits;
    this.completions = completions;
  }

  void mount(Router router, long maxRequestBytes, PromptLimits prompts, java.nio.file.Path uploadsDir) {
    ArenaText texts = new ArenaText(this, text.generations(), text.metrics(), limits, completions, prompts);
    ArenaEmbeddings embeddings = new ArenaEmbeddings(this, text.embeddings(), text.metrics(), limits, completions, prompts);
    ArenaMedia media = new ArenaMedia(this, scoring, vertx, mempool, limits, completions, bounds);
    // Multipart (one image or clip) or JSON: the body handler keeps uploads for the first and parses the second.
    router.post("/api/arena/battles")
        .handler(MultipartGuard.arm(vertx))
        .handler(LimitedBodyHandler.create(uploadsDir.toString()).setBodyLimit(maxRequestBytes).setDeleteUploadedFilesOnEnd(true))
        .handler(MultipartGuard.passed())
        .handler(ctx -> battle(ctx, texts, embeddings, media));
    router.post("/api/arena/battles/:id/vote").handler(LimitedBodyHandler.create(false).setBodyLimit(16 * 1024)).handler(this::vote);
  }

  private void battle(RoutingContext ctx, ArenaText texts, ArenaEmbeddings embeddings, ArenaMedia media) {
    String type = ctx.request().getHeader("Content-Type");
    if (type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) {
      media.multipart(ctx, Authentication.principal(ctx));
      return;
    }
    JsonObject body = ScoringRoutes.body(ctx);
    String category = ScoringRoutes.string(body, "category", true);
    if (!(body.getValue("input") instanceof JsonObject input)) {
      throw ApiError.badRequest("field 'input': expected an object: a V2 inference request {\"inputs\": [...]}, "
          + "{\"prompt\": ...} or {\"messages\": [...]} for text generation, {\"texts\": [...]} for embeddings, or "
          + "{\"image\": \"<base64>\"}, {\"audio\": \"<base64>\"} or {\"video\": \"<base64>\"} for media classifiers");
    }
    Object stream = body.getValue("stream");
    if (stream != null && !(stream instanceof Boolean)) {
      throw ApiError.badRequest("field 'stream': expected true or false, got " + stream);
    }
    Principal who = Authentication.principal(ctx);
    if (input.containsKey("prompt") || input.containsKey("messages")) {
      texts.battle(ctx, who, category, input, Boolean.TRUE.equals(stream));
    } else if (Boolean.TRUE.equals(stream)) {
      throw ApiError.badRequest("field 'stream': only text-generation battles stream");
    } else if (input.containsKey("texts")) {
      embeddings.battle(ctx, who, category, input);
    } else if (ArenaMedia.isMedia(input)) {
      media.battle(ctx, who, category, input);
    } else if (input.containsKey("inputs")) {
      tensorBattle(ctx, who, category, input);
    } else {
      throw ApiError.badRequest("field 'input': expected 'inputs' (a V2 request), 'prompt' or 'messages' (text "
          + "generation), 'texts' (embeddings), or 'image', 'audio' or 'video' (base64; media classifiers), got "
          + input.fieldNames());
    }
  }

  /** The ready functions of {@code category} of {@code kind} that the caller may use; a 409 when fewer than 2. */
  Future<List<FunctionRecord>> candidates(Principal who, String category, FunctionKind kind) {
    return scoring.visible(category, who.tenantId(), who.isAdmin()).compose(fns -> {
      List<FunctionRecord> of = fns.stream().filter(f -> f.spec().kind() == kind).toList();
      return of.size() >= 2 ? Future.succeededFuture(of) : Future.failedFuture(new ApiError(409, "category '" + category
          + "' has " + of.size() + " ready " + kind.wire() + " functions; a battle needs 2"));
    });
  }

  /** 2 or 3 of {@code fit} (at least 2), drawn by weighted sampling, in random label order. */
  Future<List<FunctionRecord>> draw(String category, List<FunctionRecord> fit) {
    return scoring.arena().appearances(category)
        .map(seen -> sample(fit, FunctionRecord::name, seen, Math.min(3, fit.size()), ThreadLocalRandom.current()));
  }

  /** Stores an answered battle; {@code models}: label → {"function", "version", and what the run cost}. */
  Future<String> record(String category, Principal who, JsonObject input, JsonObject models) {
    return scoring.arena().create(category, ScoringRoutes.user(who), input, models);
  }

  /** Counts the runs after the first against the caller's rate (the first was counted on arrival). */
  void furtherRuns(Principal who, int runs) {
    for (int i = 1; i < runs; i++) {
      limits.request(who);
    }
  }

  /**
   * A failed run, told by its label only: a run's own error names its function, its version or its worker, and
   * which model failed how (a deadline, a refused input) would tell the models apart.
   */
  static ApiError concealed(String label, Throwable err) {
    ApiError e = Failures.classify(err);
    String why = switch (e.status()) {
      case 400, 413 -> "it could not take this input";
      case 429 -> "its queue is full";
      case 499 -> "the battle was cancelled";
      case 503 -> "no worker could run it now";
      case 504 -> "it did not finish within its deadline";
      default -> "its worker failed";
    };
    int status = e.status() == 413 ? 400 : e.status();
    return new ApiError(status, "model " + label + " failed: " + why + "; this battle cannot be voted on, start another",
        e.retryAfterSeconds());
  }

  /** The first failed run of {@code runs} (in label order), concealed; null when all succeeded. */
  static ApiError firstFailure(List<? extends Future<?>> runs) {
    for (int i = 0; i < runs.size(); i++) {
      if (runs.get(i).failed()) {
        return concealed(LABELS.get(i), runs.get(i).cause());
      }
    }
    return null;
  }

  private void tensorBattle(RoutingContext ctx, Principal who, String category, JsonObject input) {
    limits.request(who);
    limits.monthly(who).compose(v -> scoring.visible(category, who.tenantId(), who.isAdmin())).compose(all -> {
      List<FunctionRecord> fns = all.stream().filter(f -> f.spec().kind() != FunctionKind.TEXT_GENERATION
          && f.spec().kind() != FunctionKind.EMBEDDING).toList();
      List<FunctionRecord> fit = new ArrayList<>();
      Map<String, InferRequest> parsed = new HashMap<>();
      String lastError = null;
      for (FunctionRecord f : fns) {
        try {
          parsed.put(f.name(), InferRequest.parse(input.toBuffer(), f.signature()));
          fit.add(f);
        } catch (RuntimeException e) {
          lastError = e.getMessage();
        }
      }
      if (fit.size() < 2) {
        return Future.failedFuture(fns.size() < 2
            ? new ApiError(409, "category '" + category + "' has " + fns.size() + " ready functions; a battle needs 2")
            : ApiError.badRequest("field 'input': fewer than 2 functions of '" + category + "' accept it"
                + (lastError == null ? "" : " (" + lastError + ")")));
      }
      return scoring.arena().appearances(category).compose(seen -> {
        List<FunctionRecord> picked = sample(fit, FunctionRecord::name, seen, Math.min(3, fit.size()), ThreadLocalRandom.current());
        furtherRuns(who, picked.size());
        List<Future<Mempool.Outcome>> runs = new ArrayList<>();
        for (FunctionRecord f : picked) {
          InferRequest req = parsed.get(f.name());
          long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(f.spec().timeoutMs());
          runs.add(mempool.submit(null, f, req.inputs(), req.outputs(), PRIORITY, deadline, null).future());
        }
        // One server-generated id per battle; each model's run is one function call with one completion event.
        String requestId = "arena-" + java.util.UUID.randomUUID();
        long started = System.nanoTime();
        return Future.join(runs).transform(joined -> {
          ApiError failed = firstFailure(runs);
          return failed == null ? Future.succeededFuture() : Future.<Void>failedFuture(failed);
        }).compose(ran -> {
          // Like any answer, the battle leaves only once its completion events are durable (or says it was not billed).
          List<Future<Long>> bills = new ArrayList<>();
          for (int i = 0; i < picked.size(); i++) {
            bills.add(bill(who, requestId + "/" + LABELS.get(i), picked.get(i), parsed.get(picked.get(i).name()),
                runs.get(i).result(), started));
          }
          return Future.all(bills).map(v -> bills);
        }).compose(bills -> {
          // A run whose usage could not be made durable is not charged (-1): the answer says so.
          boolean billed = bills.stream().allMatch(b -> b.result() >= 0);
          // No charge before the vote, not even the battle's total: with prices known, a total tells which
          // functions were drawn. Each run's charge is revealed with the vote.
          ctx.response().putHeader("X-Inferium-Billed", Boolean.toString(billed));
          ctx.response().putHeader("X-Inferium-Request-Id", requestId);
          JsonObject models = new JsonObject();
          JsonArray outputs = new JsonArray();
          for (int i = 0; i < picked.size(); i++) {
            FunctionRecord f = picked.get(i);
            models.put(LABELS.get(i), new JsonObject().put("function", f.name()).put("version", f.version())
                .put("charge_micro_usd", Math.max(0, bills.get(i).result())));
            outputs.add(new JsonObject().put("label", "Model " + LABELS.get(i)).put("id", LABELS.get(i))
                .put("outputs", anonymousOutputs(runs.get(i).result())));
          }
          return record(category, who, input, models)
              .map(id -> new JsonObject().put("id", id).put("category", category).put("kind", "tensor").put("models", outputs));
        });
      });
    }).onSuccess(b -> FunctionRoutes.json(ctx, 201, b)).onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }

  /**
   * A run's outputs named by position ({@code output_0}, ...): a developer names outputs freely, and a name
   * such as {@code centroid_scores} would tell the voter which function answered.
   */
  static JsonArray anonymousOutputs(Mempool.Outcome outcome) {
    JsonArray out = new JsonArray();
    for (int k = 0; k < outcome.outputs().size(); k++) {
      out.add(V2Json.encodeOutput(outcome.outputs().get(k)).put("name", "output_" + k));
    }
    return out;
  }

  /** One arena run billed like a call: the request's share of its batch's compute at the function's price; -1 when not billed. */
  private Future<Long> bill(Principal who, String id, FunctionRecord f, InferRequest req, Mempool.Outcome outcome,
      long startNanos) {
    long shareUs = outcome.batchRows() > 0 && req.inputs().get(0).shape().length > 0
        ? V2Routes.share(outcome.computeMicros(), req.inputs().get(0).shape()[0], outcome.batchRows())
        : outcome.computeMicros();
    long charge = f.spec().price().charge(shareUs);
    return completions.emit(CompletionEvent.builder(id, f).tenant(who.tenantId()).endpoint("arena", "arena")
            .worker(outcome.workerId()).verdict(outcome.verdict(), outcome.similarity())
            .charge(1, shareUs, charge)
            .timings(TimeUnit.NANOSECONDS.toMicros(outcome.queueNanos()), outcome.computeMicros(),
                TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos))
            .detail("batch_rows", outcome.batchRows()), Digests.tensors(req.inputs(), outcome.outputs()))
        .map(billed -> {
          if (!billed) {
            return -1L;
          }
          limits.charged(who, charge);
          return charge;
        });
  }

  /**
   * Weighted sampling of {@code k} distinct items without replacement (Efraimidis–Spirakis: the k
   * largest keys u^(1/w)), w = 1/√(1 + battles the item was in); the picked order is shuffled so the
   * label says nothing about the weight.
   */
  static <T> List<T> sample(List<T> items, java.util.function.Function<T, String> name, Map<String, Long> seen, int k,
      java.util.Random random) {
    Map<T, Double> key = new HashMap<>();
    for (T item : items) {
      double w = 1 / Math.sqrt(1 + seen.getOrDefault(name.apply(item), 0L));
      key.put(item, Math.pow(random.nextDouble(), 1 / w));
    }
    List<T> sorted = new ArrayList<>(items);
    sorted.sort(Comparator.comparingDouble((T item) -> key.get(item)).reversed());
    List<T> picked = new ArrayList<>(sorted.subList(0, k));
    java.util.Collections.shuffle(picked, random);
    return picked;
  }

  private void vote(RoutingContext ctx) {
    JsonObject body = ScoringRoutes.body(ctx);
    boolean allBad = Boolean.TRUE.equals(body.getValue("all_bad"));
    Object rankingValue = body.getValue("ranking");
    if (!allBad && !(rankingValue instanceof JsonObject)) {
      throw ApiError.badRequest("field 'ranking': expected {\"A\": 1, \"B\": 2, ...} (ties allowed), or all_bad: true");
    }
    String id = ctx.pathParam("id");
    Principal who = Authentication.principal(ctx);
    String user = ScoringRoutes.user(who);
    scoring.arena().battle(id).compose(found -> {
      if (found.isEmpty() || !found.get().user().equals(user)) {
        return Future.failedFuture(ApiError.notFound("no battle '" + id + "'"));
      }
      var battle = found.get();
      Map<String, Integer> ranks = new HashMap<>();
      if (allBad) {
        battle.functions().values().forEach(f -> ranks.put(f, 1));
      } else {
        JsonObject ranking = (JsonObject) rankingValue;
        if (!ranking.fieldNames().equals(battle.functions().keySet())) {
          return Future.failedFuture(ApiError.badRequest("field 'ranking': expected a rank for each of "
              + battle.functions().keySet().stream().sorted().toList() + ", got " + ranking.fieldNames()));
        }
        for (String label : ranking.fieldNames()) {
          if (!(ranking.getValue(label) instanceof Integer r)) {
            return Future.failedFuture(ApiError.badRequest("field 'ranking." + label + "': expected an integer rank"));
          }
          ranks.put(battle.functions().get(label), r);
        }
      }
      try {
        new Ballot(ranks, allBad);
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(ApiError.badRequest("field 'ranking': " + e.getMessage()));
      }
      return scoring.arena().vote(id, user, ranks, allBad).map(v -> {
        scoring.changed(battle.category());
        JsonObject revealed = new JsonObject();
        battle.models().forEach(e -> revealed.put(e.getKey(), ((JsonObject) e.getValue()).copy()
            .put("rank", allBad ? null : ranks.get(((JsonObject) e.getValue()).getString("function")))));
        return new JsonObject().put("battle", id).put("all_bad", allBad).put("models", revealed);
      });
    }).onSuccess(r -> FunctionRoutes.json(ctx, 200, r)).onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }
}
