package io.inferium.loadtest;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the gateway reported about one function during one run: the difference of two
 * {@link MetricsSnapshot}s.
 *
 * @param batches         batches sent to workers
 * @param meanBatchRows   rows per batch ({@code inferium_batch_size})
 * @param batchesByReason why batches closed ({@code inferium_batches_total{reason}})
 * @param meanQueueMs     time requests waited in the mempool
 * @param meanComputeMs   worker round trip per batch as the gateway saw it
 */
public record ServerStats(double batches, double meanBatchRows, Map<String, Double> batchesByReason, double meanQueueMs,
    double meanComputeMs) {

  public static ServerStats between(MetricsSnapshot before, MetricsSnapshot after, String function) {
    // inferium_batch_size_rows since the unit was added; the old name still read, to compare with older builds.
    String size = after.has("inferium_batch_size_rows_count") ? "inferium_batch_size_rows" : "inferium_batch_size";
    double batches = delta(before, after, size + "_count", function);
    double rows = delta(before, after, size + "_sum", function);
    Map<String, Double> reasons = new TreeMap<>();
    Map<String, Double> was = before.byLabel("inferium_batches_total", function, "reason");
    after.byLabel("inferium_batches_total", function, "reason").forEach((k, v) -> {
      double d = v - was.getOrDefault(k, 0.0);
      if (d > 0) {
        reasons.put(k, d);
      }
    });
    return new ServerStats(batches, ratio(rows, batches), reasons,
        1000 * meanOf(before, after, "inferium_queue_duration_seconds", function),
        1000 * meanOf(before, after, "inferium_compute_duration_seconds", function));
  }

  private static double meanOf(MetricsSnapshot before, MetricsSnapshot after, String base, String function) {
    return ratio(delta(before, after, base + "_sum", function), delta(before, after, base + "_count", function));
  }

  private static double delta(MetricsSnapshot before, MetricsSnapshot after, String name, String function) {
    return after.sum(name, function) - before.sum(name, function);
  }

  private static double ratio(double a, double b) {
    return b == 0 ? Double.NaN : a / b;
  }

  public JsonObject toJson() {
    JsonObject reasons = new JsonObject();
    batchesByReason.forEach((k, v) -> reasons.put(k, Math.round(v)));
    return new JsonObject().put("batches", Math.round(batches)).put("mean_batch_rows", num(meanBatchRows))
        .put("batches_by_reason", reasons).put("mean_queue_ms", num(meanQueueMs)).put("mean_compute_ms", num(meanComputeMs));
  }

  private static Object num(double v) {
    return Double.isNaN(v) ? null : LoadResult.round(v);
  }
}
