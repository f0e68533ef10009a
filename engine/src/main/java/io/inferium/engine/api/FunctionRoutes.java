package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.deploy.DeployPipeline;
import io.inferium.engine.deploy.VerificationProgress;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.functions.Bundle;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.ModelBlobs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The function store API under {@code /api/functions}: deploy, search, inspect, delete. */
final class FunctionRoutes {

  private final Vertx vertx;
  private final FunctionStore store;
  private final ModelBlobs blobs;
  private final DeployPipeline pipeline;
  private final Dispatcher dispatcher;
  private final Limits limits;
  private long maxUploadBytes = Long.MAX_VALUE;

  FunctionRoutes(Vertx vertx, FunctionStore store, ModelBlobs blobs, DeployPipeline pipeline, Dispatcher dispatcher,
      Limits limits) {
    this.limits = limits;
    this.vertx = vertx;
    this.store = store;
    this.blobs = blobs;
    this.pipeline = pipeline;
    this.dispatcher = dispatcher;
  }

  void mount(Router router, long maxUploadBytes, Path uploadsDir) {
    this.maxUploadBytes = maxUploadBytes;
    // A route of its own: Vert.x Web wants a body handler first on any route it is on.
    router.post("/api/functions").handler(this::admit);
    router.post("/api/functions")
        .handler(MultipartGuard.arm(vertx))
        .handler(LimitedBodyHandler.create(uploadsDir.toString()).setBodyLimit(maxUploadBytes).setDeleteUploadedFilesOnEnd(true))
        .handler(MultipartGuard.passed())
        .handler(this::deploy);
    router.get("/api/functions").handler(this::search);
    router.get("/api/functions/:name").handler(this::latest);
    router.get("/api/functions/:name/versions/:version").handler(this::oneVersion);
    router.get("/api/functions/:name/versions/:version/verification").handler(this::verification);
    router.delete("/api/functions/:name").handler(ctx -> delete(ctx, null));
    router.delete("/api/functions/:name/versions/:version").handler(ctx -> delete(ctx, version(ctx)));
  }

  /**
   * Everything that can refuse an upload without its body, checked synchronously before the body
   * handler reads a byte of it (an early answer closes the connection instead of draining the upload):
   * the role, the announced size, the tenant's share of the verification queue and its uploads in
   * flight. The storage quota needs the upload's real size and is checked after it.
   */
  private void admit(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    if (who.role() == Principal.Role.USER) {
      throw new ApiError(403, "a user key may not deploy functions; use a developer or admin key");
    }
    long length = contentLength(ctx);
    if (length > maxUploadBytes) {
      throw new ApiError(413, "upload too large: " + length + " bytes, the limit is " + maxUploadBytes);
    }
    int share = limits.pendingVerifications(who);
    int pending = pipeline.pending(who.tenantId());
    if (pending >= share) {
      throw limits.tooManyVerifications(who, pending);
    }
    ConnectionGuard.whenDone(ctx, limits.upload(who));
    ctx.next();
  }

  private static long contentLength(RoutingContext ctx) {
    String header = ctx.request().getHeader("Content-Length");
    if (header == null) {
      return -1;
    }
    try {
      return Long.parseLong(header.strip());
    } catch (NumberFormatException e) {
      throw ApiError.badRequest("header Content-Length: expected a byte count, got '" + header + "'");
    }
  }

  private void deploy(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    if (!ctx.request().headers().contains("Content-Type", "multipart/form-data", true)
        && !String.valueOf(ctx.request().getHeader("Content-Type")).startsWith("multipart/form-data")) {
      throw ApiError.badRequest("expected multipart/form-data with parts 'spec' (JSON) and 'model' (the .onnx file), got Content-Type "
          + ctx.request().getHeader("Content-Type"));
    }
    FileUpload model = ctx.fileUploads().stream().filter(f -> f.name().equals("model")).findFirst()
        .orElseThrow(() -> ApiError.badRequest("multipart part 'model' (the .onnx file) is missing"));
    specText(ctx)
        .map(text -> {
          try {
            FunctionSpec spec = FunctionSpec.fromJson(new JsonObject(text));
            // Before the text-part checks, so the answer names the policy rather than a missing tokenizer.
            spec.requireUsableVerification();
            return spec;
          } catch (io.vertx.core.json.DecodeException e) {
            throw ApiError.badRequest("part 'spec': malformed JSON: " + e.getMessage());
          }
        })
        .compose(spec -> similarityEmbedder(who, spec).map(spec))
        .compose(spec -> store.latest(spec.name()).compose(existing -> {
          if (existing.isPresent() && !who.mayManage(existing.get().owner())) {
            return Future.failedFuture(new ApiError(409, "the name '" + spec.name() + "' is taken by another tenant's function"));
          }
          Map<String, Path> bundle = textFiles(ctx, spec, model);
          long bytes = (bundle == null ? model.size() : ctx.fileUploads().stream().filter(f -> TEXT_PARTS.containsKey(f.name()))
              .mapToLong(FileUpload::size).sum()) + io.inferium.functions.ExampleInputs.storedBytes(spec.examples());
          int share = limits.pendingVerifications(who);
          return limits.storage(who, bytes).compose(release -> (bundle == null
              ? pipeline.deploy(spec, Path.of(model.uploadedFileName()), who.tenantId(), share)
              : pipeline.deployBundle(spec, bundle, who.tenantId(), share))
              .onComplete(ar -> release.run()));
        }))
        .recover(err -> Future.failedFuture(err instanceof io.inferium.engine.deploy.TooManyDeploys.OwnerShare o
            ? limits.tooManyVerifications(who, o.pending()) : err))
        .onSuccess(rec -> ctx.response().setStatusCode(202)
            .putHeader("Location", "/api/functions/" + rec.name() + "/versions/" + rec.version())
            .putHeader("Content-Type", "application/json")
            .end(rec.toJson().encode()))
        .onFailure(ctx::fail);
  }

