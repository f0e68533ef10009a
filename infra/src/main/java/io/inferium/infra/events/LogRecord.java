package io.inferium.infra.events;

import io.vertx.core.json.JsonObject;

/**
 * One delivered event.
 *
 * @param partition the topic partition (always 0 for the local log)
 * @param offset    its position in the partition
 */
public record LogRecord(String topic, int partition, long offset, String key, JsonObject value) {
}
