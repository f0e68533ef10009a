package io.inferium.engine.scoring;

import io.inferium.engine.mempool.Mempool;
import io.inferium.engine.text.Embeddings;
import io.inferium.engine.text.Generations;
import io.inferium.engine.text.LogLikelihoods;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionStore;
import io.inferium.scoring.arena.ArenaStore;
import io.inferium.scoring.board.ContestStore;
import io.inferium.scoring.board.Leaderboard;
import io.inferium.scoring.board.PointsStore;
import io.inferium.scoring.board.RatingStore;
import io.inferium.scoring.board.TotalScore;
import io.inferium.scoring.eval.EvalStore;
import io.inferium.scoring.eval.QualityTrend;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Scoring inside the gateway: the stores, the leaderboard, the benchmark runner and its scheduler,
 * and a change signal ({@link #changed}) that the leaderboard stream listens to. Votes, ratings,
 * finished runs and flushed usage (new users) all signal a change.
 *
 * <p>Settings from the environment: {@code INFERIUM_SCORE_ALPHA} (default 0.4; β = 1 − α),
 * {@code INFERIUM_BENCH_INTERVAL_H} (hours between scheduled runs, default 24),
 * {@code INFERIUM_BENCH_POLL_MS} (how often the scheduler looks for work, default 5000),
 * {@code INFERIUM_ARENA_DAILY_VOTES} (default 200).
 */
public final class ScoringService {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ScoringService.class);

  private final Vertx vertx;
  private final FunctionStore functions;
  private final EvalStore evals;
  private final RatingStore ratings;
  private final ArenaStore arena;
  private final PointsStore points;
  private final ContestStore contests;
  private final long pollMs;
  private long contestTimer = -1;
  private boolean finishing;
  private final Leaderboard leaderboard;
  private final BenchmarkRunner runner;
  private final BenchmarkScheduler scheduler;
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  public ScoringService(Vertx vertx, Pool pool, FunctionStore functions, Mempool mempool, Generations generations,
      LogLikelihoods logLikelihoods, Embeddings embeddings) {
    this.vertx = vertx;
    this.functions = functions;
    this.evals = new EvalStore(pool);
    this.ratings = new RatingStore(pool);
    this.arena = new ArenaStore(pool, (int) env("INFERIUM_ARENA_DAILY_VOTES", ArenaStore.DEFAULT_DAILY_VOTE_CAP));
    this.points = new PointsStore(pool);
    this.contests = new ContestStore(pool);
    this.pollMs = (long) env("INFERIUM_BENCH_POLL_MS", 5000);
    double alpha = env("INFERIUM_SCORE_ALPHA", TotalScore.DEFAULT_ALPHA);
    this.leaderboard = new Leaderboard(vertx, evals, ratings, arena, points, new TotalScore(alpha, 1 - alpha));
    this.runner = new BenchmarkRunner(vertx, mempool, generations, logLikelihoods, embeddings, evals, QualityTrend.DEFAULT_THRESHOLD);
    this.scheduler = new BenchmarkScheduler(vertx, functions, evals, this::runAndSignal,
        pollMs, (long) (env("INFERIUM_BENCH_INTERVAL_H", 24) * 3_600_000L));
  }

  private static double env(String name, double fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : Double.parseDouble(v);
  }

  /** Starts the benchmark scheduler on the caller's context (timers end with its verticle). */
  public void start() {
    scheduler.start();
    contestTimer = vertx.setPeriodic(pollMs, id -> finishDueContests());
  }

  public void stop() {
    scheduler.stop();
    if (contestTimer >= 0) {
      vertx.cancelTimer(contestTimer);
    }
  }

  /** Ends contests past their end: places, points and rewards recorded once. */
  public Future<Void> finishDueContests() {
    if (finishing) {
      return Future.succeededFuture();
    }
    finishing = true;
    return contests.due().compose(due -> {
      Future<Void> chain = Future.succeededFuture();
      for (ContestStore.Contest c : due) {
        // Each entry's developer (its latest version's owner tenant) is credited its reward.
        chain = chain.compose(v -> contests.standings(c).compose(live -> Future.all(live.stream()
                .map(p -> functions.latest(p.function())).toList()))
            .compose(found -> {
              java.util.Map<String, String> owners = new java.util.HashMap<>();
              found.<java.util.Optional<FunctionRecord>>list().forEach(f -> f.filter(r -> r.owner() != null)
                  .ifPresent(r -> owners.put(r.name(), r.owner())));
              return contests.finish(c, owners::get);
            }).onSuccess(places -> {
          log.info("Contest {} ({}) finished: {}", c.id(), c.name(), places.isEmpty() ? "no entries"
              : "won by " + places.get(0).function());
          changed(c.category());
        }).mapEmpty());
      }
      return chain;
    }).onComplete(ar -> {
      finishing = false;
      if (ar.failed()) {
        log.warn("Finishing contests failed: {}", ar.cause().toString());
      }
    });
  }

  /** Runs a benchmark and signals its category's board. */
  public Future<io.vertx.core.json.JsonObject> runAndSignal(FunctionRecord fn, EvalStore.Dataset ds, String trigger) {
    return runAndSignal(fn, ds, trigger, null);
  }

  /** Runs a benchmark a tenant started ({@code startedBy}; null for the platform) and signals its category's board. */
  public Future<io.vertx.core.json.JsonObject> runAndSignal(FunctionRecord fn, EvalStore.Dataset ds, String trigger,
      String startedBy) {
    return runner.run(fn, ds, trigger, startedBy).onComplete(ar -> changed(fn.spec().category()));
  }

  /** Something a board shows changed in {@code category} (null: possibly any). */
  public void changed(String category) {
    listeners.forEach(l -> l.accept(category));
  }

  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  public void removeListener(Consumer<String> listener) {
    listeners.remove(listener);
  }

  /** The board entries of a category as a tenant sees them: its latest ready versions, public or its own. */
  public Future<List<FunctionRecord>> visible(String category, String tenant, boolean everything) {
    return functions.served().map(all -> all.stream()
        .filter(f -> category.equals(f.spec().category()))
        .filter(f -> everything || f.spec().visibility() == FunctionSpec.Visibility.PUBLIC
            || (tenant != null && tenant.equals(f.owner())))
        .toList());
  }

  public Future<io.vertx.core.json.JsonObject> board(String category, String sort, String tenant, boolean everything) {
    return visible(category, tenant, everything).compose(fns -> leaderboard.board(category, fns.stream()
        .map(f -> new Leaderboard.Entry(f.name(), f.spec().kind().wire(), category, f.spec().useCases(),
            f.spec().developer() != null ? f.spec().developer() : f.owner()))
        .toList(), sort));
  }

  public Vertx vertx() {
    return vertx;
  }

  public FunctionStore functions() {
    return functions;
  }

  public EvalStore evals() {
    return evals;
  }

  public RatingStore ratings() {
    return ratings;
  }

  public ArenaStore arena() {
    return arena;
  }

  public ContestStore contests() {
    return contests;
  }

  public PointsStore points() {
    return points;
  }

  public BenchmarkScheduler scheduler() {
    return scheduler;
  }
}
