package io.inferium.engine.schedule;

/**
 * Admits work, queues it while no worker has room, and dispatches it to workers, answering every
 * submission exactly once on the submitting context. Both implementations keep to the same rules:
 *
 * <ul>
 *   <li>every queue is bounded, per function and in total ({@link Admission}); beyond a bound the
 *       answer is {@link io.inferium.engine.failure.QueueFull} (HTTP 429 with Retry-After);
 *   <li>every job has a deadline, enforced while queued and while running
 *       ({@link io.inferium.engine.failure.DeadlineExceeded}; a running call is withdrawn, the node
 *       charged if it does not stop);
 *   <li>lower priority numbers are served first, FIFO within a level ({@link Levels});
 *   <li>a job whose worker is lost is dispatched again, a bounded number of times and never after it
 *       streamed anything ({@link Failover});
 *   <li>a client that leaves ({@link Ticket#cancel()}) is answered
 *       {@link io.inferium.engine.failure.ClientGone} and its call withdrawn without charging the node.
 * </ul>
 *
 * @param <J> what is submitted
 * @param <R> what a submission is answered with
 */
public interface Scheduler<J, R> extends SchedulerLoad {

  /** Admits {@code job} (or fails the ticket at once with why not); the answer arrives on the caller's context. */
  Ticket<R> submit(J job);
}
