package io.inferium.infra.events;

import io.vertx.core.Future;

/** A group's running consumption of one topic. */
public interface EventSubscription {

  /** Records appended but not yet committed by this group (what the lag metric shows). */
  long lag();

  /** Stops delivering; completes after the batch in progress (if any) has finished. */
  Future<Void> close();
}
