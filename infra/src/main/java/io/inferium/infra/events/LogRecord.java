package io.inferium.infra.events;

import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.function.Function;

/**
 * One delivered event. The local log hands every consumer group that reads the same stretch the same record (it
 * keeps the last ones parsed), so a value decoded once by {@link #decoded} serves every group. {@code partition} is
 * the topic partition (always 0 for the local log), {@code offset} the record's position in it.
 */
public final class LogRecord {

  private final String topic;
  private final int partition;
  private final long offset;
  private final String key;
  private final JsonObject value;
  /** The value's decoded form, as the first group to ask made it (a benign race: two groups may both decode). */
  private volatile Object decoded;

  public LogRecord(String topic, int partition, long offset, String key, JsonObject value) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.key = key;
    this.value = value;
  }

  public String topic() {
    return topic;
  }

  public int partition() {
    return partition;
  }

  public long offset() {
    return offset;
  }

  public String key() {
    return key;
  }

  /** The event; shared between groups, so read-only. */
  public JsonObject value() {
    return value;
  }

  /**
   * The value decoded by {@code decoder} into an immutable {@code type}, decoded once for every group that reads this
   * record. A decoder that throws leaves nothing behind (the next caller throws too).
   */
  public <T> T decoded(Class<T> type, Function<JsonObject, T> decoder) {
    Object d = decoded;
    if (type.isInstance(d)) {
      return type.cast(d);
    }
    T t = decoder.apply(value);
    decoded = t;
    return t;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LogRecord r && partition == r.partition && offset == r.offset && Objects.equals(topic, r.topic)
        && Objects.equals(key, r.key) && Objects.equals(value, r.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(topic, partition, offset, key, value);
  }

  @Override
  public String toString() {
    return "LogRecord[topic=" + topic + ", partition=" + partition + ", offset=" + offset + ", key=" + key + ", value="
        + value + "]";
  }
}
