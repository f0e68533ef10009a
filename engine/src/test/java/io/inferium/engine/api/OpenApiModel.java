package io.inferium.engine.api;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * The OpenAPI document as Vert.x's contract model takes it. Its 5.0 release models only some media types (JSON,
 * multipart, octet-stream, plain text) and refuses a document with others; the few answers in others (the console's
 * HTML, event streams, CSV invoices) are taken out of a copy, which is then good for {@code OpenAPIContract.from}
 * and its response validator. The served document keeps them.
 */
public final class OpenApiModel {

  /** The media types Vert.x's model does not take, removed from answers. */
  public static final List<String> UNMODELLED = List.of("text/html", "text/event-stream", "text/csv", "*/*");

  private OpenApiModel() {}

  /** A copy of {@code doc} without the answers' unmodelled media types. */
  public static JsonObject modelled(JsonObject doc) {
    JsonObject copy = doc.copy();
    for (Map.Entry<String, Object> path : copy.getJsonObject("paths")) {
      for (Map.Entry<String, Object> op : (JsonObject) path.getValue()) {
        for (Map.Entry<String, Object> response : ((JsonObject) op.getValue()).getJsonObject("responses")) {
          JsonObject content = ((JsonObject) response.getValue()).getJsonObject("content");
          if (content != null) {
            UNMODELLED.forEach(content::remove);
          }
        }
      }
    }
    return copy;
  }
}
