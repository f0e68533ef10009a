package io.inferium.engine.api;

import io.inferium.scoring.eval.EvalDataset;
import io.inferium.scoring.eval.MediaArchive;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The media rows of an uploaded dataset checked as {@code /predict} checks a file, before anything is stored: valid
 * base64, a PNG/JPEG, WAV or MP4 header within the pixel and duration bounds, one kind of media per set; a video set
 * holds at most {@link MediaArchive#MAX_VIDEOS} videos and {@link #MAX_VIDEO_SET_SECONDS} seconds of them, as their
 * headers declare. Clips and videos are stamped with their declared duration ({@code millis}). Nothing is decoded here.
 */
final class MediaRows {

  /** Most seconds of video (as declared) a set may hold: what one benchmark run may ask the workers to decode. */
  static final long MAX_VIDEO_SET_SECONDS = 3_600;

  private static final List<String> FIELDS = List.of("image", "audio", "video");

  private MediaRows() {}

  /** {@code data} with its clip and video rows stamped; unchanged when it has no media rows. */
  static EvalDataset checked(EvalDataset data, MediaUpload.Bounds bounds) {
    boolean any = data.rows().stream().anyMatch(r -> FIELDS.stream().anyMatch(r::containsKey));
    if (!any) {
      return data;
    }
    List<JsonObject> out = new ArrayList<>(data.size());
    String kind = null;
    long videoMillis = 0;
    for (int i = 0; i < data.size(); i++) {
      JsonObject row = data.rows().get(i);
      List<String> given = FIELDS.stream().filter(row::containsKey).toList();
      String where = "row " + (i + 1) + (row.getValue("file") instanceof String f ? " (file '" + f + "')" : "");
      if (given.size() != 1) {
        throw ApiError.badRequest(where + ": a media set needs exactly one of 'image', 'audio' or 'video' in every row");
      }
      String field = given.get(0);
      if (kind != null && !kind.equals(field)) {
        throw ApiError.badRequest(where + ": has '" + field + "' where row 1 has '" + kind
            + "': a set holds one kind of media (images, clips or videos), not several");
      }
      kind = field;
      if (!(row.getValue(field) instanceof String s)) {
        throw ApiError.badRequest(where + ": '" + field + "' must be a base64 string");
      }
      if (row.getValue("expected") == null) {
        throw ApiError.badRequest(where + ": no 'expected' label");
      }
      if (field.equals("video") && i >= MediaArchive.MAX_VIDEOS) {
        throw new ApiError(413, "the set has " + data.size() + " videos, more than the limit of " + MediaArchive.MAX_VIDEOS
            + " (max_videos)");
      }
      byte[] bytes;
      try {
        bytes = Base64.getMimeDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        throw ApiError.badRequest(where + ": '" + field + "' is not valid base64: " + e.getMessage());
      }
      MediaUpload upload;
      try {
        upload = MediaUpload.checked(List.of(bytes), null, bounds, media(field));
      } catch (ApiError e) {
        // The header checks name "image 0" / "clip 0" / "video 0": the row is what the uploader can find.
        throw new ApiError(e.status(), where + ": " + e.getMessage().replaceFirst("^(image|clip|file|video) 0('s)? ", "the file$2 "));
      }
      JsonObject copy = row.copy().put(field, Base64.getEncoder().encodeToString(bytes));
      if (field.equals("video")) {
        videoMillis += upload.audioMillis();
        if (videoMillis > MAX_VIDEO_SET_SECONDS * 1000) {
          throw new ApiError(413, where + ": the set's videos last more than " + MAX_VIDEO_SET_SECONDS
              + " s together (max_set_seconds)");
        }
      }
      out.add(field.equals("image") ? copy : copy.put("millis", upload.audioMillis()));
    }
    return new EvalDataset(List.copyOf(out));
  }

  private static MediaUpload.Media media(String field) {
    return switch (field) {
      case "audio" -> MediaUpload.Media.AUDIO;
      case "video" -> MediaUpload.Media.VIDEO;
      default -> MediaUpload.Media.IMAGE;
    };
  }
}