  /** Multipart parts of a text function and the bundle file each becomes. */
  private static final Map<String, String> TEXT_PARTS = Map.of("model", Bundle.MODEL, "tokenizer", Bundle.TOKENIZER,
      "tokenizer_config", "tokenizer_config.json", "generation_config", "generation_config.json");

  /** A text function's files by bundle name, or null for other kinds; its tokenizer part is required. */
  private static Map<String, Path> textFiles(RoutingContext ctx, FunctionSpec spec, FileUpload model) {
    if (spec.kind() != FunctionKind.TEXT_GENERATION && spec.kind() != FunctionKind.EMBEDDING) {
      return null;
    }
    Map<String, Path> files = new java.util.TreeMap<>();
    for (FileUpload f : ctx.fileUploads()) {
      String name = TEXT_PARTS.get(f.name());
      if (name != null) {
        files.put(name, Path.of(f.uploadedFileName()));
      }
    }
    if (!files.containsKey(Bundle.TOKENIZER)) {
      throw ApiError.badRequest("a " + spec.kind().wire() + " function needs multipart part 'tokenizer' (its Hugging Face "
          + "tokenizer.json); optional parts: 'tokenizer_config', 'generation_config'");
    }
    return files;
  }

  /** The spec arrives as a form field or, from {@code curl -F spec=@spec.json}, as a file part. */
  private Future<String> specText(RoutingContext ctx) {
    String field = ctx.request().getFormAttribute("spec");
    if (field != null) {
      return Future.succeededFuture(field);
    }
    return ctx.fileUploads().stream().filter(f -> f.name().equals("spec")).findFirst()
        .map(f -> vertx.fileSystem().readFile(f.uploadedFileName()).map(b -> b.toString()))
        .orElseGet(() -> Future.failedFuture(ApiError.badRequest("multipart part 'spec' (JSON) is missing")));
  }

  private void search(RoutingContext ctx) {
    String kind = ctx.queryParams().get("kind");
    if (kind != null && FunctionKind.fromWire(kind).isEmpty()) {
      throw ApiError.badRequest("query parameter 'kind': expected one of " + FunctionKind.accepted() + ", got '" + kind + "'");
    }
    String mine = ctx.queryParams().get("mine");
    if (mine != null && !mine.equals("true") && !mine.equals("false")) {
      throw ApiError.badRequest("query parameter 'mine': expected true | false, got '" + mine + "'");
    }
    Principal who = Authentication.principal(ctx);
    store.search(ctx.queryParams().get("q"), kind, ctx.queryParams().get("category"), who.tenantId(), who.isAdmin(),
            "true".equals(mine))
        .onSuccess(list -> json(ctx, 200, new JsonObject()
            .put("functions", new JsonArray(list.stream().map(FunctionRoutes::listed).toList()))))
        .onFailure(ctx::fail);
  }

  /** A version as a search lists it: its examples (up to 256 KiB of JSON) only on the function's own page. */
  private static JsonObject listed(FunctionRecord rec) {
    JsonObject o = rec.toJson();
    o.remove("examples");
    return o;
  }

  private void latest(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    store.versions(name)
        .onSuccess(found -> {
          List<FunctionRecord> versions = found.stream().filter(v -> visible(ctx, v)).toList();
          if (versions.isEmpty()) {
            ctx.fail(ApiError.notFound("no function named '" + name + "'"));
            return;
          }
          JsonArray all = new JsonArray(versions.stream()
              .map(v -> new JsonObject().put("version", v.version()).put("state", v.state().wire())).toList());
          json(ctx, 200, versions.get(0).toJson().put("versions", all));
        })
        .onFailure(ctx::fail);
  }

