package io.inferium.functions;

import io.vertx.core.json.JsonObject;

/**
 * One line of a function's deploy-time verification report.
 *
 * @param name       stable check name, e.g. {@code onnx_protobuf}, {@code sandbox_load}
 * @param passed     whether the check passed
 * @param severity   {@code error} (a failure rejects the function) or {@code warning} (recorded only)
 * @param message    what was found, phrased for the model's developer
 * @param durationMs wall time the check took
 */
public record VerificationCheck(String name, boolean passed, String severity, String message, long durationMs) {

  public static final String ERROR = "error";
  public static final String WARNING = "warning";

  public static VerificationCheck pass(String name, String message, long durationMs) {
    return new VerificationCheck(name, true, ERROR, message, durationMs);
  }

  public static VerificationCheck fail(String name, String message, long durationMs) {
    return new VerificationCheck(name, false, ERROR, message, durationMs);
  }

  public static VerificationCheck warn(String name, String message, long durationMs) {
    return new VerificationCheck(name, false, WARNING, message, durationMs);
  }

  /** True when this check stops the function from becoming ready. */
  public boolean rejects() {
    return !passed && ERROR.equals(severity);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("name", name)
        .put("passed", passed)
        .put("severity", severity)
        .put("message", message)
        .put("duration_ms", durationMs);
  }

  public static VerificationCheck fromJson(JsonObject json) {
    return new VerificationCheck(
        json.getString("name"),
        json.getBoolean("passed", false),
        json.getString("severity", ERROR),
        json.getString("message", ""),
        json.getLong("duration_ms", 0L));
  }
}
