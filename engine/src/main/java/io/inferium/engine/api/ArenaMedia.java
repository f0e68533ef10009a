package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.completions.Completions;
import io.inferium.engine.completions.Digests;
import io.inferium.engine.mempool.Mempool;
import io.inferium.engine.mempool.QueuedRequest;
import io.inferium.engine.scoring.ScoringService;
import io.inferium.functions.CompletionEvent;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.MediaOptions;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Media battles: one image (for image classifiers) or one WAV clip (for audio classifiers), sent as
 * {@code {"image" | "audio": "<base64>", "top_k"}} in the battle's {@code input} or as a multipart upload (fields
 * {@code category}, {@code top_k}, one file), under the limits of {@code /predict}. Each side's file goes through the
 * mempool as a {@code /predict} call would, and shows its top-k labels with scores (3 decimals); every side shows the
 * same k (the caller's, default {@link #DEFAULT_TOP_K}, at most the side's classes), as a function's own top_k would
 * tell functions apart. Billed per image or audio minute like {@code /predict}, each side at its function's price,
 * revealed with the vote. The file itself is not stored with the battle, only its digest, size and type.
 */
final class ArenaMedia {

  static final int DEFAULT_TOP_K = 3;

  private final ArenaRoutes arena;
  private final ScoringService scoring;
  private final Vertx vertx;
  private final Mempool mempool;
  private final Limits limits;
  private final Completions completions;
  private final MediaUpload.Bounds bounds;

  ArenaMedia(ArenaRoutes arena, ScoringService scoring, Vertx vertx, Mempool mempool, Limits limits,
      Completions completions, MediaUpload.Bounds bounds) {
    this.arena = arena;
    this.scoring = scoring;
    this.vertx = vertx;
    this.mempool = mempool;
    this.limits = limits;
    this.completions = completions;
    this.bounds = bounds;
  }

  /** Whether a battle's JSON input is a media one. */
  static boolean isMedia(JsonObject input) {
    return input.containsKey("image") || input.containsKey("audio") || input.containsKey("images") || input.containsKey("clips");
  }

  /** A battle from JSON: {@code input} {"image" | "audio": base64, "top_k"}. */
  void battle(RoutingContext ctx, Principal who, String category, JsonObject input) {
    if (input.containsKey("images") || input.containsKey("clips")) {
      throw ApiError.badRequest("field 'input': a battle takes one file: 'image' or 'audio', not 'images' or 'clips'");
    }
    if (input.containsKey("image") && input.containsKey("audio")) {
      throw ApiError.badRequest("field 'input': give either 'image' or 'audio'");
    }
    boolean audio = input.containsKey("audio");
    limits.request(who);
    // A large base64 string is decoded off the event loop.
    String encoded = input.getValue(audio ? "audio" : "image") instanceof String s ? s : "";
    Future<MediaUpload> upload = encoded.length() <= (256 << 10) ? Future.succeededFuture(parse(input, audio))
        : vertx.executeBlocking(() -> parse(input, audio), false);
    upload.compose(u -> run(ctx, who, category, u, audio))
        .onSuccess(b -> FunctionRoutes.json(ctx, 201, b)).onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }

  /** A battle from a multipart upload: form fields {@code category} and {@code top_k}, one file part. */
  void multipart(RoutingContext ctx, Principal who) {
    String category = ctx.request().getFormAttribute("category");
    if (category == null || category.isBlank()) {
      throw ApiError.badRequest("field 'category': required (a form field beside the file)");
    }
    List<FileUpload> files = ctx.fileUploads();
    if (files.size() != 1) {
      throw ApiError.badRequest("a battle takes one file part (an image or a WAV clip), got " + files.size());
    }
    FileUpload file = files.get(0);
    if (file.size() > bounds.maxImageBytes()) {
      throw new ApiError(413, "file 0 has " + file.size() + " bytes, more than the limit of " + bounds.maxImageBytes()
          + " (max_image_bytes)");
    }
    String topK = ctx.request().getFormAttribute("top_k");
    limits.request(who);
    vertx.fileSystem().readFile(file.uploadedFileName()).compose(buf -> {
      byte[] bytes = buf.getBytes();
      boolean audio = bytes.length >= 4 && bytes[0] == 'R' && bytes[1] == 'I' && bytes[2] == 'F' && bytes[3] == 'F';
      MediaUpload parsed = MediaUpload.checked(List.of(bytes), topK(topK, "top_k"), bounds, audio ? MediaUpload.Media.AUDIO : MediaUpload.Media.IMAGE);
      return run(ctx, who, category, parsed, audio);
    }).onSuccess(b -> FunctionRoutes.json(ctx, 201, b)).onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }

