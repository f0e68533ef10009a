package io.inferium.engine.text;

import io.inferium.engine.gateway.DeadlineExceeded;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.WorkerFailure;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.engine.mempool.ClientGone;
import io.inferium.engine.mempool.QueueFull;
import io.inferium.engine.protocol.Frame;
import io.inferium.engine.protocol.FrameType;
import io.inferium.functions.FunctionRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The mempool for text: generations wait here per function (bounded; 429 beyond it) and go to
 * workers while a worker runs fewer than the function's {@code max_running_sequences} of them. The
 * worker decodes everything it runs for one function together (continuous batching), so this class
 * only keeps each worker's running set full. Runs on one context; answers hop back to the caller's.
 * A worker lost before a generation streamed anything is replaced (up to three attempts); after the
 * first token the failure reaches the client, who already has part of the answer.
 */
public final class Generations {

  private static final int MAX_ATTEMPTS = 3;
  private static final long CAPACITY_RETRY_MS = 50;

  /** One streamed token of one choice. */
  public record Chunk(int index, int tokenId, String text, int promptTokens) {}

  /** A finished generation, as the worker reported it and the gateway checked it. */
  public record Finished(List<Choice> choices, int promptTokens, int completionTokens, long computeMicros,
      String workerId, long queueNanos, boolean coldStart) {}

  /** One choice: why it ended and how many tokens it produced. */
  public record Choice(int index, String finishReason, int completionTokens) {}

  /** A generation in the mempool or running. */
  public final class Generation {
    final FunctionRecord fn;
    final JsonObject work;
    final long deadlineNanos;
    final long enqueuedNanos = System.nanoTime();
    final Context caller;
    final Consumer<Chunk> onChunk;
    final Promise<Finished> result = Promise.promise();
    final List<List<Integer>> streamed = new ArrayList<>();
    int attempts;
    long deadlineTimer = -1;
    Promise<Frame> call;
    volatile int chunks;
    boolean done;

    Generation(FunctionRecord fn, JsonObject work, long deadlineNanos, Context caller, Consumer<Chunk> onChunk) {
      this.fn = fn;
      this.work = work;
      this.deadlineNanos = deadlineNanos;
      this.caller = caller;
      this.onChunk = onChunk;
    }

    /** Completes on the submitting context. */
    public Future<Finished> future() {
      return result.future();
    }

    /** The client went away: stop generating (within one decode step on the worker). */
    public void cancel() {
      context.runOnContext(v -> end(this, new ClientGone("the client closed the connection")));
    }

    /** Tokens streamed so far (all choices). */
    public int streamedTokens() {
      return chunks;
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final Dispatcher dispatcher;
  private final TextLoad load;
  private final TextMetrics metrics;
  private final Map<String, ArrayDeque<Generation>> waiting = new ConcurrentHashMap<>();
  /** Running generations by function sha, then worker id. */
  private final Map<String, Map<String, Integer>> running = new ConcurrentHashMap<>();
  private long capacityTimer = -1;
  /** Function name → the model hashes (versions) queued under it, for the per-function gauges. */
  private final Map<String, java.util.Set<String>> shasByName = new ConcurrentHashMap<>();

  public Generations(Vertx vertx, Dispatcher dispatcher, TextLoad load, TextMetrics metrics) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.dispatcher = dispatcher;
    this.load = load;
    this.metrics = metrics;
  }

  /**
   * Queues a generation of a ready text-generation function. {@code work} holds {@code prompt} or
   * {@code messages} and {@code params} (SamplingParams JSON). Chunks and the outcome arrive on the
   * calling context; a full queue fails the future with {@link QueueFull}.
   */
  public Generation submit(FunctionRecord fn, JsonObject work, long deadlineNanos, Consumer<Chunk> onChunk) {
    Generation g = new Generation(fn, work, deadlineNanos, vertx.getOrCreateContext(), onChunk);
    context.runOnContext(v -> enqueue(g));
    return g;
  }

