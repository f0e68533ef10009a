package io.inferium.engine.text;

import io.inferium.functions.Bundle;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.ModelBlobs;
import io.vertx.core.json.JsonObject;
import java.io.IOException;

/** The LOAD frame fields of a text function: its kind, where each bundle file is, its serving options. */
public final class TextLoad {

  private TextLoad() {}

  /** Blocking: reads the bundle manifest. */
  public static JsonObject meta(ModelBlobs blobs, FunctionRecord fn) throws IOException {
    Bundle bundle = Bundle.read(blobs.path(fn.modelSha256()));
    JsonObject files = new JsonObject();
    bundle.files().forEach((name, part) -> files.put(name, blobs.path(part.sha256()).toString()));
    return new JsonObject().put("kind", fn.spec().kind().wire()).put("files", files)
        .put("max_running_sequences", fn.spec().text().maxRunningSequences())
        .put("max_tokens_per_step", fn.spec().text().maxTokensPerStep());
  }
}
