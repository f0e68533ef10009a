package io.inferium.scoring;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One completed request's usage, as a CloudEvents-style record (id = the request id, which makes it
 * idempotent). Money is integer micro-dollars.
 *
 * @param tenantId   who is billed; null for platform keys
 * @param owner      the function's owner (the developer side of a revenue split)
 * @param modality   what the units count: {@code request} for tensor functions
 * @param units      how many of them
 * @param computeUs  worker compute time, as measured by the worker
 */
public record UsageEvent(String id, String tenantId, String function, int version, String owner, String modality,
    long units, long computeUs, long chargeMicroUsd, Instant at) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("specversion", "1.0").put("id", id).put("source", "inferium").put("type", "inferium.usage")
        .put("time", at.toString())
        .put("data", new JsonObject().put("tenant_id", tenantId).put("function", function).put("version", version)
            .put("owner", owner).put("modality", modality).put("units", units).put("compute_us", computeUs)
            .put("charge_micro_usd", chargeMicroUsd));
  }
}
