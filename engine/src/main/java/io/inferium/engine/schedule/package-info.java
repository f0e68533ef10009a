/**
 * The one shape every scheduler has (admission, bounded queues, deadlines, priorities,
 * back-pressure, failover) and the pieces its implementations share: the tensor mempool
 * ({@code mempool.Mempool}, batches formed Triton-style) and the token-level text scheduler
 * ({@code text.Generations}, continuous batching on the worker). Depends only on the failure types,
 * so the gateway's autoscaler can read {@link io.inferium.engine.schedule.SchedulerLoad} without
 * knowing either implementation.
 */
package io.inferium.engine.schedule;
