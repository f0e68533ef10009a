package io.inferium.engine.api;

import io.vertx.core.json.JsonObject;

/**
 * Errors in the OpenAI shape, {@code {"error": {"message", "type", "param", "code"}}}, for the
 * {@code /v1} routes, so OpenAI client libraries raise their usual typed exceptions.
 */
final class OpenAiErrors {

  private OpenAiErrors() {}

  static JsonObject body(ApiError error) {
    JsonObject inner = new JsonObject()
        .put("message", error.getMessage())
        .put("type", type(error.status()))
        .put("param", error instanceof ParamError p ? p.param() : null)
        .put("code", error instanceof Failures.InternalError ? "internal_error" : code(error.status()));
    if (error instanceof Failures.InternalError internal) {
      inner.put("error_id", internal.errorId());
    }
    return new JsonObject().put("error", inner);
  }

  /**
   * The status OpenAI answers with: an exhausted quota is a 429 with type and code {@code insufficient_quota}
   * (clients tell it from a rate limit by the code), where our other routes say 402.
   */
  static int status(ApiError error) {
    return error.status() == 402 ? 429 : error.status();
  }

  private static String type(int status) {
    return switch (status) {
      case 400, 404, 409, 413, 422 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 402 -> "insufficient_quota";
      case 403 -> "permission_error";
      case 429 -> "rate_limit_error";
      default -> "server_error";
    };
  }

  private static String code(int status) {
    return switch (status) {
      case 404 -> "model_not_found";
      case 401 -> "invalid_api_key";
      case 402 -> "insufficient_quota";
      case 429 -> "rate_limit_exceeded";
      case 504 -> "timeout";
      default -> null;
    };
  }

  /** A 400 (or another 4xx, e.g. 413) that names the offending request field, as OpenAI's {@code param}. */
  static final class ParamError extends ApiError {
    private final String param;

    ParamError(String param, String message) {
      this(400, param, message);
    }

    ParamError(int status, String param, String message) {
      super(status, message);
      this.param = param;
    }

    String param() {
      return param;
    }
  }
}
