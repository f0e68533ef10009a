package io.inferium.functions;

import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * One deployed version of a function: its spec, its content-addressed model, where it is in its
 * lifecycle and the verification report that put it there.
 *
 * @param owner       the tenant that deployed it; null for the platform (bootstrap admin)
 * @param stateReason why it is in its state (the failing check for {@code rejected}); may be null
 * @param report      {@code {"checks": [...], "load_ms": n, "smoke_ms": n, "smoke_inputs": {...}}}; empty while verifying
 * @param signature   inputs and outputs as ONNX Runtime sees them; null until the sandbox load ran
 */
public record FunctionRecord(
    FunctionSpec spec,
    int version,
    String modelSha256,
    long modelBytes,
    String owner,
    FunctionState state,
    String stateReason,
    JsonObject report,
    ModelSignature signature,
    OffsetDateTime createdAt,
    OffsetDateTime updatedAt) {

  public String name() {
    return spec.name();
  }

  /** {@code name/version}, the way logs and errors refer to a version. */
  public String ref() {
    return spec.name() + "/" + version;
  }

  public JsonObject toJson() {
    JsonObject o = spec.toJson();
    JsonObject policy = o.getJsonObject("verification"); // with distinct_operators when the spec relaxed it
    o.put("version", version)
        .put("state", state.wire())
        .put("model", new JsonObject().put("sha256", modelSha256).put("bytes", modelBytes))
        .put("verification", report == null ? new JsonObject() : report)
        // The spec's own "verification" (the policy) is replaced by the report just above: keep the policy too.
        .put("verification_policy", policy)
        .put("created_at", rfc3339(createdAt))
        .put("updated_at", rfc3339(updatedAt));
    if (stateReason != null) {
      o.put("state_reason", stateReason);
    }
    if (signature != null) {
      o.put("signature", signature.toJson());
    }
    if (owner != null) {
      o.put("owner", owner);
    }
    return o;
  }

  static String rfc3339(OffsetDateTime t) {
    return t == null ? null : t.withOffsetSameInstant(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }
}