  private void enqueue(Generation g) {
    ArrayDeque<Generation> q = waiting.computeIfAbsent(g.fn.modelSha256(), k -> {
      // One gauge pair per function name, summed over its versions (each version is its own queue).
      if (shasByName.computeIfAbsent(g.fn.name(), n -> ConcurrentHashMap.newKeySet()).isEmpty()) {
        String name = g.fn.name();
        metrics.gauges(name, () -> shasByName.get(name).stream().mapToInt(this::queueSize).sum(),
            () -> shasByName.get(name).stream().mapToInt(this::runningCount).sum());
      }
      shasByName.get(g.fn.name()).add(k);
      return new ArrayDeque<>();
    });
    if (dispatcher.allEjected()) {
      // Waiting would only end in a 504 at the deadline: say at once that there is no capacity.
      metrics.rejected(g.fn.name(), "no_eligible_worker");
      fail(g, new io.inferium.engine.gateway.NoWorkerAvailable("no eligible worker: every attached worker is ejected"));
      return;
    }
    if (q.size() >= g.fn.spec().text().maxWaiting()) {
      metrics.rejected(g.fn.name(), "queue_full");
      fail(g, new QueueFull(q.size() + " generations of " + g.fn.ref() + " are already waiting"));
      return;
    }
    long remaining = g.deadlineNanos - System.nanoTime();
    g.deadlineTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)),
        t -> end(g, new DeadlineExceeded("the generation did not finish within its deadline ("
            + g.fn.spec().timeoutMs() + " ms for " + g.fn.ref() + ")")));
    q.add(g);
    schedule(g.fn.modelSha256());
  }

  // Read at scrape time from the metrics thread: sizes only, approximate by design.
  private int queueSize(String sha) {
    ArrayDeque<Generation> q = waiting.get(sha);
    return q == null ? 0 : q.size();
  }

  private int runningCount(String sha) {
    Map<String, Integer> perWorker = running.get(sha);
    return perWorker == null ? 0 : perWorker.values().stream().mapToInt(Integer::intValue).sum();
  }

  private void schedule(String sha) {
    ArrayDeque<Generation> q = waiting.get(sha);
    while (q != null && !q.isEmpty()) {
      Generation g = q.peek();
      WorkerLink link = pick(g.fn);
      if (link == null) {
        armRetry();
        return;
      }
      q.poll();
      start(g, link);
    }
  }

  /** The worker with the fewest running generations of this function among those below its limit; loaded first. */
  private WorkerLink pick(FunctionRecord fn) {
    Map<String, Integer> perWorker = running.getOrDefault(fn.modelSha256(), Map.of());
    int limit = fn.spec().text().maxRunningSequences();
    return dispatcher.workers().stream()
        .filter(w -> perWorker.getOrDefault(w.workerId(), 0) < limit)
        .min(Comparator.comparing((WorkerLink w) -> !w.hasLoaded(fn.modelSha256()))
            .thenComparingInt(w -> perWorker.getOrDefault(w.workerId(), 0)))
        .orElse(null);
  }

  private void armRetry() {
    if (capacityTimer < 0) {
      capacityTimer = vertx.setTimer(CAPACITY_RETRY_MS, t -> {
        capacityTimer = -1;
        List.copyOf(waiting.keySet()).forEach(this::schedule);
      });
    }
  }

  private void start(Generation g, WorkerLink link) {
    String sha = g.fn.modelSha256();
    running.computeIfAbsent(sha, k -> new ConcurrentHashMap<>()).merge(link.workerId(), 1, Integer::sum);
    g.attempts++;
    long queued = System.nanoTime() - g.enqueuedNanos;
    boolean cold = link.needsLoad(sha);
    link.beginUse(sha);
    g.call = Promise.promise();
    Promise<Frame> call = g.call;
    load.metaOf(g.fn)
        .compose(extra -> link.ensureLoaded(sha, load.blobs().path(sha), extra))
        .compose(loaded -> {
          if (cold && loaded.loadMs() > 0) {
            metrics.coldStart(g.fn.name(), loaded.loadMs());
          }
          return link.attestation().checkModel(sha, loaded.attestedSha256())
              .<Future<Frame>>map(problem -> Future.failedFuture(new WorkerFailure("attestation_failed", problem)))
              .orElseGet(() -> g.done ? Future.failedFuture(new ClientGone("ended before it started"))
                  : link.stream(FrameType.GENERATE, g.work.copy().put("sha256", sha), call, token -> onToken(g, token)));
        })
        .onComplete(ar -> {
          link.endUse(sha);
          running.get(sha).merge(link.workerId(), -1, Integer::sum);
          if (ar.succeeded()) {
            JsonObject m = ar.result().meta();
            List<Choice> choices = new ArrayList<>();
            m.getJsonArray("choices").forEach(c -> {
              JsonObject o = (JsonObject) c;
              choices.add(new Choice(o.getInteger("index"), o.getString("finish_reason"), o.getInteger("completion_tokens")));
            });
            succeed(g, new Finished(choices, m.getInteger("prompt_tokens", 0), m.getInteger("completion_tokens", 0),
                m.getLong("compute_us", 0L), link.workerId(), queued, cold));
          } else if (ar.cause() instanceof WorkerFailure wf && wf.lost() && g.chunks == 0 && g.attempts < MAX_ATTEMPTS
              && !g.done) {
            metrics.redispatched(g.fn.name());
            waiting.get(sha).addFirst(g);
          } else {
            end(g, ar.cause());
          }
          schedule(sha);
        });
  }

  private void onToken(Generation g, WorkerLink.Token token) {
    if (g.done) {
      return;
    }
    while (g.streamed.size() <= token.index()) {
      g.streamed.add(new ArrayList<>());
    }
    g.streamed.get(token.index()).add(token.id());
    g.chunks++;
    Chunk chunk = new Chunk(token.index(), token.id(), token.text(), token.promptTokens());
    g.caller.runOnContext(v -> g.onChunk.accept(chunk));
  }

  /** Ends a generation early (deadline, client gone, failure) wherever it is. */
  private void end(Generation g, Throwable cause) {
    if (g.done) {
      return;
    }
    ArrayDeque<Generation> q = waiting.get(g.fn.modelSha256());
    boolean wasQueued = q != null && q.remove(g);
    if (!wasQueued && g.call != null) {
      // Only a deadline is the node's to honour; a client that hung up is nobody's fault on the worker's side.
      g.call.tryFail(new WorkerLink.Cancelled(cause.getMessage(), cause instanceof DeadlineExceeded));
    }
    if (cause instanceof DeadlineExceeded) {
      metrics.rejected(g.fn.name(), "deadline");
    } else if (cause instanceof ClientGone) {
      metrics.rejected(g.fn.name(), "client_gone");
    }
    fail(g, cause);
  }

  private void succeed(Generation g, Finished f) {
    if (g.done) {
      return;
    }
    g.done = true;
    vertx.cancelTimer(g.deadlineTimer);
    g.caller.runOnContext(v -> g.result.tryComplete(f));
  }

  private void fail(Generation g, Throwable cause) {
    g.done = true;
    if (g.deadlineTimer >= 0) {
      vertx.cancelTimer(g.deadlineTimer);
    }
    Throwable reported = cause instanceof WorkerLink.Cancelled c ? new DeadlineExceeded(c.getMessage()) : cause;
    g.caller.runOnContext(v -> g.result.tryFail(reported));
  }
}
