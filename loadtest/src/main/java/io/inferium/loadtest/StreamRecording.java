package io.inferium.loadtest;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Tokens, time to first token and inter-token latency of one streaming run, counted inside a
 * measured window: a token counts, and its latency is recorded, when it <em>arrives</em> in the
 * window, so streams that straddle the window's edges contribute exactly their tokens inside it and
 * tokens/s is not skewed by generations cut at the edges. Time to first token runs from the send
 * (or submit) to the first token with text; inter-token latency from one such token to the next of
 * the same stream. Timestamps are {@link System#nanoTime()} values passed in, so the arithmetic is
 * testable without a clock. Used from one thread or one Vert.x context at a time: no locking.
 */
final class StreamRecording {

  private final long windowStart;
  private final long windowEnd;
  private final Histogram ttft = new Histogram(Recording.MAX_MICROS, 3);
  private final Histogram itl = new Histogram(Recording.MAX_MICROS, 3);
  private final Map<String, Long> errors = new HashMap<>();
  private long tokens;
  private long generations;
  private long completionTokens;

  StreamRecording(long windowStartNanos, long windowEndNanos) {
    if (windowEndNanos <= windowStartNanos) {
      throw new IllegalArgumentException("the window must have a positive length");
    }
    this.windowStart = windowStartNanos;
    this.windowEnd = windowEndNanos;
  }

  /** One generation, from its send (or submit) at {@code sentNanos}. */
  Stream open(long sentNanos) {
    return new Stream(sentNanos);
  }

  boolean inWindow(long t) {
    return t >= windowStart && t <= windowEnd;
  }

  /** A failure seen at {@code nowNanos}, by kind ({@code http 429}, an exception's class). */
  void error(String kind, long nowNanos) {
    if (inWindow(nowNanos)) {
      errors.merge(kind, 1L, Long::sum);
    }
  }

  StreamingResult result(String label, int concurrency) {
    return new StreamingResult(label, concurrency, (windowEnd - windowStart) / 1e9, tokens, generations,
        completionTokens, errors, ttft, itl, Double.NaN,
        Map.of());
  }

  /** One generation's progress. */
  final class Stream {
    private final long sent;
    private boolean started;
    private long last;

    private Stream(long sentNanos) {
      this.sent = sentNanos;
    }

    /** A token with text arrived at {@code nowNanos}. */
    void token(long nowNanos) {
      if (inWindow(nowNanos)) {
        tokens++;
        (started ? itl : ttft).recordValue(micros(nowNanos - (started ? last : sent)));
      }
      started = true;
      last = nowNanos;
    }

    /** The generation ended at {@code nowNanos}, having generated {@code completion} tokens (its usage). */
    void finished(long nowNanos, int completion) {
      if (inWindow(nowNanos)) {
        generations++;
        completionTokens += completion;
      }
    }

    boolean started() {
      return started;
    }
  }

  private static long micros(long nanos) {
    return Math.min(Recording.MAX_MICROS, Math.max(0, TimeUnit.NANOSECONDS.toMicros(nanos)));
  }
}
