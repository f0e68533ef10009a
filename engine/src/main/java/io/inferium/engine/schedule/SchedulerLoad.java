package io.inferium.engine.schedule;

import java.util.List;

/**
 * How loaded a scheduler is, readable from any thread: what the autoscaler needs to add workers under
 * a backlog and retire them when idle.
 */
public interface SchedulerLoad {

  /** Jobs waiting in every queue. */
  int queued();

  /** Whether jobs are waiting because no worker has room. */
  boolean waitingForCapacity();

  /** {@link System#nanoTime} of the last dispatch to a worker. */
  long lastDispatchNanos();

  /** Several schedulers read as one: queued jobs add up, the latest dispatch counts. */
  static SchedulerLoad of(List<? extends SchedulerLoad> parts) {
    List<SchedulerLoad> all = List.copyOf(parts);
    return new SchedulerLoad() {
      @Override
      public int queued() {
        return all.stream().mapToInt(SchedulerLoad::queued).sum();
      }

      @Override
      public boolean waitingForCapacity() {
        return all.stream().anyMatch(SchedulerLoad::waitingForCapacity);
      }

      @Override
      public long lastDispatchNanos() {
        long latest = Long.MIN_VALUE;
        for (SchedulerLoad l : all) {
          long t = l.lastDispatchNanos();
          // nanoTime values compare by difference, never by value (they may be negative or wrap).
          if (latest == Long.MIN_VALUE || t - latest > 0) {
            latest = t;
          }
        }
        return latest;
      }
    };
  }
}
