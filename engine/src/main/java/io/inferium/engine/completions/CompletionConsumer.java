package io.inferium.engine.completions;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import java.util.function.Supplier;

/**
 * A consumer of completion events (billing, the leaderboard's users) on a context of its own: a worker context,
 * so its batches (event decoding, database encoding) never queue behind or in front of requests on the HTTP
 * event loop. Its subscription is made in {@link #start}, so the event log hands it its batches there.
 */
public final class CompletionConsumer extends VerticleBase {

  private final Supplier<Future<Void>> subscribe;
  private final Supplier<Future<Void>> unsubscribe;

  /** {@code subscribe} starts consuming (on this verticle's context), {@code unsubscribe} stops. */
  public CompletionConsumer(Supplier<Future<Void>> subscribe, Supplier<Future<Void>> unsubscribe) {
    this.subscribe = subscribe;
    this.unsubscribe = unsubscribe;
  }

  /** How a consumer is deployed: one instance on a worker context (tasks in order, one at a time). */
  public static DeploymentOptions options() {
    return new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER);
  }

  @Override
  public Future<?> start() {
    return subscribe.get();
  }

  @Override
  public Future<?> stop() {
    return unsubscribe.get();
  }
}
