package io.inferium.engine.schedule;

import io.vertx.core.Future;

/**
 * One admitted submission: its answer, and the way its client says it left.
 *
 * @param <R> the answer
 */
public interface Ticket<R> {

  /** Completes exactly once, on the context that submitted the job. */
  Future<R> future();

  /** The client is gone: drop the job if queued, withdraw it (uncharged) if running. */
  void cancel();
}
