package io.inferium.engine.api;

import io.inferium.scoring.eval.EvalDataset;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The media rows of an uploaded dataset checked as {@code /predict} checks a file, before anything is stored: valid
 * base64, a PNG/JPEG or WAV header within the pixel and duration bounds, one kind of media per set. Audio rows are
 * stamped with their duration ({@code millis}), what a benchmark run costs by. Nothing is decoded here.
 */
final class MediaRows {

  private MediaRows() {}

  /** {@code data} with its audio rows stamped; unchanged when it has no media rows. */
  static EvalDataset checked(EvalDataset data, MediaUpload.Bounds bounds) {
    boolean any = data.rows().stream().anyMatch(r -> r.containsKey("image") || r.containsKey("audio"));
    if (!any) {
      return data;
    }
    List<JsonObject> out = new ArrayList<>(data.size());
    String kind = null;
    for (int i = 0; i < data.size(); i++) {
      JsonObject row = data.rows().get(i);
      String field = row.containsKey("image") ? "image" : row.containsKey("audio") ? "audio" : null;
      String where = "row " + (i + 1) + (row.getValue("file") instanceof String f ? " (file '" + f + "')" : "");
      if (field == null || (row.containsKey("image") && row.containsKey("audio"))) {
        throw ApiError.badRequest(where + ": a media set needs exactly one of 'image' or 'audio' in every row");
      }
      if (kind != null && !kind.equals(field)) {
        throw ApiError.badRequest(where + ": a set holds either images or clips, not both");
      }
      kind = field;
      if (!(row.getValue(field) instanceof String s)) {
        throw ApiError.badRequest(where + ": '" + field + "' must be a base64 string");
      }
      if (row.getValue("expected") == null) {
        throw ApiError.badRequest(where + ": no 'expected' label");
      }
      byte[] bytes;
      try {
        bytes = Base64.getMimeDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        throw ApiError.badRequest(where + ": '" + field + "' is not valid base64: " + e.getMessage());
      }
      try {
        MediaUpload upload = MediaUpload.checked(List.of(bytes), null, bounds,
            field.equals("audio") ? MediaUpload.Media.AUDIO : MediaUpload.Media.IMAGE);
        JsonObject copy = row.copy().put(field, Base64.getEncoder().encodeToString(bytes));
        out.add(field.equals("audio") ? copy.put("millis", upload.audioMillis()) : copy);
      } catch (ApiError e) {
        // The header checks name "image 0" / "clip 0": the row is what the uploader can find.
        throw new ApiError(e.status(), where + ": " + e.getMessage().replaceFirst("^(image|clip|file) 0 ", "the file "));
      }
    }
    return new EvalDataset(List.copyOf(out));
  }
}
