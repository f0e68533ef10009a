package io.inferium.engine.auth;

import io.vertx.core.json.JsonObject;

/**
 * A tier's limits (the seeds' user-space packages). Null {@code monthlyIncludedMicroUsd} means
 * unlimited; {@code maxRedundancy} caps the workers a request may ask to verify it on; with
 * {@code hardQuota} a tenant that has used its monthly included amount is stopped (402) instead of
 * being billed for more.
 */
public record Tier(String name, int requestsPerMinute, Long monthlyIncludedMicroUsd, boolean gpuAccess,
    int maxConcurrentGenerations, long storageBytes, int maxRedundancy, boolean hardQuota) {

  static Tier fromJson(String name, JsonObject json) {
    return new Tier(name,
        json.getInteger("requests_per_minute"),
        json.getLong("monthly_included_micro_usd"),
        json.getBoolean("gpu_access", false),
        json.getInteger("max_concurrent_generations", 1),
        json.getLong("storage_bytes"),
        json.getInteger("max_redundancy", 3),
        json.getBoolean("hard_quota", false));
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("requests_per_minute", requestsPerMinute)
        .put("monthly_included_micro_usd", monthlyIncludedMicroUsd).put("gpu_access", gpuAccess)
        .put("max_concurrent_generations", maxConcurrentGenerations).put("storage_bytes", storageBytes)
        .put("max_redundancy", maxRedundancy).put("hard_quota", hardQuota);
  }
}
