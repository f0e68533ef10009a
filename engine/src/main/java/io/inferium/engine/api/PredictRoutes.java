package io.inferium.engine.api;

import io.inferium.engine.completions.Completions;
import io.inferium.engine.completions.Digests;
import io.inferium.engine.mempool.Mempool;
import io.inferium.engine.mempool.QueuedRequest;
import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.functions.CompletionEvent;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.MediaOptions;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /api/functions/{name}/predict}: media in, labels or embeddings out. The images (or audio clips)
 * travel as one BYTES tensor (an element per file, named after the model input) through the mempool like any
 * tensor request, so they batch with other callers' files; a worker decodes and pre-processes them
 * ({@code io.inferium.functions.media}) and runs the model; the gateway turns the output into labels
 * (softmax, top-k) or embeddings; a video's per-frame outputs become labels per frame and pooled
 * ({@link VideoAnswer}). Billed per image ({@code modality} {@code image}), per audio minute ({@code audio}, units:
 * seconds) or per video minute ({@code video}, units: seconds).
 */
final class PredictRoutes {

  private final Vertx vertx;
  private final V2Routes v2;
  private final Mempool mempool;
  private final EngineMetrics metrics;
  private final Limits limits;
  private final Completions completions;
  private final MediaUpload.Bounds bounds;
  private long maxRequestBytes;

  PredictRoutes(Vertx vertx, V2Routes v2, Mempool mempool, EngineMetrics metrics, Limits limits, Completions completions,
      MediaUpload.Bounds bounds) {
    this.vertx = vertx;
    this.v2 = v2;
    this.mempool = mempool;
    this.metrics = metrics;
    this.limits = limits;
    this.completions = completions;
    this.bounds = bounds;
  }

  void mount(Router router, long maxRequestBytes, Path uploadsDir) {
    this.maxRequestBytes = maxRequestBytes;
    router.post("/api/functions/:name/predict").handler(this::admit);
    router.post("/api/functions/:name/predict")
        .handler(MultipartGuard.arm(vertx))
        .handler(LimitedBodyHandler.create(uploadsDir.toString()).setBodyLimit(maxRequestBytes).setDeleteUploadedFilesOnEnd(true))
        .handler(MultipartGuard.passed())
        .handler(this::predict);
  }

  /** What refuses a request before its body is read: rate, media type, announced size. */
  private void admit(RoutingContext ctx) {
    limits.request(Authentication.principal(ctx));
    MediaUpload.admit(ctx.request().getHeader("Content-Type"));
    String length = ctx.request().getHeader("Content-Length");
    if (length != null) {
      try {
        long n = Long.parseLong(length.strip());
        if (n > maxRequestBytes) {
          throw new ApiError(413, "request body of " + n + " bytes, more than the limit of " + maxRequestBytes);
        }
      } catch (NumberFormatException e) {
        throw ApiError.badRequest("header Content-Length: expected a byte count, got '" + length + "'");
      }
    }
    ctx.next();
  }

  private void predict(RoutingContext ctx) {
    long start = System.nanoTime();
    String name = ctx.pathParam("name");
    String[] routed = {null};
    limits.monthly(Authentication.principal(ctx))
        .compose(x -> v2.resolve(ctx, name, null))
        .compose(fn -> {
          routed[0] = fn.name();
          return V2Routes.requireReady(fn);
        })
        .compose(fn -> {
          if (fn.spec().media() == null) {
            return Future.failedFuture(new ApiError(400, "function '" + fn.name() + "' is a " + fn.spec().kind().wire()
                + " function: predict takes media for image, audio and video functions; call /v2/models/" + fn.name()
                + "/infer with tensors"));
          }
          return MediaUpload.read(ctx, vertx, bounds, media(fn.spec().kind()))
              .compose(upload -> limits.media(Authentication.principal(ctx), fn.spec().kind(), upload.images().size(),
                  upload.audioMillis()).map(upload))
              .compose(upload -> run(ctx, fn, upload, start));
        })
        .onSuccess(v -> metrics.request(routed[0], 200, System.nanoTime() - start))
        .onFailure(err -> {
          if (routed[0] != null) {
            metrics.request(routed[0], Failures.classify(err, ctx).status(), System.nanoTime() - start);
          }
          ctx.fail(err);
        });
  }

