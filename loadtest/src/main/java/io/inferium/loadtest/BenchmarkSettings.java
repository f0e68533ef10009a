package io.inferium.loadtest;

import java.time.Duration;
import java.util.List;

/**
 * What {@code benchmark} runs; defaults in {@link #defaults()}.
 *
 * @param workers     gateway worker processes, 0 for the server's default
 * @param dbUrl       {@code postgresql://} server to create a fresh database on, null for embedded
 * @param maxRequests cap on requests per run, warm-up included
 * @param model       the bundled model to serve
 * @param workerSlots batches one worker runs at once, 0 for the server's default
 * @param workerThreads ONNX Runtime intra-op threads per run in the workers, 0 for the server's default
 */
public record BenchmarkSettings(Duration warmup, Duration duration, List<Integer> concurrencies, int workers, String dbUrl,
    int maxBatchSize, List<Integer> queueDelaysMs, boolean binary, List<OrtCeiling.Layout> ceilingLayouts,
    List<Integer> ceilingBatches, Duration ceilingEach, List<Double> openFractions, int openConnections, long maxRequests,
    BenchModel model, int workerSlots, int workerThreads) {

  public static final List<Integer> DEFAULT_CONCURRENCIES = List.of(1, 2, 4, 8, 16, 32, 64);
  public static final List<Integer> DEFAULT_QUEUE_DELAYS_MS = List.of(0, 2);
  public static final List<Integer> DEFAULT_CEILING_BATCHES = List.of(1, 8, 32, 64);
  public static final List<OrtCeiling.Layout> DEFAULT_CEILING_LAYOUTS =
      List.of(new OrtCeiling.Layout(1, 1), new OrtCeiling.Layout(1, 2), new OrtCeiling.Layout(2, 1));
  public static final List<Double> DEFAULT_OPEN_FRACTIONS = List.of(0.5, 0.8);
  public static final long DEFAULT_MAX_REQUESTS = 5_000_000;

  public static BenchmarkSettings defaults() {
    return new BenchmarkSettings(Duration.ofSeconds(1), Duration.ofSeconds(4), DEFAULT_CONCURRENCIES, 0, null, 64,
        DEFAULT_QUEUE_DELAYS_MS, false, DEFAULT_CEILING_LAYOUTS, DEFAULT_CEILING_BATCHES, Duration.ofSeconds(2),
        DEFAULT_OPEN_FRACTIONS, 64, DEFAULT_MAX_REQUESTS, BenchModel.MLP, 0, 0);
  }
}
