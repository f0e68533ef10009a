package io.inferium.infra.testing;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * The one way tests wait: for a future with a limit, or for a condition polled with a deadline
 * (never a bare sleep). Polling starts at 5 ms and backs off to 100 ms, so fast conditions are seen
 * fast and slow ones do not spin. A timeout fails with what was awaited and the last value seen.
 */
public final class Eventually {

  /** How long a wait lasts when the test does not say. */
  public static final Duration DEFAULT_LIMIT = Duration.ofSeconds(30);
  private static final long FIRST_PAUSE_MS = 5;
  private static final long MAX_PAUSE_MS = 100;

  /** A check that may throw (an HTTP call, a query). */
  @FunctionalInterface
  public interface Probe<T> {
    T get() throws Exception;
  }

  private Eventually() {
  }

  /** The future's result, failing the test if it fails or does not complete within {@link #DEFAULT_LIMIT}. */
  public static <T> T await(Future<T> future) {
    return await(future, DEFAULT_LIMIT);
  }

  /** The future's result, failing the test if it fails or does not complete within {@code limit}. */
  public static <T> T await(Future<T> future, Duration limit) {
    try {
      return future.await(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("future not complete within " + limit.toMillis() + " ms", e);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError("future failed: " + e, e);
    }
  }

  /** Why the future failed, failing the test if it succeeds or does not complete within {@link #DEFAULT_LIMIT}. */
  public static Throwable failure(Future<?> future) {
    try {
      future.await(DEFAULT_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("future not complete within " + DEFAULT_LIMIT.toMillis() + " ms", e);
    } catch (Throwable expected) {
      return future.failed() ? future.cause() : expected;
    }
    throw new AssertionError("expected a failure, got " + future.result());
  }

  /** Polls until {@code done} holds, for at most {@link #DEFAULT_LIMIT}. */
  public static void until(String what, BooleanSupplier done) {
    until(what, DEFAULT_LIMIT, done);
  }

  /** Polls until {@code done} holds, failing with {@code what} after {@code limit}. */
  public static void until(String what, Duration limit, BooleanSupplier done) {
    value(what, limit, done::getAsBoolean, Boolean::booleanValue);
  }

  /**
   * Polls {@code probe} until its value satisfies {@code done} and returns that value; fails after
   * {@code limit} naming {@code what} and the last value (or the last exception the probe threw).
   */
  public static <T> T value(String what, Duration limit, Probe<T> probe, Predicate<T> done) {
    long deadline = System.nanoTime() + limit.toNanos();
    long pause = FIRST_PAUSE_MS;
    T last = null;
    Exception lastError = null;
    while (true) {
      try {
        last = probe.get();
        lastError = null;
        if (done.test(last)) {
          return last;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      } catch (Exception e) {
        lastError = e;
      }
      if (System.nanoTime() >= deadline) {
        AssertionError failure = new AssertionError(what + " not reached within " + limit.toMillis() + " ms; last: "
            + (lastError != null ? lastError : last));
        if (lastError != null) {
          failure.initCause(lastError);
        }
        throw failure;
      }
      try {
        Thread.sleep(Math.min(pause, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
      pause = Math.min(MAX_PAUSE_MS, pause * 2);
    }
  }
}