  private void oneVersion(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    int v = version(ctx);
    store.version(name, v)
        .onSuccess(rec -> rec.filter(r -> visible(ctx, r)).ifPresentOrElse(r -> json(ctx, 200, r.toJson()),
            () -> ctx.fail(ApiError.notFound("function '" + name + "' has no version " + v))))
        .onFailure(ctx::fail);
  }

  /**
   * A version's verification as it runs: the step it is at, each step done, running or pending, the checks finished
   * so far; once it is over, its state, reason and the stored report's checks. What the console's deploy page polls.
   */
  private void verification(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    int v = version(ctx);
    store.version(name, v).onSuccess(found -> {
      FunctionRecord rec = found.filter(r -> visible(ctx, r)).orElse(null);
      if (rec == null) {
        ctx.fail(ApiError.notFound("function '" + name + "' has no version " + v));
        return;
      }
      JsonObject out;
      if (rec.state() == FunctionState.VERIFYING) {
        // Not in this gateway's pipeline (yet, or any more): waiting for its turn, or its report is being stored.
        out = pipeline.progress(name, v).map(VerificationProgress::toJson)
            .orElseGet(() -> new VerificationProgress().toJson().put("elapsed_ms", 0));
      } else {
        JsonObject report = rec.report() == null ? new JsonObject() : rec.report();
        out = new JsonObject().put("state", rec.state().wire()).put("step", "done")
            .put("steps", VerificationProgress.finished(rec.state() == FunctionState.READY, report.getString("stopped_at")))
            .put("checks", report.getJsonArray("checks", new JsonArray()))
            .put("state_reason", rec.stateReason());
      }
      json(ctx, 200, out.put("name", name).put("version", v));
    }).onFailure(ctx::fail);
  }

  private void delete(RoutingContext ctx, Integer version) {
    Principal who = Authentication.principal(ctx);
    if (who.role() == Principal.Role.USER) {
      throw new ApiError(403, "a user key may not delete functions");
    }
    String name = ctx.pathParam("name");
    String missing = version == null ? "no function named '" + name + "'" : "function '" + name + "' has no version " + version;
    store.versions(name)
        .compose(all -> {
          List<FunctionRecord> targets = all.stream().filter(v -> version == null || v.version() == version).toList();
          if (targets.isEmpty() || targets.stream().noneMatch(v -> visible(ctx, v))) {
            return Future.failedFuture(ApiError.notFound(missing));
          }
          if (!targets.stream().allMatch(v -> who.mayManage(v.owner()))) {
            return Future.failedFuture(new ApiError(403, "function '" + name + "' belongs to another tenant"));
          }
          return store.delete(name, version);
        })
        .compose(deleted -> {
          if (deleted.versions() == 0) {
            return Future.failedFuture(ApiError.notFound(missing));
          }
          List<Future<Void>> cleanup = deleted.orphanedModels().stream()
              .map(sha -> dispatcher.unloadEverywhere(sha).compose(v -> blobs.remove(sha)))
              .toList();
          return Future.join(cleanup).otherwiseEmpty().map(deleted);
        })
        .onSuccess(deleted -> json(ctx, 200, new JsonObject().put("name", name)
            .put("versions_deleted", deleted.versions())
            .put("models_removed", deleted.orphanedModels().size())))
        .onFailure(ctx::fail);
  }

  /**
   * A similarity embedder named by a spec must be a ready embedding function the deploying tenant may call (400
   * naming the field otherwise; another tenant's private function reads as missing). Checked again at each call.
   */
  private Future<Void> similarityEmbedder(Principal who, FunctionSpec spec) {
    FunctionSpec.SemanticCheck check = spec.verification().similarity();
    if (check == null) {
      return Future.succeededFuture();
    }
    return store.latestReady(check.function()).compose(found -> {
      FunctionRecord embedder = found.filter(f -> who.maySee(f.owner(), f.spec().visibility() == FunctionSpec.Visibility.PUBLIC))
          .orElse(null);
      if (embedder == null) {
        return Future.failedFuture(ApiError.badRequest("field 'verification.similarity.function': there is no ready "
            + "function '" + check.function() + "' you may call; deploy the embedding function first"));
      }
      if (embedder.spec().kind() != io.inferium.functions.FunctionKind.EMBEDDING) {
        return Future.failedFuture(ApiError.badRequest("field 'verification.similarity.function': '" + check.function()
            + "' is a " + embedder.spec().kind().wire() + " function; texts are compared by an embedding function"));
      }
      return Future.succeededFuture();
    });
  }

  /** Whether the caller may see this version; another tenant's private function is simply not there. */
  static boolean visible(RoutingContext ctx, FunctionRecord fn) {
    return Authentication.principal(ctx).maySee(fn.owner(), fn.spec().visibility() == FunctionSpec.Visibility.PUBLIC);
  }

  static int version(RoutingContext ctx) {
    String text = ctx.pathParam("version");
    try {
      int v = Integer.parseInt(text);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ApiError.badRequest("path segment 'version': expected a positive integer, got '" + text + "'");
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
