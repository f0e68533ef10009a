package io.inferium.loadtest;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * One streaming run: tokens delivered with text inside the measured window, generations that
 * ended in it (and their tokens by usage, end-of-sequence included), time to first token and
 * inter-token latency in microseconds.
 *
 * @param label            what ran: {@code in-process}, {@code batching on}, {@code batching off}
 * @param concurrency      streams at once (closed loop)
 * @param seconds          length of the measured window
 * @param tokens           tokens with text that arrived in the window
 * @param generations      generations that ended in the window
 * @param completionTokens usage completion tokens of those generations
 * @param errors           failures in the window by kind
 * @param ttft             time to first token, microseconds
 * @param itl              inter-token latency, microseconds
 * @param gatewayTtftMs    the gateway's own mean time from request arrival to first token over the run
 *                         (warm-up included), from {@code /metrics}; NaN in-process
 * @param cores            cores busy per process group over the run, warm-up included ({@link ProcessCpu})
 */
public record StreamingResult(String label, int concurrency, double seconds, long tokens, long generations,
    long completionTokens, Map<String, Long> errors, Histogram ttft, Histogram itl, double gatewayTtftMs,
    Map<String, Double> cores) {

  public StreamingResult {
    errors = Map.copyOf(new TreeMap<>(errors));
    cores = Map.copyOf(new TreeMap<>(cores));
  }

  /** This result with the cores each process group kept busy. */
  public StreamingResult withCores(Map<String, Double> busy) {
    return new StreamingResult(label, concurrency, seconds, tokens, generations, completionTokens, errors, ttft, itl,
        gatewayTtftMs, busy);
  }

  /** This result with the gateway's mean time to first token. */
  public StreamingResult withGatewayTtft(double ms) {
    return new StreamingResult(label, concurrency, seconds, tokens, generations, completionTokens, errors, ttft, itl, ms,
        cores);
  }

  /**
   * This run and {@code other} (the same label and concurrency, another round) as one: windows, counts
   * and histograms added, so tokens/s is the total over the total measured time; the gateway's mean
   * TTFT is weighted by generations.
   */
  public StreamingResult merge(StreamingResult other) {
    if (!label.equals(other.label) || concurrency != other.concurrency) {
      throw new IllegalArgumentException("cannot merge " + label + " c=" + concurrency + " with " + other.label
          + " c=" + other.concurrency);
    }
    Map<String, Long> allErrors = new TreeMap<>(errors);
    other.errors.forEach((k, v) -> allErrors.merge(k, v, Long::sum));
    Histogram allTtft = ttft.copy();
    allTtft.add(other.ttft);
    Histogram allItl = itl.copy();
    allItl.add(other.itl);
    double gateway = Double.isNaN(gatewayTtftMs) ? other.gatewayTtftMs
        : Double.isNaN(other.gatewayTtftMs) || generations + other.generations == 0 ? gatewayTtftMs
        : (gatewayTtftMs * generations + other.gatewayTtftMs * other.generations) / (generations + other.generations);
    Map<String, Double> allCores = new TreeMap<>();
    double total = seconds + other.seconds;
    cores.forEach((k, v) -> allCores.merge(k, v * seconds / total, Double::sum));
    other.cores.forEach((k, v) -> allCores.merge(k, v * other.seconds / total, Double::sum));
    return new StreamingResult(label, concurrency, total, tokens + other.tokens, generations + other.generations,
        completionTokens + other.completionTokens, allErrors, allTtft, allItl, gateway, allCores);
  }

  public double tokensPerSecond() {
    return seconds <= 0 ? 0 : tokens / seconds;
  }

  /** Mean usage tokens per generation that ended in the window; NaN when none did. */
  public double tokensPerGeneration() {
    return generations == 0 ? Double.NaN : (double) completionTokens / generations;
  }

  public double ttftMs(double percentile) {
    return ms(ttft, percentile);
  }

  public double itlMs(double percentile) {
    return ms(itl, percentile);
  }

  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }

  public JsonObject toJson() {
    return new JsonObject().put("label", label).put("concurrency", concurrency).put("seconds", seconds)
        .put("tokens", tokens).put("tokens_per_s", LoadResult.round(tokensPerSecond()))
        .put("generations", generations).put("completion_tokens", completionTokens)
        .put("errors", new JsonObject(new TreeMap<>(errors)))
        .put("ttft_ms", LoadResult.percentiles(ttft)).put("itl_ms", LoadResult.percentiles(itl))
        .put("gateway_ttft_mean_ms", Double.isNaN(gatewayTtftMs) ? null : LoadResult.round(gatewayTtftMs))
        .put("cores_busy", coresJson());
  }

  private JsonObject coresJson() {
    JsonObject o = new JsonObject();
    cores.forEach((k, v) -> o.put(k, LoadResult.round(v)));
    return o;
  }
}
