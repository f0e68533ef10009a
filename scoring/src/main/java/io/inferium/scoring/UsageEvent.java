package io.inferium.scoring;

import io.inferium.functions.CompletionEvent;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One completed request's usage: the row the billing consumer stores (id = the request id, which makes it
 * idempotent), derived from the request's {@link CompletionEvent} ({@link #of}). Its own JSON form
 * ({@link #toJson}) is what the retired {@code inferium.usage} topic carried; {@link #fromJson} still reads
 * it so that a data directory's undrained usage events are stored after an upgrade. Money is integer
 * micro-dollars.
 *
 * @param tenantId   who is billed; null for platform keys
 * @param owner      the function's owner (the developer side of a revenue split)
 * @param modality   what the units count: {@code request} for tensor functions
 * @param units      how many of them
 * @param computeUs  worker compute time, as measured by the worker
 * @param workers    the workers (node operators) whose result was used
 */
public record UsageEvent(String id, String tenantId, String function, int version, String owner, String modality,
    long units, long computeUs, long chargeMicroUsd, Instant at, java.util.List<String> workers) {

  /** An event with no worker named (the operators' share then goes to the platform). */
  public UsageEvent(String id, String tenantId, String function, int version, String owner, String modality,
      long units, long computeUs, long chargeMicroUsd, Instant at) {
    this(id, tenantId, function, version, owner, modality, units, computeUs, chargeMicroUsd, at, java.util.List.of());
  }

  /** The usage row a completion event bills: the same id, tenant, function, units, compute and charge. */
  public static UsageEvent of(CompletionEvent c) {
    return new UsageEvent(c.requestId(), c.tenantId(), c.function(), c.version(), c.owner(), c.modality(), c.units(),
        c.computeUs(), c.chargeMicroUsd(), c.at(), c.workers());
  }

  /** The CloudEvents {@code type} of usage events on the retired {@code inferium.usage} topic. */
  public static final String TYPE = "io.inferium.usage";

  /** The event as the retired {@code inferium.usage} topic carried it (tests write legacy events with it). */
  public JsonObject toJson() {
    return new JsonObject()
        .put("specversion", "1.0").put("id", id).put("source", "inferium/gateway").put("type", TYPE)
        .put("time", at.toString()).put("subject", function)
        .put("data", new JsonObject().put("tenant_id", tenantId).put("function", function).put("version", version)
            .put("owner", owner).put("modality", modality).put("units", units).put("compute_us", computeUs)
            .put("charge_micro_usd", chargeMicroUsd)
            .put("workers", new io.vertx.core.json.JsonArray(workers == null ? java.util.List.of() : workers)));
  }

  /** Reads {@link #toJson()}'s form back. */
  public static UsageEvent fromJson(JsonObject e) {
    JsonObject d = e.getJsonObject("data");
    return new UsageEvent(e.getString("id"), d.getString("tenant_id"), d.getString("function"), d.getInteger("version"),
        d.getString("owner"), d.getString("modality"), d.getLong("units"), d.getLong("compute_us"),
        d.getLong("charge_micro_usd"), Instant.parse(e.getString("time")),
        d.getJsonArray("workers", new io.vertx.core.json.JsonArray()).stream().map(String::valueOf).toList());
  }
}
