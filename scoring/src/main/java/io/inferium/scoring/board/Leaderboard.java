package io.inferium.scoring.board;

import io.inferium.scoring.ScoringException;
import io.inferium.scoring.arena.ArenaStore;
import io.inferium.scoring.arena.Ballot;
import io.inferium.scoring.arena.BradleyTerry;
import io.inferium.scoring.arena.Comparison;
import io.inferium.scoring.arena.VoterScreen;
import io.inferium.scoring.eval.EvalStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Builds one category's leaderboard from the stores: latest benchmark metric (MS), usage points (US:
 * ratings, helpful feedback, arena placements, point events), Total = α·MS + β·US, distinct users,
 * and the Bradley–Terry arena rating with its bootstrap interval (outlier voters excluded). The
 * bootstrap runs on a worker thread, never on the event loop.
 */
public final class Leaderboard {

  /** What the board needs to know about a function (its latest ready version). */
  public record Entry(String name, String kind, String category, List<String> useCases, String developer) {}

  /** Accepted {@code sort} values. */
  public static final List<String> SORTS = List.of("score", "metric", "arena", "users", "points", "name");

  private final Vertx vertx;
  private final EvalStore evals;
  private final RatingStore ratings;
  private final ArenaStore arena;
  private final PointsStore points;
  private final TotalScore total;

  public Leaderboard(Vertx vertx, EvalStore evals, RatingStore ratings, ArenaStore arena, PointsStore points,
      TotalScore total) {
    this.vertx = vertx;
    this.evals = evals;
    this.ratings = ratings;
    this.arena = arena;
    this.points = points;
    this.total = total;
  }

  public TotalScore total() {
    return total;
  }

  /** The board of one category, sorted by {@code sort} (400 for an unknown one). */
  public Future<JsonObject> board(String category, List<Entry> entries, String sort) {
    if (!SORTS.contains(sort)) {
      return Future.failedFuture(new ScoringException(400, "query parameter 'sort': expected "
          + String.join(" | ", SORTS) + ", got '" + sort + "'"));
    }
    List<String> names = entries.stream().map(Entry::name).toList();
    Future<Map<String, JsonObject>> metricF = evals.latestByFunction(category);
    Future<Map<String, RatingStore.Summary>> ratingF = ratings.summaries(names);
    Future<Map<String, Map<String, Long>>> eventsF = points.counts(names);
    Future<Map<String, Long>> usersF = points.users(names);
    Future<List<ArenaStore.VoteRow>> votesF = arena.votes(category);
    return Future.all(metricF, ratingF, eventsF, usersF, votesF)
        .compose(all -> vertx.executeBlocking(() -> assemble(category, entries, sort, metricF.result(), ratingF.result(),
            eventsF.result(), usersF.result(), votesF.result()), false));
  }

