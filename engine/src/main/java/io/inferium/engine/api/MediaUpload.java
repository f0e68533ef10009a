package io.inferium.engine.api;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * The images, audio clips or videos of a {@code predict} request, in any of its three forms: a binary body with its
 * media type ({@code image/png}, {@code image/jpeg}, {@code image/webp}, {@code audio/wav}, {@code video/mp4}), JSON with base64
 * ({@code {"image": "..."}} or {@code {"images": [...]}}; for audio {@code "audio"} or {@code "clips"}; for video
 * {@code "video"} or {@code "videos"}; data URLs accepted), or a multipart upload (every file part, in order). Only
 * bounds are checked here — count, bytes, format, and the pixels ({@link ImageHeader}, {@link Mp4Header}) or duration
 * ({@link WavHeader}, {@link Mp4Header}) the header declares — the files are decoded by a worker.
 *
 * @param images      the encoded files (images, WAV clips or MP4 videos)
 * @param topK        a top_k the caller asked for, or null
 * @param audioMillis audio and video: the files' total duration as their headers declare it
 * @param millis      video: each video's declared duration
 */
record MediaUpload(List<byte[]> images, Integer topK, long audioMillis, long[] millis) {

  /** What a function takes. */
  enum Media {
    IMAGE("image", "images", "image"), AUDIO("audio", "clips", "clip"), VIDEO("video", "videos", "video");

    final String one;
    final String many;
    final String noun;

    Media(String one, String many, String noun) {
      this.one = one;
      this.many = many;
      this.noun = noun;
    }
  }

  /** Bounds on what one request may carry. */
  record Bounds(int maxImages, long maxImageBytes, long maxPixels, long maxSeconds, int maxVideos, long maxVideoBytes,
      long maxVideoSeconds) {
    static final Bounds DEFAULT = new Bounds(64, 16L << 20, io.inferium.functions.ImagePreprocess.MAX_SOURCE_PIXELS,
        io.inferium.functions.AudioPreprocess.MAX_SOURCE_SECONDS, 4, 32L << 20,
        io.inferium.functions.VideoPreprocess.MAX_SOURCE_SECONDS);

    int maxFiles(Media media) {
      return media == Media.VIDEO ? maxVideos : maxImages;
    }

    long maxBytes(Media media) {
      return media == Media.VIDEO ? maxVideoBytes : maxImageBytes;
    }
  }

  private static final List<String> IMAGE_TYPES = List.of("image/png", "image/jpeg", "image/webp");

  private static final List<String> MP4_TYPES = List.of("video/mp4", "application/mp4");

  private static final List<String> WAV_TYPES = List.of("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave");

  /** Bodies above this are parsed (JSON, base64) on a worker thread instead of the event loop. */
  private static final int INLINE_PARSE_BYTES = 256 << 10;

  /** Refuses a request by its media type before its body is read: 415 naming what is served. */
  static void admit(String contentType) {
    String type = mediaType(contentType);
    if (IMAGE_TYPES.contains(type) || type.equals("application/json")
        || type.equals("multipart/form-data") || WAV_TYPES.contains(type) || MP4_TYPES.contains(type)) {
      return;
    }
    throw new ApiError(415, "Content-Type " + (type.isEmpty() ? "(none)" : type) + " is not supported: send "
        + ImageHeader.SUPPORTED + ", " + WavHeader.SUPPORTED + " or " + Mp4Header.SUPPORTED + " as the body, JSON "
        + "{\"image\": \"<base64>\"} (audio: {\"audio\": \"<base64>\"}, video: {\"video\": \"<base64>\"}), or "
        + "multipart/form-data with the files");
  }

  private static String supported(Media media) {
    return switch (media) {
      case IMAGE -> ImageHeader.SUPPORTED;
      case AUDIO -> WavHeader.SUPPORTED;
      case VIDEO -> Mp4Header.SUPPORTED;
    };
  }

  private static Media bodyMedia(String type) {
    return WAV_TYPES.contains(type) ? Media.AUDIO : MP4_TYPES.contains(type) ? Media.VIDEO : Media.IMAGE;
  }

