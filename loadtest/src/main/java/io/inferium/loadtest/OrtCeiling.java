package io.inferium.loadtest;

import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.ExecutionDevice;
import io.inferium.functions.runtime.LoadedModel;
import io.inferium.functions.runtime.ModelRunException;
import io.inferium.functions.runtime.OnnxRunner;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * The ceiling: ONNX Runtime called in-process in a tight loop, no HTTP, no JSON, no worker hop.
 * Tries each batch size with a few thread layouts and reports rows per second. The benchmark's own
 * model is trusted, so loading it in this JVM is fine (the gateway never does this). All runs are
 * on threads with an 8 MiB stack (ONNX Runtime 1.29 can overflow a 1 MiB one).
 */
public final class OrtCeiling {

  static final long STACK_BYTES = 8L << 20;

  /**
   * Callers running {@code Session.run} at once, each with {@code intraOpThreads} runtime threads;
   * {@code spinning} as {@link OnnxRunner#create(ExecutionDevice, int, boolean)} takes it.
   */
  public record Layout(int callers, int intraOpThreads, boolean spinning) {
    /** With the runtime's default, spinning on. */
    public Layout(int callers, int intraOpThreads) {
      this(callers, intraOpThreads, true);
    }

    @Override
    public String toString() {
      return callers + "×" + intraOpThreads + (spinning || intraOpThreads == 1 ? "" : " (no spinning)");
    }
  }

  /**
   * One measurement.
   *
   * @param rowsPerSecond  rows through the model per second, all callers together
   * @param batchLatencyUs per-run latency of one caller, microseconds
   * @param cpuUsPerRow    CPU time of this whole process per row over the measured window (NaN if unknown),
   *                       to compare with a worker's CPU per row
   */
  public record Point(Layout layout, int batch, double rowsPerSecond, Histogram batchLatencyUs, double cpuUsPerRow) {
    public Point(Layout layout, int batch, double rowsPerSecond, Histogram batchLatencyUs) {
      this(layout, batch, rowsPerSecond, batchLatencyUs, Double.NaN);
    }

    public double p50Ms() {
      return batchLatencyUs.getValueAtPercentile(50) / 1000.0;
    }

    public JsonObject toJson() {
      return new JsonObject().put("callers", layout.callers()).put("intra_op_threads", layout.intraOpThreads())
          .put("batch", batch).put("rows_per_s", LoadResult.round(rowsPerSecond))
          .put("cpu_us_per_row", Double.isNaN(cpuUsPerRow) ? null : LoadResult.round(cpuUsPerRow))
          .put("run_latency_ms", LoadResult.percentiles(batchLatencyUs));
    }
  }

  private final Path model;
  private final String input;
  private final long[] rowShape;

  public OrtCeiling(Path model, String input, int width) {
    this(model, input, new long[] {width});
  }

  /** @param rowShape one row's dimensions, without the leading batch dimension */
  public OrtCeiling(Path model, String input, long[] rowShape) {
    this.model = model;
    this.input = input;
    this.rowShape = rowShape.clone();
  }

  /** Measures every layout × batch size, each for {@code each} after a short warm-up. */
  public List<Point> measure(List<Layout> layouts, List<Integer> batches, Duration each) throws Exception {
    List<Point> out = new ArrayList<>();
    for (Layout layout : layouts) {
      LoadedModel loaded = onBigStack(() -> OnnxRunner.create(ExecutionDevice.CPU, layout.intraOpThreads(), layout.spinning())
          .load(model));
      try {
        for (int batch : batches) {
          out.add(measure(loaded, layout, batch, each));
        }
      } finally {
        loaded.close();
      }
    }
    return out;
  }

  private Point measure(LoadedModel loaded, Layout layout, int batch, Duration each) throws Exception {
    Tensor x = input(batch);
    long warmupEnd = System.nanoTime() + Math.min(TimeUnit.MILLISECONDS.toNanos(300), each.toNanos() / 4);
    long end = warmupEnd + each.toNanos();
    AtomicLong rows = new AtomicLong();
    Histogram latency = new Histogram(Recording.MAX_MICROS, 3);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < layout.callers(); c++) {
      Histogram mine = c == 0 ? latency : null;
      Thread t = new Thread(null, () -> {
        try {
          loop(loaded, x, batch, warmupEnd, end, rows, mine);
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }, "ort-ceiling-" + c, STACK_BYTES);
      threads.add(t);
      t.start();
    }
    sleepUntil(warmupEnd);
    long cpu0 = ProcessCpu.selfCpuNanos();
    sleepUntil(end);
    long cpu1 = ProcessCpu.selfCpuNanos();
    for (Thread t : threads) {
      t.join(each.toMillis() + 60_000);
    }
    if (failure.get() != null) {
      throw new IllegalStateException("in-process run failed: " + failure.get().getMessage(), failure.get());
    }
    double cpuUsPerRow = cpu0 < 0 || cpu1 < 0 || rows.get() == 0 ? Double.NaN : (cpu1 - cpu0) / 1e3 / rows.get();
    return new Point(layout, batch, rows.get() / (each.toNanos() / 1e9), latency, cpuUsPerRow);
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    for (long left = nanos - System.nanoTime(); left > 0; left = nanos - System.nanoTime()) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  /** Bounded by time and by a run count well above what the time allows. */
  private static void loop(LoadedModel loaded, Tensor x, int batch, long warmupEnd, long end, AtomicLong rows,
      Histogram latency) throws ModelRunException {
    Cancellation never = new Cancellation();
    for (long i = 0; i < 100_000_000L; i++) {
      long t0 = System.nanoTime();
      if (t0 >= end) {
        return;
      }
      loaded.run(List.of(x), List.of(), never);
      long t1 = System.nanoTime();
      if (t0 >= warmupEnd && t1 <= end) {
        rows.addAndGet(batch);
        if (latency != null) {
          latency.recordValue(Math.min(Recording.MAX_MICROS, (t1 - t0) / 1000));
        }
      }
    }
  }

  private Tensor input(int batch) {
    int width = InferBody.elements(rowShape);
    ByteBuffer data = ByteBuffer.allocateDirect(4 * batch * width).order(ByteOrder.LITTLE_ENDIAN);
    float[] row = InferBody.row(width, 1);
    for (int b = 0; b < batch; b++) {
      for (float v : row) {
        data.putFloat(v);
      }
    }
    data.flip();
    long[] shape = new long[rowShape.length + 1];
    shape[0] = batch;
    System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
    return new Tensor(input, DataType.FP32, shape, data);
  }

  interface BlockingCall<T> {
    T call() throws Exception;
  }

  static <T> T onBigStack(BlockingCall<T> call) throws Exception {
    AtomicReference<T> result = new AtomicReference<>();
    AtomicReference<Exception> failure = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        result.set(call.call());
      } catch (Exception e) {
        failure.set(e);
      }
    }, "ort-ceiling-load", STACK_BYTES);
    t.start();
    t.join(TimeUnit.MINUTES.toMillis(2));
    if (failure.get() != null) {
      throw failure.get();
    }
    if (result.get() == null) {
      throw new IllegalStateException("loading the model took over 2 minutes");
    }
    return result.get();
  }
}
