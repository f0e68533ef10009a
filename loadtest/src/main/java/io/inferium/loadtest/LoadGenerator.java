package io.inferium.loadtest;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;

/**
 * Drives one {@link LoadTarget} with a closed or an open loop. Each run gets its own HTTP client
 * and one event-loop context, which all its sends and answers use. Every run is bounded by time
 * (warm-up + duration, then answers still out get the request timeout) and by a request count.
 */
public final class LoadGenerator {

  /** Requests in flight, waiting for a connection, that an open loop tolerates before failing new ones. */
  public static final int DEFAULT_OPEN_BACKLOG = 10_000;

  /**
   * @param concurrency callers, each sending its next request when the previous one is answered
   * @param maxRequests cap on requests sent, warm-up included
   */
  public record ClosedPlan(int concurrency, Duration warmup, Duration duration, long maxRequests) {
    public ClosedPlan {
      if (concurrency < 1 || concurrency > 4096) {
        throw new IllegalArgumentException("concurrency must be 1..4096, got " + concurrency);
      }
      requirePositive(duration, maxRequests);
    }
  }

  /**
   * @param rate        requests per second on a fixed timeline
   * @param connections HTTP connections; more requests than that wait for one (their wait counts)
   * @param maxRequests cap on requests scheduled, warm-up included
   */
  public record OpenPlan(double rate, int connections, Duration warmup, Duration duration, long maxRequests) {
    public OpenPlan {
      if (!(rate > 0 && rate <= 1_000_000)) {
        throw new IllegalArgumentException("rate must be in (0, 1e6] requests/s, got " + rate);
      }
      if (connections < 1 || connections > 4096) {
        throw new IllegalArgumentException("connections must be 1..4096, got " + connections);
      }
      requirePositive(duration, maxRequests);
    }
  }

  private static void requirePositive(Duration duration, long maxRequests) {
    if (duration.isNegative() || duration.isZero() || maxRequests < 1) {
      throw new IllegalArgumentException("duration and maxRequests must be positive");
    }
  }

  private final Vertx vertx;

  public LoadGenerator(Vertx vertx) {
    this.vertx = vertx;
  }

  public Future<LoadResult> closedLoop(String label, LoadTarget target, ClosedPlan plan) {
    WebClient client = client(plan.concurrency(), 0);
    Context ctx = vertx.getOrCreateContext();
    Promise<LoadResult> done = Promise.promise();
    ctx.runOnContext(v -> new ClosedRun(label, target, plan, client, done).start());
    return done.future().andThen(ar -> client.close());
  }

  public Future<LoadResult> openLoop(String label, LoadTarget target, OpenPlan plan) {
    WebClient client = client(plan.connections(), DEFAULT_OPEN_BACKLOG);
    Context ctx = vertx.getOrCreateContext();
    Promise<LoadResult> done = Promise.promise();
    ctx.runOnContext(v -> new OpenRun(label, target, plan, client, done).start());
    return done.future().andThen(ar -> client.close());
  }

  private WebClient client(int connections, int waitQueue) {
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(connections);
    if (waitQueue > 0) {
      pool.setMaxWaitQueueSize(waitQueue);
    }
    return WebClient.create(vertx, new WebClientOptions().setKeepAlive(true).setTcpNoDelay(true), pool);
  }

  private final class ClosedRun {
    private final String label;
    private final LoadTarget target;
    private final ClosedPlan plan;
    private final WebClient client;
    private final Promise<LoadResult> done;
    private final long end;
    private final Recording rec;
    private long sent;
    private int active;

    ClosedRun(String label, LoadTarget target, ClosedPlan plan, WebClient client, Promise<LoadResult> done) {
      this.label = label;
      this.target = target;
      this.plan = plan;
      this.client = client;
      this.done = done;
      long start = System.nanoTime();
      long windowStart = start + plan.warmup().toNanos();
      this.end = windowStart + plan.duration().toNanos();
      this.rec = Recording.closedLoop(windowStart, end);
    }

    void start() {
      active = plan.concurrency();
      for (int i = 0; i < plan.concurrency(); i++) {
        next();
      }
    }

    private void next() {
      long now = System.nanoTime();
      if (now >= end || sent >= plan.maxRequests()) {
        if (--active == 0) {
          done.complete(rec.result(label, plan.concurrency(), 0));
        }
        return;
      }
      sent++;
      target.request(client).sendBuffer(target.body()).onComplete(ar -> {
        rec.record(ar, now, System.nanoTime());
        next();
      });
    }
  }

  private final class OpenRun {
    private final String label;
    private final LoadTarget target;
    private final OpenPlan plan;
    private final WebClient client;
    private final Promise<LoadResult> done;
    private final long start;
    private final long intervalNanos;
    private final long total;
    private final Recording rec;
    private long scheduled;
    private long outstanding;
    private long timer;

    OpenRun(String label, LoadTarget target, OpenPlan plan, WebClient client, Promise<LoadResult> done) {
      this.label = label;
      this.target = target;
      this.plan = plan;
      this.client = client;
      this.done = done;
      this.start = System.nanoTime();
      this.intervalNanos = Math.max(1, Math.round(1e9 / plan.rate()));
      long span = plan.warmup().toNanos() + plan.duration().toNanos();
      this.total = Math.min(plan.maxRequests(), span / intervalNanos);
      long windowStart = start + plan.warmup().toNanos();
      this.rec = Recording.openLoop(windowStart, windowStart + plan.duration().toNanos());
    }

    void start() {
      timer = vertx.setPeriodic(1, id -> tick());
      tick();
    }

    /** Sends every request whose time has come; a late tick catches up, each keeping its own intended time. */
    private void tick() {
      long now = System.nanoTime();
      while (scheduled < total && start + scheduled * intervalNanos <= now) {
        long intended = start + scheduled * intervalNanos;
        scheduled++;
        outstanding++;
        target.request(client).sendBuffer(target.body()).onComplete(ar -> {
          rec.record(ar, intended, System.nanoTime());
          outstanding--;
          finishIfDone();
        });
      }
      finishIfDone();
    }

    private void finishIfDone() {
      if (scheduled == total && outstanding == 0 && !done.future().isComplete()) {
        vertx.cancelTimer(timer);
        done.complete(rec.result(label, plan.connections(), plan.rate()));
      }
    }
  }
}
