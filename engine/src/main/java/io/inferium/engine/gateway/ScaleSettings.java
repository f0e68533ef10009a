package io.inferium.engine.gateway;

/**
 * Serverless scaling.
 *
 * @param minWorkers      the pool never shrinks below this
 * @param maxWorkers      nor grows above this (equal to min: a fixed pool)
 * @param idleUnloadMs    a model unused this long on a worker is unloaded there (scale to zero);
 *                        functions with {@code keep_warm} are exempt
 * @param scaleUpAfterMs  requests waiting for a free worker this long add a worker
 * @param scaleDownAfterMs no batch for this long retires a worker
 * @param tickMs          how often the controller looks
 */
public record ScaleSettings(int minWorkers, int maxWorkers, long idleUnloadMs, long scaleUpAfterMs,
    long scaleDownAfterMs, long tickMs) {

  public static final long DEFAULT_IDLE_UNLOAD_MS = 300_000;
  public static final long DEFAULT_SCALE_UP_AFTER_MS = 2_000;
  public static final long DEFAULT_SCALE_DOWN_AFTER_MS = 60_000;
  public static final long DEFAULT_TICK_MS = 500;

  public static ScaleSettings fixed(int workers) {
    return new ScaleSettings(workers, workers, DEFAULT_IDLE_UNLOAD_MS, DEFAULT_SCALE_UP_AFTER_MS,
        DEFAULT_SCALE_DOWN_AFTER_MS, DEFAULT_TICK_MS);
  }
}
