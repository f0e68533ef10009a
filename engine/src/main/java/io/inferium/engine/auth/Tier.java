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
 * first; the default 5 is always allowed, and so is anything less urgent). Per modality (media functions'
 * {@code predict}; each null when the tier does not limit it): {@code imagesPerMinute} images a tenant may send a
 * minute, {@code mediaSecondsPerMinute} seconds of audio and video (as their headers declare them) a minute, and
 * {@code maxMediaSeconds} seconds of audio or video in one request.
 */
public record Tier(String name, int requestsPerMinute, Long monthlyIncludedMicroUsd, boolean gpuAccess,
    int maxConcurrentGenerations, long storageBytes, int maxRedundancy, boolean hardQuota,
    int maxConcurrentUploads, int maxStreams, int maxPendingVerifications, int mostUrgentPriority,
    Integer imagesPerMinute, Integer mediaSecondsPerMinute, Integer maxMediaSeconds) {

  public static final int DEFAULT_MAX_CONCURRENT_UPLOADS = 2;
  public static final int DEFAULT_MAX_STREAMS = 4;
  public static final int DEFAULT_MAX_PENDING_VERIFICATIONS = 2;
  /** The mempool's default priority: a tier that says nothing may not jump ahead of anyone. */
  public static final int DEFAULT_MOST_URGENT_PRIORITY = 5;

  /**
   * Reads one tier of the table. {@code requests_per_minute} and {@code storage_bytes} are required; a
   * missing or mistyped field is an {@link IllegalArgumentException} naming the tier and the field, so a
   * wrong {@code --tiers} file stops the gateway at start with a message, not a NullPointerException.
   */
  static Tier fromJson(String name, JsonObject json) {
    Fields f = new Fields(name, json);
    return new Tier(name,
        (int) f.positive("requests_per_minute", null),
        f.optionalNonNegative("monthly_included_micro_usd"),
        f.bool("gpu_access", false),
        (int) f.positive("max_concurrent_generations", 1L),
        f.nonNegative("storage_bytes"),
        (int) f.positive("max_redundancy", 3L),
        f.bool("hard_quota", false),
        (int) f.positive("max_concurrent_uploads", (long) DEFAULT_MAX_CONCURRENT_UPLOADS),
        (int) f.positive("max_streams", (long) DEFAULT_MAX_STREAMS),
        (int) f.positive("max_pending_verifications", (long) DEFAULT_MAX_PENDING_VERIFICATIONS),
        (int) f.positive("most_urgent_priority", (long) DEFAULT_MOST_URGENT_PRIORITY),
        f.optionalPositive("images_per_minute"),
        f.optionalPositive("media_seconds_per_minute"),
        f.optionalPositive("max_media_seconds"));
  }

  /** Typed reads of one tier's fields with errors that name the tier and the field. */
  private record Fields(String tier, JsonObject json) {

    long positive(String field, Long dflt) {
      Long v = integer(field, dflt);
      if (v < 1 || v > Integer.MAX_VALUE) {
        throw wrong(field, "an integer from 1 to " + Integer.MAX_VALUE, json.getValue(field));
      }
      return v;
    }

    long nonNegative(String field) {
      Long v = integer(field, null);
      if (v < 0) {
        throw wrong(field, "a non-negative integer", v);
      }
      return v;
    }

    Integer optionalPositive(String field) {
      return json.getValue(field) == null ? null : (int) positive(field, null);
    }

    Long optionalNonNegative(String field) {
      return json.getValue(field) == null ? null : nonNegative(field);
    }

    boolean bool(String field, boolean dflt) {
      Object v = json.getValue(field);
      if (v == null) {
        return dflt;
      }
      if (!(v instanceof Boolean b)) {
        throw wrong(field, "true or false", v);
      }
      return b;
    }

    private Long integer(String field, Long dflt) {
      Object v = json.getValue(field);
      if (v == null) {
        if (dflt == null) {
          throw new IllegalArgumentException("tiers: tier '" + tier + "' lacks the required field '" + field + "'");
        }
        return dflt;
      }
      if (!(v instanceof Integer || v instanceof Long)) {
        throw wrong(field, "an integer", v);
      }
      return ((Number) v).longValue();
    }

    private IllegalArgumentException wrong(String field, String expected, Object got) {
      return new IllegalArgumentException("tiers: tier '" + tier + "' field '" + field + "': expected " + expected
          + ", got " + (got instanceof String ? "'" + got + "'" : String.valueOf(got)));
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("requests_per_minute", requestsPerMinute)
        .put("monthly_included_micro_usd", monthlyIncludedMicroUsd).put("gpu_access", gpuAccess)
        .put("max_concurrent_generations", maxConcurrentGenerations).put("storage_bytes", storageBytes)
        .put("max_redundancy", maxRedundancy).put("hard_quota", hardQuota)
        .put("max_concurrent_uploads", maxConcurrentUploads).put("max_streams", maxStreams)
        .put("max_pending_verifications", maxPendingVerifications).put("most_urgent_priority", mostUrgentPriority)
        .put("images_per_minute", imagesPerMinute).put("media_seconds_per_minute", mediaSecondsPerMinute)
        .put("max_media_seconds", maxMediaSeconds);
  }
}
