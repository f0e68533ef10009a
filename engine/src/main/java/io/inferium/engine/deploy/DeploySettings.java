package io.inferium.engine.deploy;

import io.inferium.functions.onnx.StaticCheckConfig;

/**
 * Limits of deploy-time verification.
 *
 * @param staticChecks   size, opset and operator-domain limits for the static checks
 * @param loadTimeoutMs  the sandbox worker must load the model within this time
 * @param smokeTimeoutMs the smoke inference must finish within this time
 * @param concurrent     verifications running at once (each one spawns a sandbox process)
 * @param queueLimit     verifications waiting; beyond it a deploy is refused with 429
 */
public record DeploySettings(StaticCheckConfig staticChecks, long loadTimeoutMs, long smokeTimeoutMs,
    int concurrent, int queueLimit) {

  public static final long DEFAULT_LOAD_TIMEOUT_MS = 60_000;
  public static final long DEFAULT_SMOKE_TIMEOUT_MS = 30_000;
  public static final int DEFAULT_CONCURRENT = 1;
  public static final int DEFAULT_QUEUE_LIMIT = 32;

  public static DeploySettings defaults() {
    return new DeploySettings(StaticCheckConfig.defaults(), DEFAULT_LOAD_TIMEOUT_MS, DEFAULT_SMOKE_TIMEOUT_MS,
        DEFAULT_CONCURRENT, DEFAULT_QUEUE_LIMIT);
  }
}
