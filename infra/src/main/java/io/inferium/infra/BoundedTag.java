package io.inferium.infra;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Caps how many distinct values one tag may take across the registry: the first {@code max} values
 * keep their own series, later ones are counted together under {@value #OTHER}, so a tenant that
 * deploys a hundred thousand functions cannot grow the registry (and every scrape) without bound.
 * Gauges are not summable, so a gauge that would land under {@value #OTHER} is dropped instead.
 */
public final class BoundedTag implements MeterFilter {

  /** The value that stands for every value past the cap. */
  public static final String OTHER = "other";

  private final String key;
  private final int max;
  private final Set<String> kept = ConcurrentHashMap.newKeySet();

  public BoundedTag(String key, int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, got " + max);
    }
    this.key = key;
    this.max = max;
  }

  @Override
  public Meter.Id map(Meter.Id id) {
    String value = id.getTag(key);
    if (value == null || kept.contains(value)) {
      return id;
    }
    synchronized (this) {
      if (kept.size() < max) {
        kept.add(value);
        return id;
      }
    }
    return id.replaceTags(Tags.of(id.getTagsAsIterable()).and(key, OTHER));
  }

  @Override
  public MeterFilterReply accept(Meter.Id id) {
    return id.getType() == Meter.Type.GAUGE && OTHER.equals(id.getTag(key)) && !kept.contains(OTHER)
        ? MeterFilterReply.DENY : MeterFilterReply.NEUTRAL;
  }

  /** How many distinct values have their own series. */
  public int kept() {
    return kept.size();
  }
}
