package io.inferium.scoring.board;

import io.inferium.scoring.ScoringException;
import io.inferium.scoring.eval.MetricSuite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Contests: a category, one of its datasets and a metric of that dataset's runs, a window and a
 * reward pool. Entries are functions of the category; the benchmark scheduler runs them on the
 * dataset, so standings follow finished runs. {@link #finish} records places, points (also as point
 * events) and rewards once, in one transaction. A private contest is visible only to its owner tenant.
 */
public final class ContestStore {

  /** Metrics a contest may rank by. */
  public static final Set<String> METRICS = Set.of("accuracy", "f1_macro", "precision_macro", "recall_macro", "mse",
      "mae", "r2", "recall_at_k", "acc", "acc_norm", "exact_match");

  private static final String COLUMNS = "id, name, category, dataset_id, metric, starts_at, ends_at, reward_pool_micro_usd, "
      + "owner, private, finished";

  private final Pool pool;

  public ContestStore(Pool pool) {
    this.pool = pool;
  }

  /** A contest's row. */
  public record Contest(String id, String name, String category, String datasetId, String metric, OffsetDateTime startsAt,
      OffsetDateTime endsAt, long poolMicroUsd, String owner, boolean isPrivate, boolean finished) {

    /** Whether a tenant (null for platform keys) may see it. */
    public boolean visibleTo(String tenant, boolean admin) {
      return !isPrivate || admin || (tenant != null && tenant.equals(owner));
    }

    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("name", name).put("category", category).put("dataset", datasetId)
          .put("metric", metric).put("starts_at", startsAt.toInstant().toString()).put("ends_at", endsAt.toInstant().toString())
          .put("reward_pool_micro_usd", poolMicroUsd).put("owner", owner).put("private", isPrivate).put("finished", finished);
    }
  }

  public Future<Contest> create(String name, String category, String datasetId, String metric, OffsetDateTime startsAt,
      OffsetDateTime endsAt, long poolMicroUsd, String owner, boolean isPrivate) {
    if (!METRICS.contains(metric)) {
      return Future.failedFuture(new ScoringException(400, "field 'metric': expected one of " + METRICS.stream().sorted().toList()
          + ", got '" + metric + "'"));
    }
    if (!endsAt.isAfter(startsAt)) {
      return Future.failedFuture(new ScoringException(400, "field 'ends_at': must be after starts_at"));
    }
    if (poolMicroUsd < 0) {
      return Future.failedFuture(new ScoringException(400, "field 'reward_pool_micro_usd': must not be negative"));
    }
    if (isPrivate && owner == null) {
      return Future.failedFuture(new ScoringException(400, "field 'private': a private contest needs a tenant key"));
    }
    return pool.preparedQuery("SELECT category, function_name FROM eval_datasets WHERE id = $1").execute(Tuple.of(datasetId))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new ScoringException(404, "no dataset '" + datasetId + "'"));
          }
          Row d = rows.iterator().next();
          if (!category.equals(d.getString("category")) || d.getString("function_name") != null) {
            return Future.failedFuture(new ScoringException(400, "field 'dataset': must be a dataset of category '"
                + category + "' (not of one function)"));
          }
          String id = "c-" + UUID.randomUUID();
          return pool.preparedQuery("INSERT INTO contests (id, name, category, dataset_id, metric, starts_at, ends_at, "
                  + "reward_pool_micro_usd, owner, private) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING " + COLUMNS)
              .execute(Tuple.from(new Object[] {id, name, category, datasetId, metric, startsAt, endsAt, poolMicroUsd, owner,
                  isPrivate}))
              .map(r -> contest(r.iterator().next()));
        });
  }

  public Future<Optional<Contest>> get(String id) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM contests WHERE id = $1").execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(contest(rows.iterator().next())));
  }

  public Future<List<Contest>> list(String category) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM contests WHERE ($1::text IS NULL OR category = $1) "
        + "ORDER BY ends_at DESC LIMIT 200").execute(Tuple.of(category)).map(rows -> {
          List<Contest> out = new ArrayList<>();
          rows.forEach(r -> out.add(contest(r)));
          return out;
        });
  }

  /** Contests past their end and not yet finished. */
  public Future<List<Contest>> due() {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM contests WHERE NOT finished AND ends_at <= now()").execute()
        .map(rows -> {
          List<Contest> out = new ArrayList<>();
          rows.forEach(r -> out.add(contest(r)));
          return out;
        });
  }

  /** Enters a function: 409 when the contest is over or the function already entered. */
  public Future<Void> enter(Contest c, String function, String by) {
    if (c.finished() || !OffsetDateTime.now(ZoneOffset.UTC).isBefore(c.endsAt())) {
      return Future.failedFuture(new ScoringException(409, "contest " + c.id() + " has ended"));
    }
    return pool.preparedQuery("INSERT INTO contest_entries (contest_id, function_name, entered_by) VALUES ($1, $2, $3) "
            + "ON CONFLICT DO NOTHING").execute(Tuple.of(c.id(), function, by))
        .compose(r -> r.rowCount() == 0
            ? Future.failedFuture(new ScoringException(409, "'" + function + "' already entered contest " + c.id()))
            : Future.succeededFuture());
  }

  /**
   * Standings: each entry's metric from its latest finished run on the contest dataset within the
   * contest window. Finished contests answer with their recorded places.
   */
  public Future<List<ContestStandings.Place>> standings(Contest c) {
    String sql = "SELECT e.function_name, e.entered_at, e.place, e.points, e.reward_micro_usd, "
        + "(SELECT (r.metrics->>$2)::float8 FROM benchmark_runs r WHERE r.function_name = e.function_name "
        + "AND r.dataset_id = $3 AND r.state = 'done' AND r.finished_at >= $4 AND r.finished_at <= $5 "
        + "ORDER BY r.finished_at DESC LIMIT 1) AS metric "
        + "FROM contest_entries e WHERE e.contest_id = $1";
    return pool.preparedQuery(sql).execute(Tuple.of(c.id(), c.metric(), c.datasetId(), c.startsAt(), c.endsAt()))
        .map(rows -> {
          List<ContestStandings.Entry> entries = new ArrayList<>();
          List<ContestStandings.Place> recorded = new ArrayList<>();
          for (Row r : rows) {
            entries.add(new ContestStandings.Entry(r.getString("function_name"), r.getDouble("metric"),
                r.getOffsetDateTime("entered_at").toInstant().toEpochMilli()));
            if (r.getInteger("place") != null) {
              recorded.add(new ContestStandings.Place(r.getInteger("place"), r.getString("function_name"),
                  r.getDouble("metric"), r.getInteger("points"), r.getLong("reward_micro_usd")));
            }
          }
          if (c.finished()) {
            recorded.sort(java.util.Comparator.comparingInt(ContestStandings.Place::place));
            return recorded;
          }
          return ContestStandings.standings(entries, MetricSuite.higherIsBetter(c.metric()), c.poolMicroUsd(), false);
        });
  }

  /** {@link #finish(Contest, Function)} with every reward credited to the platform. */
  public Future<List<ContestStandings.Place>> finish(Contest c) {
    return finish(c, function -> null);
  }

  /**
   * Ends a contest once: final places, points (as point events too) and rewards, each also a ledger
   * credit to the function's developer as {@code developerOf} names it (null: the platform).
   */
  public Future<List<ContestStandings.Place>> finish(Contest c, java.util.function.Function<String, String> developerOf) {
    return standings(c).compose(live -> {
      List<ContestStandings.Entry> entries = live.stream()
          .map(p -> new ContestStandings.Entry(p.function(), p.metric(), p.place())).toList();
      List<ContestStandings.Place> fin = ContestStandings.standings(entries, MetricSuite.higherIsBetter(c.metric()),
          c.poolMicroUsd(), true);
      return pool.withTransaction(conn -> conn.preparedQuery("UPDATE contests SET finished = true WHERE id = $1 AND NOT finished")
          .execute(Tuple.of(c.id())).compose(r -> {
            if (r.rowCount() == 0) {
              return Future.succeededFuture(fin);
            }
            Future<Void> chain = Future.succeededFuture();
            for (ContestStandings.Place p : fin) {
              chain = chain.compose(v -> conn.preparedQuery("UPDATE contest_entries SET place = $3, points = $4, "
                  + "reward_micro_usd = $5 WHERE contest_id = $1 AND function_name = $2")
                  .execute(Tuple.of(c.id(), p.function(), p.place(), p.points(), p.rewardMicroUsd())).mapEmpty());
              if (p.rewardMicroUsd() > 0) {
                String party = java.util.Objects.requireNonNullElse(developerOf.apply(p.function()), "platform");
                chain = chain.compose(v -> conn.preparedQuery("INSERT INTO credits (id, party, kind, function_name, source, "
                    + "amount_micro_usd) VALUES ($1, $2, 'contest_reward', $3, $4, $5) ON CONFLICT (id) DO NOTHING")
                    .execute(Tuple.of("contest:" + c.id() + ":" + p.function(), party, p.function(), c.id(), p.rewardMicroUsd()))
                    .mapEmpty());
              }
              if (p.points() > 0) {
                String kind = p.place() == 1 ? "contest_win" : "contest_top5";
                chain = chain.compose(v -> conn.preparedQuery("INSERT INTO points_events (id, function_name, kind, points) "
                    + "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING")
                    .execute(Tuple.of("contest:" + c.id() + ":" + p.function(), p.function(), kind, p.points())).mapEmpty());
              }
            }
            return chain.map(fin);
          }));
    });
  }

  public static JsonArray toJson(List<ContestStandings.Place> places) {
    JsonArray out = new JsonArray();
    places.forEach(p -> out.add(new JsonObject().put("place", p.place()).put("function", p.function())
        .put("metric", p.metric()).put("points", p.points()).put("reward_micro_usd", p.rewardMicroUsd())));
    return out;
  }

  private static Contest contest(Row r) {
    return new Contest(r.getString("id"), r.getString("name"), r.getString("category"), r.getString("dataset_id"),
        r.getString("metric"), r.getOffsetDateTime("starts_at"), r.getOffsetDateTime("ends_at"),
        r.getLong("reward_pool_micro_usd"), r.getString("owner"), r.getBoolean("private"), r.getBoolean("finished"));
  }
}
