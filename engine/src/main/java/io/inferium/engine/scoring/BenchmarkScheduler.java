package io.inferium.engine.scoring;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionStore;
import io.inferium.scoring.eval.EvalStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when benchmarks run: a served version that has never been run on a dataset that applies
 * to it (its own or its category's) runs at once (trigger {@code deploy}); one whose last run is
 * older than the interval runs again ({@code schedule}, daily by default). A failed run counts as a
 * run: it is retried at the next interval (or by hand), not at every scan. Work waits in a bounded
 * queue (64, duplicates skipped) and one run executes at a time.
 */
public final class BenchmarkScheduler {

  private static final Logger log = LoggerFactory.getLogger(BenchmarkScheduler.class);
  static final int MAX_QUEUED = 64;

  /** Runs one benchmark. */
  @FunctionalInterface
  public interface Run {
    Future<JsonObject> run(FunctionRecord fn, EvalStore.Dataset ds, String trigger);
  }

  private record Job(FunctionRecord fn, EvalStore.Dataset ds, String trigger) {
    String key() {
      return fn.ref() + "|" + ds.id();
    }
  }

  private final Vertx vertx;
  private final FunctionStore functions;
  private final EvalStore evals;
  private final Run run;
  private final long pollMs;
  private final long intervalMs;
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  private final Set<String> pending = new HashSet<>();
  private boolean running;
  private boolean scanning;
  private long timer = -1;

  BenchmarkScheduler(Vertx vertx, FunctionStore functions, EvalStore evals, Run run, long pollMs, long intervalMs) {
    this.vertx = vertx;
    this.functions = functions;
    this.evals = evals;
    this.run = run;
    this.pollMs = pollMs;
    this.intervalMs = intervalMs;
  }

  void start() {
    timer = vertx.setPeriodic(10, pollMs, id -> scan());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** Looks for due work now (after a dataset upload, say) instead of at the next tick. */
  public void poke() {
    vertx.runOnContext(v -> scan());
  }

  private void scan() {
    if (scanning) {
      return;
    }
    scanning = true;
    functions.served().compose(fns -> {
      Future<Void> chain = Future.succeededFuture();
      for (FunctionRecord fn : fns) {
        if (fn.spec().category() == null || !BenchmarkRunner.supports(fn)) {
          continue;
        }
        chain = chain.compose(v -> evals.applicable(fn.name(), fn.spec().category(), fn.owner()).compose(sets -> consider(fn, sets)));
      }
      return chain;
    }).onComplete(ar -> {
      scanning = false;
      if (ar.failed()) {
        log.warn("Benchmark scan failed: {}", ar.cause().toString());
      }
      drain();
    });
  }

  private Future<Void> consider(FunctionRecord fn, List<EvalStore.Dataset> sets) {
    Future<Void> chain = Future.succeededFuture();
    for (EvalStore.Dataset ds : sets) {
      if (!BenchmarkRunner.fits(fn, ds)) {
        continue;
      }
      chain = chain.compose(v -> evals.lastRun(fn.name(), fn.version(), ds.id()).map(last -> {
        if (last.isEmpty()) {
          enqueue(new Job(fn, ds, "deploy"));
        } else if (last.get().isBefore(OffsetDateTime.now().minusNanos(intervalMs * 1_000_000L))) {
          enqueue(new Job(fn, ds, "schedule"));
        }
        return null;
      }));
    }
    return chain;
  }

  private void enqueue(Job job) {
    if (pending.contains(job.key()) || queue.size() >= MAX_QUEUED) {
      return;
    }
    pending.add(job.key());
    queue.add(job);
  }

  private void drain() {
    if (running || queue.isEmpty()) {
      return;
    }
    Job job = queue.poll();
    running = true;
    run.run(job.fn(), job.ds(), job.trigger()).onComplete(ar -> {
      running = false;
      pending.remove(job.key());
      if (ar.failed()) {
        log.warn("Benchmark of {} on {} failed: {}", job.fn().ref(), job.ds().name(), ar.cause().toString());
      } else {
        JsonObject r = ar.result();
        log.info("Benchmark of {} on {} ({}): {} {} = {}{}", job.fn().ref(), job.ds().name(), job.trigger(), r.getString("state"),
            r.getString("primary_metric"), r.getValue("primary_value"),
            Boolean.TRUE.equals(r.getBoolean("dropped")) ? " (DROPPED from " + r.getValue("previous_value") + ")" : "");
      }
      drain();
    });
  }
}