  private Future<Void> run(RoutingContext ctx, FunctionRecord fn, MediaUpload upload, long start) {
    MediaOptions media = fn.spec().media();
    int n = upload.images().size();
    Tensor images = Tensors.byteArrays(media.input(fn.signature()), new long[] {n}, upload.images());
    List<String> outputs = media.postprocess().output() == null ? List.of() : List.of(media.postprocess().output());
    QueuedRequest queued = mempool.submit(null, fn, List.of(images), outputs, 5,
        start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs()), null);
    ctx.response().closeHandler(v -> queued.cancel());
    return queued.future().compose(outcome -> {
      JsonObject body = new JsonObject().put("model_name", fn.name()).put("model_version", Integer.toString(fn.version()));
      FunctionKind kind = fn.spec().kind();
      boolean audio = kind == FunctionKind.AUDIO;
      boolean video = kind == FunctionKind.VIDEO;
      long videoMillis = video ? VideoAnswer.answer(fn, upload, outcome.outputs(), body) : 0;
      if (!video) {
        answer(fn, upload, outcome.outputs(), body);
      }
      String usageId = UUID.randomUUID().toString();
      // Images are billed each; audio and video by duration (units: seconds, rounded up; charge per minute, rounded up).
      long charge = audio ? fn.spec().price().chargeAudioMillis(upload.audioMillis())
          : video ? fn.spec().price().chargeVideoMillis(videoMillis) : fn.spec().price().chargeImages(n);
      long units = audio ? (upload.audioMillis() + 999) / 1000 : video ? (videoMillis + 999) / 1000 : n;
      long shareUs = V2Routes.share(outcome.computeMicros(), n, outcome.batchRows());
      Future<Boolean> billed = completions.emit(CompletionEvent.builder(usageId, fn)
          .tenant(Authentication.principal(ctx).tenantId())
          .endpoint("predict", audio ? "audio" : video ? "video" : "image")
          .worker(outcome.workerId())
          .verdict(outcome.verdict(), outcome.similarity())
          .charge(units, shareUs, charge)
          .timings(TimeUnit.NANOSECONDS.toMicros(outcome.queueNanos()), outcome.computeMicros(),
              TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start))
          .detail("batch_rows", outcome.batchRows()), Digests.tensors(List.of(images), outcome.outputs()));
      return billed.map(b -> {
        if (b) {
          limits.charged(Authentication.principal(ctx), charge);
        }
        V2Routes.answerHeaders(ctx, usageId, b ? charge : 0, b, outcome);
        FunctionRoutes.json(ctx, 200, body);
        return null;
      });
    });
  }

  private static MediaUpload.Media media(FunctionKind kind) {
    return kind == FunctionKind.AUDIO ? MediaUpload.Media.AUDIO : kind == FunctionKind.VIDEO ? MediaUpload.Media.VIDEO
        : MediaUpload.Media.IMAGE;
  }

  /** Puts the answer for {@code fn}'s kind into {@code body}: labels, embeddings, or the raw outputs. */
  static void answer(FunctionRecord fn, MediaUpload upload, List<Tensor> outputs, JsonObject body) {
    MediaOptions.Postprocess post = fn.spec().media().postprocess();
    FunctionKind kind = fn.spec().kind();
    if (kind == FunctionKind.IMAGE || (kind == FunctionKind.AUDIO && fn.spec().labels().isEmpty())) {
      body.put("outputs", new JsonArray(outputs.stream().map(V2Json::encodeOutput).toList()));
      return;
    }
    Tensor out = outputs.get(0);
    int n = upload.images().size();
    if (out.shape().length == 0 || out.shape()[0] != n || !out.type().isFixedWidth()) {
      throw new ApiError(502, "output '" + out.name() + "' is " + out.type() + Arrays.toString(out.shape())
          + ": expected one numeric row per image (" + n + ")");
    }
    double[] all = Tensors.toDoubleArray(out);
    int width = all.length / n;
    JsonArray rows = new JsonArray();
    for (int i = 0; i < n; i++) {
      double[] row = Arrays.copyOfRange(all, i * width, (i + 1) * width);
      if (kind == FunctionKind.IMAGE_EMBEDDING) {
        rows.add(embedding(row, post.normalize()));
      } else {
        rows.add(labels(row, fn.spec().labels(), post.softmax(),
            Math.min(width, upload.topK() != null ? upload.topK() : post.topK())));
      }
    }
    body.put(kind == FunctionKind.IMAGE_EMBEDDING ? "embeddings" : "predictions", rows);
  }

  static JsonArray labels(double[] scores, List<String> labels, boolean softmax, int topK) {
    double[] s = softmax ? io.inferium.functions.VideoScores.softmax(scores) : scores;
    Integer[] order = new Integer[s.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -s[i]).thenComparingInt(i -> i));
    JsonArray out = new JsonArray();
    for (int r = 0; r < topK; r++) {
      int i = order[r];
      out.add(new JsonObject().put("label", i < labels.size() ? labels.get(i) : Integer.toString(i)).put("index", i)
          .put("score", finite(s[i])));
    }
    return out;
  }

  private static JsonArray embedding(double[] row, boolean normalize) {
    double norm = 0;
    for (double v : row) {
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    JsonArray out = new JsonArray(new ArrayList<>(row.length));
    for (double v : row) {
      out.add(finite(normalize && norm > 0 ? v / norm : v));
    }
    return out;
  }

  /** JSON has no NaN or Infinity: a model that emits them answers null there. */
  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
