package io.inferium.engine.scoring;

import io.inferium.engine.failure.NoWorkerAvailable;
import io.inferium.engine.failure.QueueFull;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * How a benchmark sends its requests: at most a few outstanding at once, the next one going out
 * when one comes back, every answer handled on one context; and, for the text paths that answer
 * "busy" rather than queue (no worker free, a full queue), a polite retry so a benchmark waits
 * behind callers instead of failing.
 */
final class RequestWindow {

  /** Pause before asking a busy serving path again. */
  static final long BUSY_RETRY_MS = 50;

  private RequestWindow() {}

  /**
   * Sends requests {@code 0 .. count-1} with at most {@code inFlight} outstanding; the answers in
   * order, or the first failure (after which nothing new is sent).
   */
  static <T> Future<List<T>> run(Vertx vertx, int count, int inFlight, IntFunction<Future<T>> request) {
    Context context = vertx.getOrCreateContext();
    List<T> answers = new ArrayList<>(Collections.nCopies(count, null));
    Promise<List<T>> done = Promise.promise();
    int[] next = {0};
    int[] finished = {0};
    Runnable[] launch = new Runnable[1];
    launch[0] = () -> {
      if (done.future().isComplete() || next[0] >= count) {
        return;
      }
      int i = next[0]++;
      Future<T> answer;
      try {
        answer = request.apply(i);
      } catch (RuntimeException e) {
        answer = Future.failedFuture(e);
      }
      answer.onComplete(ar -> context.runOnContext(v -> {
        if (ar.failed()) {
          done.tryFail(ar.cause());
          return;
        }
        answers.set(i, ar.result());
        if (++finished[0] == count) {
          done.tryComplete(answers);
        } else {
          launch[0].run();
        }
      }));
    };
    if (count == 0) {
      return Future.succeededFuture(answers);
    }
    context.runOnContext(v -> {
      for (int i = 0; i < inFlight; i++) {
        launch[0].run();
      }
    });
    return done.future();
  }

  /** Tries again while the answer is "busy" and the deadline leaves room for another try. */
  static <T> Future<T> whenFree(Vertx vertx, Supplier<Future<T>> attempt, long deadlineNanos) {
    return attempt.get().recover(err -> {
      boolean busy = err instanceof NoWorkerAvailable || err instanceof QueueFull;
      if (busy && System.nanoTime() + BUSY_RETRY_MS * 2_000_000L < deadlineNanos) {
        return vertx.timer(BUSY_RETRY_MS).compose(v -> whenFree(vertx, attempt, deadlineNanos));
      }
      return Future.failedFuture(err);
    });
  }

  /** p50 and p95 of request latencies, in milliseconds (nearest rank below / above, as the tensor runs report them). */
  static double[] percentilesMs(long[] latencyNanos) {
    if (latencyNanos.length == 0) {
      return new double[] {0, 0};
    }
    long[] sorted = latencyNanos.clone();
    Arrays.sort(sorted);
    return new double[] {sorted[(int) Math.floor(0.5 * (sorted.length - 1))] / 1e6,
        sorted[(int) Math.ceil(0.95 * (sorted.length - 1))] / 1e6};
  }
}
