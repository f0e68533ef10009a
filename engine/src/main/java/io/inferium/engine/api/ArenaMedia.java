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
import io.inferium.functions.FunctionSpec;
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
 * Media battles: one image (for image classifiers), one WAV clip (for audio classifiers) or one MP4 video (for video
 * functions with labels), sent as {@code {"image" | "audio" | "video": "<base64>", "top_k"}} in the battle's
 * {@code input} or as a multipart upload (fields {@code category}, {@code top_k}, one file), under the limits of
 * {@code /predict}: its header bounds and the caller's tier limits per modality, for each side as for a call. Each
 * side's file goes through the mempool as a {@code /predict} call would, and shows its top-k labels with scores (3
 * decimals; a video's pooled over its sampled frames); every side shows the same k (the caller's, default
 * {@link #DEFAULT_TOP_K}, at most the side's classes), as a function's own top_k would tell functions apart, and a
 * video side shows no per-frame answers, whose times would tell each function's sampling rate. Billed per image,
 * audio minute or video minute like {@code /predict}, each side at its function's price, revealed with the vote. The
 * file itself is not stored with the battle, only its digest, size and type.
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
    return java.util.Arrays.stream(MediaUpload.Media.values())
        .anyMatch(m -> input.containsKey(m.one) || input.containsKey(m.many));
  }

  /** A battle from JSON: {@code input} {"image" | "audio" | "video": base64, "top_k"}. */
  void battle(RoutingContext ctx, Principal who, String category, JsonObject input) {
    for (MediaUpload.Media m : MediaUpload.Media.values()) {
      if (input.containsKey(m.many)) {
        throw ApiError.badRequest("field 'input': a battle takes one file: 'image', 'audio' or 'video', not '" + m.many + "'");
      }
    }
    List<MediaUpload.Media> given = java.util.Arrays.stream(MediaUpload.Media.values())
        .filter(m -> input.containsKey(m.one)).toList();
    if (given.size() != 1) {
      throw ApiError.badRequest("field 'input': give one of 'image', 'audio' or 'video'");
    }
    MediaUpload.Media media = given.get(0);
    limits.request(who);
    // A large base64 string is decoded off the event loop.
    String encoded = input.getValue(media.one) instanceof String s ? s : "";
    Future<MediaUpload> upload = encoded.length() <= (256 << 10) ? Future.succeededFuture(parse(input, media))
        : vertx.executeBlocking(() -> parse(input, media), false);
    upload.compose(u -> run(ctx, who, category, u, media))
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
      throw ApiError.badRequest("a battle takes one file part (an image, a WAV clip or an MP4 video), got " + files.size());
    }
    FileUpload file = files.get(0);
    // Videos have their own byte bound (max_video_bytes); which one applies is known once the first bytes are read.
    long most = Math.max(bounds.maxImageBytes(), bounds.maxVideoBytes());
    if (file.size() > most) {
      throw new ApiError(413, "file 0 has " + file.size() + " bytes, more than the limit of " + most
          + (most == bounds.maxVideoBytes() ? " (max_video_bytes)" : " (max_image_bytes)"));
    }
    String topK = ctx.request().getFormAttribute("top_k");
    limits.request(who);
    vertx.fileSystem().readFile(file.uploadedFileName()).compose(buf -> {
      byte[] bytes = buf.getBytes();
      MediaUpload.Media media = sniff(bytes, file.contentType());
      MediaUpload parsed = MediaUpload.checked(List.of(bytes), topK(topK, "top_k"), bounds, media);
      return run(ctx, who, category, parsed, media);
    }).onSuccess(b -> FunctionRoutes.json(ctx, 201, b)).onFailure(err -> ctx.fail(ScoringRoutes.api(err)));
  }

  /**
   * Which media an uploaded file is, by its first bytes: PNG, JPEG and WebP are images, a RIFF file is a clip (an AVI a
   * video), an ISO BMFF box at the start (or WebM's magic) a video; anything else by the part's declared type
   * ({@code audio/*}, {@code video/*}), else an image, so the header check that refuses it names what was expected.
   */
  static MediaUpload.Media sniff(byte[] b, String declared) {
    if (b.length >= 4 && ((b[0] & 0xff) == 0x89 && MediaBytes.tag(b, 1, "PNG")
        || (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff)) {
      return MediaUpload.Media.IMAGE;
    }
    if (b.length >= 12 && MediaBytes.tag(b, 0, "RIFF") && MediaBytes.tag(b, 8, "WEBP")) {
      return MediaUpload.Media.IMAGE;
    }
    if (b.length >= 4 && MediaBytes.tag(b, 0, "RIFF") && !(b.length >= 12 && MediaBytes.tag(b, 8, "AVI "))) {
      return MediaUpload.Media.AUDIO;
    }
    if (b.length >= 12 && MediaBytes.tag(b, 0, "RIFF")) {
      return MediaUpload.Media.VIDEO;
    }
    if (b.length >= 4 && (b[0] & 0xff) == 0x1a && (b[1] & 0xff) == 0x45 && (b[2] & 0xff) == 0xdf && (b[3] & 0xff) == 0xa3) {
      return MediaUpload.Media.VIDEO;
    }
    if (b.length >= 8) {
      for (String box : List.of("ftyp", "moov", "mdat", "free", "wide", "skip")) {
        if (MediaBytes.tag(b, 4, box)) {
          return MediaUpload.Media.VIDEO;
        }
      }
    }
    String type = declared == null ? "" : declared.toLowerCase(java.util.Locale.ROOT);
    return type.startsWith("video/") ? MediaUpload.Media.VIDEO : type.startsWith("audio/") ? MediaUpload.Media.AUDIO
        : MediaUpload.Media.IMAGE;
  }

  private MediaUpload parse(JsonObject input, MediaUpload.Media media) {
    Integer k = topK(input.getValue("top_k"), "input.top_k");
    JsonObject files = input.copy();
    files.remove("top_k");
    MediaUpload u;
    try {
      u = MediaUpload.json(files, bounds, media);
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

  private static FunctionKind kind(MediaUpload.Media media) {
    return switch (media) {
      case IMAGE -> FunctionKind.IMAGE_CLASSIFIER;
      case AUDIO -> FunctionKind.AUDIO;
      case VIDEO -> FunctionKind.VIDEO;
    };
  }

  private static String plural(MediaUpload.Media media) {
    return switch (media) {
      case IMAGE -> "image classifiers";
      case AUDIO -> "audio classifiers";
      case VIDEO -> "video functions with labels";
    };
  }

  private Future<JsonObject> run(RoutingContext ctx, Principal who, String category, MediaUpload upload,
      MediaUpload.Media media) {
    long start = System.nanoTime();
    FunctionKind kind = kind(media);
    return limits.monthly(who).compose(v -> scoring.visible(category, who.tenantId(), who.isAdmin())).compose(all -> {
      // Audio and video functions without labels give features, not answers a voter can judge.
      List<FunctionRecord> fit = all.stream().filter(f -> f.spec().kind() == kind && f.spec().media() != null
          && !f.spec().labels().isEmpty()).toList();
      if (fit.size() < 2) {
        return Future.failedFuture(new ApiError(409, "category '" + category + "' has " + fit.size() + " ready "
            + plural(media) + "; a battle on " + (media == MediaUpload.Media.IMAGE ? "an " : "a ") + media.noun
            + " needs 2"));
      }
      return arena.draw(category, fit);
    }).compose(picked -> {
      arena.furtherRuns(who, picked.size());
      // Each side is a call: the tier's limits per modality (images a minute, media seconds a minute and a request)
      // count the file once per side, before anything runs.
      Future<Void> counted = Future.succeededFuture();
      for (int i = 0; i < picked.size(); i++) {
        counted = counted.compose(v -> limits.media(who, kind, upload.images().size(), upload.audioMillis()));
      }
      return counted.map(picked);
    }).compose(picked -> {
      List<QueuedRequest> queued = new ArrayList<>();
      List<Future<Mempool.Outcome>> runs = new ArrayList<>();
      List<Tensor> inputs = new ArrayList<>();
      for (FunctionRecord f : picked) {
        MediaOptions options = f.spec().media();
        Tensor file = Tensors.byteArrays(options.input(f.signature()), new long[] {1}, upload.images());
        List<String> outputs = options.postprocess().output() == null ? List.of() : List.of(options.postprocess().output());
        QueuedRequest q = mempool.submit(null, f, List.of(file), outputs, ArenaRoutes.PRIORITY,
            start + TimeUnit.MILLISECONDS.toNanos(f.spec().timeoutMs()), null);
        queued.add(q);
        runs.add(q.future());
        inputs.add(file);
      }
      ctx.response().closeHandler(v -> queued.forEach(QueuedRequest::cancel));
      long[] millis = new long[picked.size()];
      return Future.join(runs).transform(joined -> {
        ApiError failed = ArenaRoutes.firstFailure(runs);
        if (failed != null) {
          return Future.<JsonArray>failedFuture(failed);
        }
        // A side whose output is not one row of scores fails like a side whose worker failed: by its label.
        JsonArray sides = new JsonArray();
        for (int i = 0; i < picked.size(); i++) {
          try {
            JsonObject body = new JsonObject();
            if (media == MediaUpload.Media.VIDEO) {
              millis[i] = VideoAnswer.answer(picked.get(i), upload, runs.get(i).result().outputs(), body);
            } else {
              PredictRoutes.answer(picked.get(i), upload, runs.get(i).result().outputs(), body);
              millis[i] = upload.audioMillis();
            }
            sides.add(side(i, body));
          } catch (RuntimeException e) {
            return Future.<JsonArray>failedFuture(ArenaRoutes.concealed(ArenaRoutes.LABELS.get(i), e));
          }
        }
        return Future.succeededFuture(sides);
      }).compose(sides -> {
        String requestId = "arena-" + UUID.randomUUID();
        List<Future<Long>> bills = new ArrayList<>();
        for (int i = 0; i < picked.size(); i++) {
          bills.add(bill(who, requestId + "/" + ArenaRoutes.LABELS.get(i), picked.get(i), millis[i], inputs.get(i),
              runs.get(i).result(), start, media));
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
          // A video may be 32 MiB: its digest is taken off the event loop.
          Future<JsonObject> input = upload.images().get(0).length <= (1 << 20)
              ? Future.succeededFuture(described(upload, media)) : vertx.executeBlocking(() -> described(upload, media), false);
          return input.compose(d -> arena.record(category, who, d, models)).map(id -> new JsonObject().put("id", id)
              .put("category", category).put("kind", kind.wire()).put("models", sides));
        });
      });
    });
  }

  /** One side from its {@code /predict} answer: its label and its (pooled) top-k labels with scores, nothing else. */
  private static JsonObject side(int i, JsonObject body) {
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

  /** What the battle stores as its input: the file's digest, size and type (a clip's or video's duration), not the file. */
  private static JsonObject described(MediaUpload upload, MediaUpload.Media media) {
    byte[] file = upload.images().get(0);
    String sha;
    try {
      sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    JsonObject d = new JsonObject().put("sha256", sha).put("bytes", file.length).put("top_k", upload.topK());
    return new JsonObject().put(media.one, media == MediaUpload.Media.IMAGE ? d : d.put("millis", upload.audioMillis()));
  }

  /**
   * One side's usage event (modality arena; units: 1 image, or the clip's or video's seconds as {@code /predict}
   * counts them: {@code millis}); the charge, or -1 when not billed.
   */
  private Future<Long> bill(Principal who, String id, FunctionRecord f, long millis, Tensor input,
      Mempool.Outcome outcome, long start, MediaUpload.Media media) {
    FunctionSpec.Price price = f.spec().price();
    long charge = switch (media) {
      case IMAGE -> price.chargeImages(1);
      case AUDIO -> price.chargeAudioMillis(millis);
      case VIDEO -> price.chargeVideoMillis(millis);
    };
    long units = media == MediaUpload.Media.IMAGE ? 1 : (millis + 999) / 1000;
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
