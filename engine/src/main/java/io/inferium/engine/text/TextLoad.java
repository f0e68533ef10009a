package io.inferium.engine.text;

import io.inferium.functions.Bundle;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.ModelBlobs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The LOAD frame fields of a text function: its kind, where each bundle file is and its sha256, its serving
 * options. One instance serves generations, embeddings and scoring alike, so each bundle's manifest
 * is read once (off the event loop); a failed read is tried again on the next request.
 */
public final class TextLoad {

  private final Vertx vertx;
  private final ModelBlobs blobs;
  private final Map<String, Future<JsonObject>> metas = new ConcurrentHashMap<>();

  public TextLoad(Vertx vertx, ModelBlobs blobs) {
    this.vertx = vertx;
    this.blobs = blobs;
  }

  public ModelBlobs blobs() {
    return blobs;
  }

  /** The LOAD fields of {@code fn}'s bundle, cached by bundle hash. */
  public Future<JsonObject> metaOf(FunctionRecord fn) {
    String sha = fn.modelSha256();
    Future<JsonObject> cached = metas.get(sha);
    if (cached != null) {
      return cached;
    }
    Future<JsonObject> read = vertx.executeBlocking(() -> meta(blobs, fn), false);
    Future<JsonObject> winner = metas.putIfAbsent(sha, read);
    if (winner != null) {
      return winner;
    }
    read.onFailure(err -> metas.remove(sha, read));
    return read;
  }

  /** Blocking: reads the bundle manifest. */
  public static JsonObject meta(ModelBlobs blobs, FunctionRecord fn) throws IOException {
    Bundle bundle = Bundle.read(blobs.path(fn.modelSha256()));
    JsonObject files = new JsonObject();
    JsonObject parts = new JsonObject();
    bundle.files().forEach((name, part) -> {
      files.put(name, blobs.path(part.sha256()).toString());
      parts.put(name, part.sha256());
    });
    // files (paths) for a local worker; parts (hashes) for a remote node, which is never sent a path.
    return new JsonObject().put("kind", fn.spec().kind().wire()).put("files", files).put("parts", parts)
        .put("max_running_sequences", fn.spec().text().maxRunningSequences())
        .put("max_tokens_per_step", fn.spec().text().maxTokensPerStep());
  }
}