  private MediaUpload parse(JsonObject input, boolean audio) {
    Integer k = topK(input.getValue("top_k"), "input.top_k");
    JsonObject files = input.copy();
    files.remove("top_k");
    MediaUpload u;
    try {
      u = MediaUpload.json(files, bounds, audio ? MediaUpload.Media.AUDIO : MediaUpload.Media.IMAGE);
    } catch (ApiError e) {
      throw new ApiError(e.status(), e.getMessage().replace("field '", "field 'input."), e.retryAfterSeconds());
    }
    return new MediaUpload(u.images(), k, u.audioMillis(), u.millis());
  }

  /** The battle's k: every side shows as many labels (at most its classes). */
  private static Integer topK(Object k, String field) {
    if (k == null) {
      return DEFAULT_TOP_K;
    }
    int max = 20;
    try {
      int v = Integer.parseInt(String.valueOf(k).trim());
      if (v >= 1 && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiError.badRequest("field '" + field + "': expected an integer in [1, " + max + "], got " + k);
  }

  private Future<JsonObject> run(RoutingContext ctx, Principal who, String category, MediaUpload upload, boolean audio) {
    long start = System.nanoTime();
    FunctionKind kind = audio ? FunctionKind.AUDIO : FunctionKind.IMAGE_CLASSIFIER;
    return limits.monthly(who).compose(v -> scoring.visible(category, who.tenantId(), who.isAdmin())).compose(all -> {
      // Audio functions without labels give per-frame features, not answers a voter can judge.
      List<FunctionRecord> fit = all.stream().filter(f -> f.spec().kind() == kind && f.spec().media() != null
          && !f.spec().labels().isEmpty()).toList();
      if (fit.size() < 2) {
        return Future.failedFuture(new ApiError(409, "category '" + category + "' has " + fit.size() + " ready "
            + (audio ? "audio classifiers" : "image classifiers") + "; a battle on " + (audio ? "a clip" : "an image")
            + " needs 2"));
      }
      return arena.draw(category, fit);
    }).compose(picked -> {
      arena.furtherRuns(who, picked.size());
      List<QueuedRequest> queued = new ArrayList<>();
      List<Future<Mempool.Outcome>> runs = new ArrayList<>();
      List<Tensor> inputs = new ArrayList<>();
      for (FunctionRecord f : picked) {
        MediaOptions media = f.spec().media();
        Tensor file = Tensors.byteArrays(media.input(f.signature()), new long[] {1}, upload.images());
        List<String> outputs = media.postprocess().output() == null ? List.of() : List.of(media.postprocess().output());
        QueuedRequest q = mempool.submit(null, f, List.of(file), outputs, ArenaRoutes.PRIORITY,
            start + TimeUnit.MILLISECONDS.toNanos(f.spec().timeoutMs()), null);
        queued.add(q);
        runs.add(q.future());
        inputs.add(file);
      }
      ctx.response().closeHandler(v -> queued.forEach(QueuedRequest::cancel));
      return Future.join(runs).transform(joined -> {
        ApiError failed = ArenaRoutes.firstFailure(runs);
        if (failed != null) {
          return Future.<JsonArray>failedFuture(failed);
        }
        // A side whose output is not one row of scores fails like a side whose worker failed: by its label.
        JsonArray sides = new JsonArray();
        for (int i = 0; i < picked.size(); i++) {
          try {
            sides.add(side(i, picked.get(i), upload, runs.get(i).result()));
          } catch (RuntimeException e) {
            return Future.<JsonArray>failedFuture(ArenaRoutes.concealed(ArenaRoutes.LABELS.get(i), e));
          }
        }
        return Future.succeededFuture(sides);
      }).compose(sides -> {
        String requestId = "arena-" + UUID.randomUUID();
        List<Future<Long>> bills = new ArrayList<>();
        for (int i = 0; i < picked.size(); i++) {
          bills.add(bill(who, requestId + "/" + ArenaRoutes.LABELS.get(i), picked.get(i), upload, inputs.get(i),
              runs.get(i).result(), start, audio));
        }
        return Future.all(bills).compose(done -> {
          JsonObject models = new JsonObject();
          boolean billed = true;
          for (int i = 0; i < picked.size(); i++) {
            billed &= bills.get(i).result() >= 0;
            models.put(ArenaRoutes.LABELS.get(i), new JsonObject().put("function", picked.get(i).name())
                .put("version", picked.get(i).version()).put("charge_micro_usd", Math.max(0, bills.get(i).result())));
          }
          ctx.response().putHeader("X-Inferium-Request-Id", requestId).putHeader(Billed.HEADER, Boolean.toString(billed));
          return arena.record(category, who, described(upload, audio), models).map(id -> new JsonObject().put("id", id)
              .put("category", category).put("kind", kind.wire()).put("models", sides));
        });
      });
    });
  }

  /** One side: its label and its top-k labels with scores, nothing else. */
  private static JsonObject side(int i, FunctionRecord f, MediaUpload upload, Mempool.Outcome outcome) {
    JsonObject body = new JsonObject();
    PredictRoutes.answer(f, upload, outcome.outputs(), body);
    JsonArray predictions = new JsonArray();
    for (Object o : body.getJsonArray("predictions").getJsonArray(0)) {
      JsonObject p = (JsonObject) o;
      Double score = p.getDouble("score");
      predictions.add(new JsonObject().put("label", p.getString("label"))
          .put("score", score == null ? null : Math.round(score * 1000) / 1000.0));
    }
    String label = ArenaRoutes.LABELS.get(i);
    return new JsonObject().put("id", label).put("label", "Model " + label).put("predictions", predictions);
  }

  /** What the battle stores as its input: the file's digest, size and type, not the file. */
  private static JsonObject described(MediaUpload upload, boolean audio) {
    byte[] file = upload.images().get(0);
    String sha;
    try {
      sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    JsonObject d = new JsonObject().put("sha256", sha).put("bytes", file.length).put("top_k", upload.topK());
    return new JsonObject().put(audio ? "audio" : "image", audio ? d.put("millis", upload.audioMillis()) : d);
  }

  /** One side's usage event (modality arena; units: 1 image, or the clip's seconds); the charge, or -1 when not billed. */
  private Future<Long> bill(Principal who, String id, FunctionRecord f, MediaUpload upload, Tensor input,
      Mempool.Outcome outcome, long start, boolean audio) {
    long charge = audio ? f.spec().price().chargeAudioMillis(upload.audioMillis()) : f.spec().price().chargeImages(1);
    long units = audio ? (upload.audioMillis() + 999) / 1000 : 1;
    long shareUs = V2Routes.share(outcome.computeMicros(), 1, outcome.batchRows());
    return completions.emit(CompletionEvent.builder(id, f).tenant(who.tenantId()).endpoint("arena", "arena")
            .worker(outcome.workerId()).verdict(outcome.verdict(), outcome.similarity())
            .charge(units, shareUs, charge)
            .timings(TimeUnit.NANOSECONDS.toMicros(outcome.queueNanos()), outcome.computeMicros(),
                TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start))
            .detail("batch_rows", outcome.batchRows()), Digests.tensors(List.of(input), outcome.outputs()))
        .map(billed -> {
          if (!billed) {
            return -1L;
          }
          limits.charged(who, charge);
          return charge;
        });
  }
}