  private JsonObject assemble(String category, List<Entry> entries, String sort, Map<String, JsonObject> runs,
      Map<String, RatingStore.Summary> rated, Map<String, Map<String, Long>> events, Map<String, Long> users,
      List<ArenaStore.VoteRow> votes) {
    Set<String> names = new java.util.HashSet<>(entries.stream().map(Entry::name).toList());
    List<Comparison> comparisons = new ArrayList<>();
    Map<String, long[]> places = new HashMap<>();
    for (ArenaStore.VoteRow v : votes) {
      Ballot b = v.ballot();
      for (Comparison c : b.comparisons(v.voter())) {
        if (names.contains(c.a()) && names.contains(c.b())) {
          comparisons.add(c);
        }
      }
    }
    Map<String, Double> first = BradleyTerry.fit(comparisons, BradleyTerry.DEFAULT_PRIOR);
    Set<String> outliers = VoterScreen.outliers(comparisons, first, VoterScreen.DEFAULT_MIN_DECISIVE,
        VoterScreen.DEFAULT_MIN_AGREEMENT);
    List<Comparison> kept = VoterScreen.without(comparisons, outliers);
    for (ArenaStore.VoteRow v : votes) {
      if (outliers.contains(v.voter()) || v.ballot().allBad()) {
        continue;
      }
      v.ballot().ranks().forEach((fn, rank) -> places.computeIfAbsent(fn, x -> new long[3])[rank - 1]++);
    }
    Map<String, Double> elo = io.inferium.scoring.arena.Elo.ratings(kept, io.inferium.scoring.arena.Elo.DEFAULT_K);
    Map<String, BradleyTerry.Rating> arenaRatings = new HashMap<>();
    for (BradleyTerry.Rating r : BradleyTerry.bootstrap(kept, BradleyTerry.DEFAULT_PRIOR, BradleyTerry.DEFAULT_ROUNDS, 1)) {
      arenaRatings.put(r.model(), r);
    }
    Map<String, Double> metric = new HashMap<>();
    Map<String, Long> pts = new HashMap<>();
    Map<String, UsagePoints> detail = new HashMap<>();
    for (Entry e : entries) {
      JsonObject run = runs.get(e.name());
      metric.put(e.name(), run == null ? null : run.getDouble("primary_value"));
      RatingStore.Summary s = rated.get(e.name());
      long[] p = places.getOrDefault(e.name(), new long[3]);
      UsagePoints up = new UsagePoints(count(events, "download", e.name()), count(events, "space_deploy", e.name()),
          s == null ? 0 : s.helpful(), s == null ? null : s.average(), p[0], p[1], p[2],
          count(events, "contest_win", e.name()), count(events, "contest_top5", e.name()));
      detail.put(e.name(), up);
      pts.put(e.name(), up.total());
    }
    Map<String, TotalScore.Parts> parts = total.score(metric, pts);
    List<JsonObject> rows = new ArrayList<>();
    for (Entry e : entries) {
      TotalScore.Parts p = parts.get(e.name());
      JsonObject run = runs.get(e.name());
      RatingStore.Summary s = rated.get(e.name());
      BradleyTerry.Rating ar = arenaRatings.get(e.name());
      JsonObject row = new JsonObject().put("name", e.name()).put("score", round(p.total()))
          .put("model_type", e.kind()).put("use_cases", new JsonArray(e.useCases())).put("developer", e.developer())
          .put("users", users.getOrDefault(e.name(), 0L))
          .put("parts", new JsonObject().put("metric_score", round(p.metricScore())).put("user_score", round(p.userScore()))
              .put("alpha", total.alpha()).put("beta", total.beta())
              .put("metric", run == null ? null : new JsonObject().put("name", metricName(run))
                  .put("value", run.getDouble("primary_value")).put("datasets", run.getInteger("datasets", 1))
                  .put("run_id", run.getString("id"))
                  .put("latency_p50_ms", run.getDouble("latency_p50_ms")).put("dropped", run.getBoolean("dropped")))
              .put("points", pts.get(e.name())).put("rating_average", s == null ? null : s.average())
              .put("ratings", s == null ? 0 : s.count()))
          .put("arena", ar == null ? null : new JsonObject().put("rating", round(ar.rating())).put("lower", round(ar.lower()))
              .put("upper", round(ar.upper())).put("rank", ar.rank()).put("comparisons", ar.comparisons())
              .put("elo", round(elo.getOrDefault(e.name(), io.inferium.scoring.arena.Elo.START))));
      rows.add(row);
    }
    ToDoubleFunction<JsonObject> key = switch (sort) {
      case "metric" -> r -> r.getJsonObject("parts").getDouble("metric_score");
      case "arena" -> r -> r.getJsonObject("arena") == null ? Double.NEGATIVE_INFINITY : r.getJsonObject("arena").getDouble("rating");
      case "users" -> r -> r.getLong("users");
      case "points" -> r -> r.getJsonObject("parts").getLong("points");
      default -> r -> r.getDouble("score");
    };
    if (sort.equals("name")) {
      rows.sort(Comparator.comparing(r -> r.getString("name")));
      for (int i = 0; i < rows.size(); i++) {
        rows.get(i).put("rank", i + 1);
      }
    } else {
      rows.sort(Comparator.comparingDouble(key).reversed().thenComparing(r -> r.getString("name")));
      for (int i = 0; i < rows.size(); i++) {
        boolean tie = i > 0 && key.applyAsDouble(rows.get(i)) == key.applyAsDouble(rows.get(i - 1));
        rows.get(i).put("rank", tie ? rows.get(i - 1).getInteger("rank") : i + 1);
      }
    }
    JsonArray out = new JsonArray();
    rows.forEach(out::add);
    return new JsonObject().put("category", category).put("sort", sort).put("alpha", total.alpha())
        .put("beta", total.beta()).put("excluded_voters", outliers.size()).put("rows", out);
  }

  private static long count(Map<String, Map<String, Long>> events, String kind, String fn) {
    return events.getOrDefault(kind, Map.of()).getOrDefault(fn, 0L);
  }

  private static double round(double x) {
    return Math.round(x * 100) / 100.0;
  }

  /**
   * What the metric value is: the primary metric's name when it comes from one dataset; over several
   * (whose primary metrics may differ, e.g. exact match and prompt following) it is their mean.
   */
  private static String metricName(JsonObject run) {
    int datasets = run.getInteger("datasets", 1);
    return datasets > 1 ? "mean_primary" : run.getString("primary_metric");
  }
}
