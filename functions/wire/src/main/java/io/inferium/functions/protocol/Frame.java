package io.inferium.functions.protocol;

import io.inferium.functions.tensor.Tensor;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One protocol message: a type, the correlation id that pairs a reply with its request, a small
 * JSON metadata object and zero or more tensors carried as raw bytes.
 */
public record Frame(FrameType type, long correlationId, JsonObject meta, List<Tensor> tensors) {

  public Frame {
    meta = meta == null ? new JsonObject() : meta;
    tensors = tensors == null ? List.of() : tensors;
  }

  public static Frame of(FrameType type, long correlationId, JsonObject meta) {
    return new Frame(type, correlationId, meta, List.of());
  }

  /** An {@link FrameType#ERROR} reply. */
  public static Frame error(long correlationId, String code, String message) {
    return of(FrameType.ERROR, correlationId, new JsonObject().put("code", code).put("message", message));
  }
}
