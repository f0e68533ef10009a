package io.inferium.loadtest;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The outcome of one load run. Latencies are in microseconds: for a closed loop from send to
 * answer; for an open loop from the <em>intended</em> send time on the fixed schedule, so time a
 * request spent waiting (for a connection, behind a stalled server) counts: coordinated omission
 * corrected.
 *
 * @param label      what ran (e.g. the function and its batching)
 * @param mode       {@code closed} or {@code open}
 * @param concurrency callers (closed) or connections (open)
 * @param rate       requests/s scheduled (open loop), 0 for closed
 * @param seconds    length of the measured window
 * @param ok         2xx answers completed in the window
 * @param errors     failures in the window by {@code http <status>} or exception kind
 * @param latency    latency of ok answers, microseconds (closed: completed in the window; open: scheduled in it)
 */
public record LoadResult(String label, String mode, int concurrency, double rate, double seconds, long ok,
    Map<String, Long> errors, Histogram latency) {

  public LoadResult {
    errors = Map.copyOf(new TreeMap<>(errors));
  }

  /** ok answers per second in the measured window. */
  public double throughput() {
    return seconds <= 0 ? 0 : ok / seconds;
  }

  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The latency at {@code percentile} (0–100) in milliseconds; NaN when nothing was recorded. */
  public double latencyMs(double percentile) {
    return latency.getTotalCount() == 0 ? Double.NaN : latency.getValueAtPercentile(percentile) / 1000.0;
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject()
        .put("label", label).put("mode", mode).put("concurrency", concurrency)
        .put("seconds", seconds).put("ok", ok).put("throughput_per_s", round(throughput()))
        .put("errors", new JsonObject(new TreeMap<>(errors)))
        .put("latency_ms", percentiles(latency));
    if ("open".equals(mode)) {
      o.put("rate_per_s", rate);
    }
    return o;
  }

  static JsonObject percentiles(Histogram h) {
    JsonObject p = new JsonObject().put("count", h.getTotalCount());
    if (h.getTotalCount() > 0) {
      p.put("p50", ms(h, 50)).put("p90", ms(h, 90)).put("p99", ms(h, 99)).put("p99_9", ms(h, 99.9))
          .put("max", round(h.getMaxValue() / 1000.0)).put("mean", round(h.getMean() / 1000.0));
    }
    return p;
  }

  private static double ms(Histogram h, double percentile) {
    return round(h.getValueAtPercentile(percentile) / 1000.0);
  }

  static double round(double v) {
    return Math.round(v * 1000.0) / 1000.0;
  }
}