  static Future<MediaUpload> read(RoutingContext ctx, Vertx vertx, Bounds bounds, Media media) {
    String type = mediaType(ctx.request().getHeader("Content-Type"));
    if (type.equals("multipart/form-data")) {
      List<FileUpload> files = ctx.fileUploads();
      if (files.isEmpty()) {
        return Future.failedFuture(ApiError.badRequest("multipart body has no file part: attach the " + media.noun
            + " as a file"));
      }
      if (files.size() > bounds.maxFiles(media)) {
        return Future.failedFuture(tooMany(files.size(), bounds, media));
      }
      for (FileUpload f : files) {
        if (f.size() > bounds.maxBytes(media)) {
          return Future.failedFuture(tooBig(files.indexOf(f), f.size(), bounds, media));
        }
      }
      Integer topK = topK(ctx.request().getFormAttribute("top_k"));
      List<Future<Buffer>> reads = files.stream().map(f -> vertx.fileSystem().readFile(f.uploadedFileName())).toList();
      return Future.all(reads).map(all -> checked(reads.stream().map(r -> r.result().getBytes()).toList(), topK, bounds, media));
    }
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      return Future.failedFuture(ApiError.badRequest("the request has no body: send the " + media.noun));
    }
    if (type.equals("application/json")) {
      return body.length() <= INLINE_PARSE_BYTES ? Future.succeededFuture(json(body, bounds, media))
          : vertx.executeBlocking(() -> json(body, bounds, media), false);
    }
    if (media != bodyMedia(type)) {
      return Future.failedFuture(new ApiError(415, "Content-Type " + type + " is not what this function takes: send "
          + supported(media)));
    }
    byte[] bytes = body.getBytes();
    if (bytes.length > bounds.maxBytes(media)) {
      return Future.failedFuture(tooBig(0, bytes.length, bounds, media));
    }
    MediaUpload upload = checked(List.of(bytes), null, bounds, media);
    if (media != Media.IMAGE) {
      return Future.succeededFuture(upload);
    }
    String declared = type.substring("image/".length());
    String actual = ImageHeader.read(bytes, 0).format();
    if (!declared.equals(actual)) {
      return Future.failedFuture(ApiError.badRequest("the body is a " + actual.toUpperCase(Locale.ROOT)
          + " image, but Content-Type says " + type));
    }
    return Future.succeededFuture(upload);
  }

  private static MediaUpload json(Buffer body, Bounds bounds, Media media) {
    JsonObject o;
    try {
      o = body.toJsonObject();
    } catch (DecodeException | ClassCastException e) {
      throw ApiError.badRequest("body: expected a JSON object such as {\"image\": \"<base64>\"}");
    }
    return json(o, bounds, media);
  }

  /** The files of a JSON object {@code {"image" | "images" | "audio" | "clips", "top_k"}}, bounds checked. */
  static MediaUpload json(JsonObject o, Bounds bounds, Media media) {
    String one = media.one;
    String many = media.many;
    for (String field : o.fieldNames()) {
      if (!List.of(one, many, "top_k").contains(field)) {
        throw ApiError.badRequest("field '" + field + "': unknown (accepted: " + one + ", " + many + ", top_k)");
      }
    }
    List<Object> given = new ArrayList<>();
    String field;
    if (o.containsKey(one) == o.containsKey(many)) {
      throw ApiError.badRequest("field '" + one + "': give either '" + one + "' (one base64 string) or '" + many
          + "' (an array of them)");
    } else if (o.containsKey(one)) {
      field = one;
      given.add(o.getValue(one));
    } else {
      field = many;
      if (!(o.getValue(many) instanceof JsonArray a) || a.isEmpty()) {
        throw ApiError.badRequest("field '" + many + "': expected a non-empty array of base64 strings");
      }
      if (a.size() > bounds.maxFiles(media)) {
        throw tooMany(a.size(), bounds, media);
      }
      given.addAll(a.getList());
    }
    List<byte[]> images = new ArrayList<>(given.size());
    for (int i = 0; i < given.size(); i++) {
      String name = field.equals(one) ? one : many + "[" + i + "]";
      if (!(given.get(i) instanceof String s)) {
        throw ApiError.badRequest("field '" + name + "': expected a base64 string, got " + given.get(i));
      }
      if (s.startsWith("data:")) {
        int comma = s.indexOf(',');
        if (comma < 0 || !s.substring(0, comma).endsWith(";base64")) {
          throw ApiError.badRequest("field '" + name + "': a data URL must be data:<type>;base64,<data>");
        }
        s = s.substring(comma + 1);
      }
      if ((long) s.length() / 4 * 3 > bounds.maxBytes(media)) {
        throw tooBig(i, (long) s.length() / 4 * 3, bounds, media);
      }
      try {
        images.add(Base64.getMimeDecoder().decode(s));
      } catch (IllegalArgumentException e) {
        throw ApiError.badRequest("field '" + name + "': not valid base64: " + e.getMessage());
      }
    }
    Object k = o.getValue("top_k");
    return checked(images, k == null ? null : topK(String.valueOf(k)), bounds, media);
  }

  /**
   * Applies the per-file bounds: bytes, then a PNG, JPEG or WebP header and its pixels, a WAV header and its duration, or
   * an MP4's box headers, its frame size and duration.
   */
  static MediaUpload checked(List<byte[]> images, Integer topK, Bounds bounds, Media media) {
    long millis = 0;
    long[] each = new long[images.size()];
    for (int i = 0; i < images.size(); i++) {
      byte[] b = images.get(i);
      if (b.length > bounds.maxBytes(media)) {
        throw tooBig(i, b.length, bounds, media);
      }
      if (media == Media.VIDEO) {
        Mp4Header m = Mp4Header.read(b, i);
        if (m.millis() > bounds.maxVideoSeconds() * 1000) {
          throw new ApiError(413, "video " + i + " lasts " + (m.millis() == Long.MAX_VALUE ? "an unknown time"
              : (m.millis() + 999) / 1000 + " s") + ", more than the limit of " + bounds.maxVideoSeconds()
              + " s (max_video_seconds)");
        }
        if (m.pixels() > bounds.maxPixels()) {
          throw new ApiError(413, "video " + i + " is " + m.width() + " × " + m.height() + " = " + m.pixels()
              + " pixels a frame, more than the limit of " + bounds.maxPixels() + " (max_pixels)");
        }
        each[i] = m.millis();
        millis += m.millis();
        continue;
      }
      if (media == Media.AUDIO) {
        WavHeader w = WavHeader.read(b, i);
        if (w.millis() > bounds.maxSeconds() * 1000) {
          throw new ApiError(413, "clip " + i + " lasts " + (w.millis() + 999) / 1000 + " s, more than the limit of "
              + bounds.maxSeconds() + " s (max_seconds)");
        }
        each[i] = w.millis();
        millis += w.millis();
        continue;
      }
      ImageHeader h = ImageHeader.read(b, i);
      if (h.pixels() > bounds.maxPixels()) {
        throw new ApiError(413, "image " + i + " is " + h.width() + " × " + h.height() + " = " + h.pixels()
            + " pixels, more than the limit of " + bounds.maxPixels() + " (max_pixels)");
      }
    }
    return new MediaUpload(List.copyOf(images), topK, millis, each);
  }

  private static Integer topK(String value) {
    if (value == null) {
      return null;
    }
    try {
      int k = Integer.parseInt(value.trim());
      if (k >= 1 && k <= io.inferium.functions.MediaOptions.Postprocess.MAX_TOP_K) {
        return k;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiError.badRequest("field 'top_k': expected an integer in [1, " + io.inferium.functions.MediaOptions.Postprocess.MAX_TOP_K
        + "], got " + value);
  }

  private static ApiError tooMany(int n, Bounds bounds, Media media) {
    return new ApiError(413, "the request has " + n + " files, more than the limit of " + bounds.maxFiles(media)
        + (media == Media.VIDEO ? " (max_videos)" : " (max_images)"));
  }

  private static ApiError tooBig(int index, long bytes, Bounds bounds, Media media) {
    return new ApiError(413, "file " + index + " has " + bytes + " bytes, more than the limit of " + bounds.maxBytes(media)
        + (media == Media.VIDEO ? " (max_video_bytes)" : " (max_image_bytes)"));
  }

  private static String mediaType(String contentType) {
    if (contentType == null) {
      return "";
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }
}
