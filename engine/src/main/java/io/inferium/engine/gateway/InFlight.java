package io.inferium.engine.gateway;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A worker's in-flight count against its limit, as the dispatching side sees it (counted when a call
 * is reserved, not when the worker reports): each reserved call takes one place; all running
 * generations together take one, since the worker advances them in one decode loop. Readable from
 * any thread.
 */
public final class InFlight {

  private volatile int limit;
  private final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger generations = new AtomicInteger();

  public InFlight(int limit) {
    this.limit = limit;
  }

  /**
   * Changes the limit (a remote node's credits, granted within the gateway's cap; 0 while it drains).
   * Calls already in flight stay; no new one is placed until the count is below the new limit.
   */
  public void limit(int limit) {
    this.limit = Math.max(0, limit);
  }

  public int limit() {
    return limit;
  }

  /** Whether no further call fits now. */
  public boolean full() {
    return calls.get() + (generations.get() > 0 ? 1 : 0) >= limit;
  }

  /** Calls reserved and not yet released, generations not counted. */
  public int calls() {
    return calls.get();
  }

  /** Calls and generations reserved and not yet released (the load a picker compares). */
  public int reserved() {
    return calls.get() + generations.get();
  }

  public void reserveCall() {
    calls.incrementAndGet();
  }

  public void releaseCall() {
    calls.decrementAndGet();
  }

  public void reserveGeneration() {
    generations.incrementAndGet();
  }

  public void releaseGeneration() {
    generations.decrementAndGet();
  }
}
