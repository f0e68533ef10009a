package io.inferium.engine.auth;

import io.vertx.core.json.JsonObject;

/**
 * A tier's limits (the seeds' user-space packages). Null {@code monthlyIncludedMicroUsd} means
 * unlimited; {@code maxRedundancy} caps the workers a request may ask to verify it on; with
 * {@code hardQuota} a tenant that has used its monthly included amount is stopped (402) instead of
 * being billed for more. The edge limits: {@code maxConcurrentUploads} model uploads in flight,
 * {@code maxStreams} Server-Sent-Event connections open (leaderboard and streamed generations),
 * {@code maxPendingVerifications} deployments waiting in or running through verification, and
 * {@code mostUrgentPriority}, the most urgent mempool priority a request may ask for (1 is served
 * first; the default 5 is always allowed, and so is anything less urgent).
 */
public record Tier(String name, int requestsPerMinute, Long monthlyIncludedMicroUsd, boolean gpuAccess,
    int maxConcurrentGenerations, long storageBytes, int maxRedundancy, boolean hardQuota,
    int maxConcurrentUploads, int maxStreams, int maxPendingVerifications, int mostUrgentPriority) {

  public static final int DEFAULT_MAX_CONCURRENT_UPLOADS = 2;
  public static final int DEFAULT_MAX_STREAMS = 4;
  public static final int DEFAULT_MAX_PENDING_VERIFICATIONS = 2;
  /** The mempool's default priority: a tier that says nothing may not jump ahead of anyone. */
  public static final int DEFAULT_MOST_URGENT_PRIORITY = 5;

  static Tier fromJson(String name, JsonObject json) {
    return new Tier(name,
        json.getInteger("requests_per_minute"),
        json.getLong("monthly_included_micro_usd"),
        json.getBoolean("gpu_access", false),
        json.getInteger("max_concurrent_generations", 1),
        json.getLong("storage_bytes"),
        json.getInteger("max_redundancy", 3),
        json.getBoolean("hard_quota", false),
        json.getInteger("max_concurrent_uploads", DEFAULT_MAX_CONCURRENT_UPLOADS),
        json.getInteger("max_streams", DEFAULT_MAX_STREAMS),
        json.getInteger("max_pending_verifications", DEFAULT_MAX_PENDING_VERIFICATIONS),
        json.getInteger("most_urgent_priority", DEFAULT_MOST_URGENT_PRIORITY));
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("requests_per_minute", requestsPerMinute)
        .put("monthly_included_micro_usd", monthlyIncludedMicroUsd).put("gpu_access", gpuAccess)
        .put("max_concurrent_generations", maxConcurrentGenerations).put("storage_bytes", storageBytes)
        .put("max_redundancy", maxRedundancy).put("hard_quota", hardQuota)
        .put("max_concurrent_uploads", maxConcurrentUploads).put("max_streams", maxStreams)
        .put("max_pending_verifications", maxPendingVerifications).put("most_urgent_priority", mostUrgentPriority);
  }
}
