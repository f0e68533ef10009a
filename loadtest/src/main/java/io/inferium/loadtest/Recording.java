package io.inferium.loadtest;

import io.vertx.core.AsyncResult;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Counts and latencies of one run's answers. Throughput counts ok answers that complete inside the
 * measured window. Latencies and errors are kept for answers that complete in the window (closed
 * loop) or for requests <em>scheduled</em> in the window however late they complete (open loop):
 * dropping the late ones would hide exactly the stalls an open loop is there to show. Used from one
 * Vert.x context only (the run's), so it needs no locking.
 */
final class Recording {

  /** Longest latency the histograms track: a minute, in microseconds; longer ones are clamped. */
  static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(1);

  private final long windowStart;
  private final long windowEnd;
  private final Histogram latency = new Histogram(MAX_MICROS, 3);
  private final Map<String, Long> errors = new HashMap<>();
  private final boolean openLoop;
  private long okInWindow;

  private Recording(long windowStartNanos, long windowEndNanos, boolean openLoop) {
    this.windowStart = windowStartNanos;
    this.windowEnd = windowEndNanos;
    this.openLoop = openLoop;
  }

  static Recording closedLoop(long windowStartNanos, long windowEndNanos) {
    return new Recording(windowStartNanos, windowEndNanos, false);
  }

  static Recording openLoop(long windowStartNanos, long windowEndNanos) {
    return new Recording(windowStartNanos, windowEndNanos, true);
  }

  /**
   * Records one answer that completed at {@code done}; its latency starts at {@code origin}: the
   * send for a closed loop, the intended send time on the schedule for an open loop.
   */
  void record(AsyncResult<HttpResponse<Buffer>> ar, long origin, long done) {
    boolean ok = ar.succeeded() && ar.result().statusCode() / 100 == 2;
    if (ok && inWindow(done)) {
      okInWindow++;
    }
    if (!inWindow(openLoop ? origin : done)) {
      return;
    }
    if (ok) {
      latency.recordValue(micros(done - origin));
    } else {
      errors.merge(errorKind(ar), 1L, Long::sum);
    }
  }

  private boolean inWindow(long t) {
    return t >= windowStart && t <= windowEnd;
  }

  static String errorKind(AsyncResult<HttpResponse<Buffer>> ar) {
    if (ar.succeeded()) {
      return "http " + ar.result().statusCode();
    }
    Throwable t = ar.cause();
    String name = t.getClass().getSimpleName();
    String msg = t.getMessage() == null ? "" : t.getMessage();
    // Keep the key short and bounded: the kind of failure, not every message.
    return "io " + name + (msg.length() > 60 ? ": " + msg.substring(0, 60) : msg.isEmpty() ? "" : ": " + msg);
  }

  private static long micros(long nanos) {
    return Math.min(MAX_MICROS, Math.max(0, TimeUnit.NANOSECONDS.toMicros(nanos)));
  }

  LoadResult result(String label, int concurrency, double rate) {
    double seconds = (windowEnd - windowStart) / 1e9;
    return new LoadResult(label, openLoop ? "open" : "closed", concurrency, rate, seconds, okInWindow, errors, latency);
  }
}
