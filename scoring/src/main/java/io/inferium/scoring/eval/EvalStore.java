package io.inferium.scoring.eval;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Evaluation datasets and benchmark runs in PostgreSQL. A dataset belongs to its owner tenant: others
 * see it only when it is public or approved; only approved category datasets count toward the public
 * leaderboard and run on other tenants' functions (an admin approves; platform uploads are approved).
 */
public final class EvalStore {

  /** A dataset's description (its rows are read separately: they can be large). */
  public record Dataset(String id, String name, String category, String function, String owner, String format,
      int rows, OffsetDateTime createdAt, boolean isPublic, boolean approved) {
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("name", name).put("category", category).put("function", function)
          .put("format", format).put("rows", rows).put("created_at", createdAt.toInstant().toString())
          .put("public", isPublic).put("approved", approved);
    }

    /** Whether a caller of {@code tenant} (or an admin, {@code everything}) may see and use this dataset. */
    public boolean visibleTo(String tenant, boolean everything) {
      return everything || isPublic || approved || (tenant != null && tenant.equals(owner));
    }
  }

  /** A finished run's figures. */
  public record RunResult(JsonObject metrics, String primaryMetric, double primaryValue, int rows, double p50Ms,
      double p95Ms, long costMicroUsd) {}

  private static final String DATASET_COLUMNS = "id, name, category, function_name, owner, format, row_count, created_at, "
      + "public, approved";
  private static final String RUN_COLUMNS = "id, dataset_id, function_name, function_version, category, trigger, state, "
      + "metrics, primary_metric, primary_value, previous_value, dropped, rows_scored, latency_p50_ms, latency_p95_ms, "
      + "cost_micro_usd, error, started_at, finished_at";

  private final Pool pool;

  public EvalStore(Pool pool) {
    this.pool = pool;
  }

  /** A dataset of {@code owner}: private and unapproved, or public and approved when the platform owns it (null). */
  public Future<Dataset> createDataset(String name, String category, String function, String owner, String format,
      EvalDataset data) {
    return createDataset(name, category, function, owner, format, data, owner == null, owner == null);
  }

  public Future<Dataset> createDataset(String name, String category, String function, String owner, String format,
      EvalDataset data, boolean isPublic, boolean approved) {
    String id = "ds-" + UUID.randomUUID();
    return pool.preparedQuery("INSERT INTO eval_datasets (id, name, category, function_name, owner, format, row_count, rows, "
            + "public, approved, approved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $10 THEN now() END) "
            + "RETURNING " + DATASET_COLUMNS)
        .execute(Tuple.from(new Object[] {id, name, category, function, owner, format, data.size(),
            new JsonArray(new ArrayList<>(data.rows())), isPublic, approved}))
        .map(rows -> dataset(rows.iterator().next()));
  }

  /** Marks a dataset approved (or not) for public scores; empty if there is no such dataset. */
  public Future<Optional<Dataset>> approve(String id, boolean approved) {
    return pool.preparedQuery("UPDATE eval_datasets SET approved = $2, approved_at = CASE WHEN $2 THEN now() END "
            + "WHERE id = $1 RETURNING " + DATASET_COLUMNS)
        .execute(Tuple.of(id, approved))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(dataset(rows.iterator().next())));
  }

  public Future<Optional<Dataset>> dataset(String id) {
    return pool.preparedQuery("SELECT " + DATASET_COLUMNS + " FROM eval_datasets WHERE id = $1").execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(dataset(rows.iterator().next())));
  }

  public Future<EvalDataset> rows(String id) {
    return pool.preparedQuery("SELECT rows FROM eval_datasets WHERE id = $1").execute(Tuple.of(id)).map(rows -> {
      JsonArray a = (JsonArray) rows.iterator().next().getValue("rows");
      List<JsonObject> out = new ArrayList<>(a.size());
      for (int i = 0; i < a.size(); i++) {
        out.add(a.getJsonObject(i));
      }
      return new EvalDataset(out);
    });
  }

  /** Datasets of a category and/or a function (null matches any), every owner's: for admins and the platform. */
  public Future<List<Dataset>> datasets(String category, String function) {
    return datasets(category, function, null, true);
  }

  /**
   * Datasets of a category and/or a function (null matches any) that {@code tenant} may see: public
   * or approved ones and its own; all of them when {@code everything}.
   */
  public Future<List<Dataset>> datasets(String category, String function, String tenant, boolean everything) {
    return pool.preparedQuery("SELECT " + DATASET_COLUMNS + " FROM eval_datasets WHERE ($1::text IS NULL OR category = $1) "
            + "AND ($2::text IS NULL OR function_name = $2) AND ($4 OR public OR approved OR owner = $3) ORDER BY created_at")
        .execute(Tuple.of(category, function, tenant, everything)).map(EvalStore::datasets);
  }

  /**
   * The datasets that apply to a function owned by {@code owner}: its own; its category's that an
   * admin approved or that {@code owner} uploaded (someone else's unapproved dataset never runs on it);
   * and those of open contests it entered (its developer chose them by entering).
   */
  public Future<List<Dataset>> applicable(String function, String category, String owner) {
    return pool.preparedQuery("SELECT " + DATASET_COLUMNS + " FROM eval_datasets WHERE function_name = $1 "
            + "OR (function_name IS NULL AND category = $2 AND (approved OR owner = $3)) "
            + "OR id IN (SELECT c.dataset_id FROM contests c JOIN contest_entries e ON e.contest_id = c.id "
            + "WHERE e.function_name = $1 AND NOT c.finished) ORDER BY created_at")
        .execute(Tuple.of(function, category, owner)).map(EvalStore::datasets);
  }

  private static List<Dataset> datasets(io.vertx.sqlclient.RowSet<Row> rows) {
    List<Dataset> out = new ArrayList<>();
    rows.forEach(r -> out.add(dataset(r)));
    return out;
  }

  private static Dataset dataset(Row r) {
    return new Dataset(r.getString("id"), r.getString("name"), r.getString("category"), r.getString("function_name"),
        r.getString("owner"), r.getString("format"), r.getInteger("row_count"), r.getOffsetDateTime("created_at"),
        r.getBoolean("public"), r.getBoolean("approved"));
  }

  /** Records a run as started; its id. */
  public Future<String> startRun(String datasetId, String function, int version, String category, String trigger) {
    return startRun(datasetId, function, version, category, trigger, null);
  }

  /** Records a run as started by {@code startedBy} (a tenant; null for the platform); its id. */
  public Future<String> startRun(String datasetId, String function, int version, String category, String trigger,
      String startedBy) {
    String id = "run-" + UUID.randomUUID();
    return pool.preparedQuery("INSERT INTO benchmark_runs (id, dataset_id, function_name, function_version, category, "
            + "trigger, state, started_by) VALUES ($1, $2, $3, $4, $5, $6, 'running', $7)")
        .execute(Tuple.of(id, datasetId, function, version, category, trigger, startedBy)).map(id);
  }

  /** Runs {@code tenant} started in the last 24 hours. */
  public Future<Long> startedToday(String tenant) {
    return pool.preparedQuery("SELECT count(*) FROM benchmark_runs WHERE started_by = $1 AND started_at > now() - interval '1 day'")
        .execute(Tuple.of(tenant)).map(rows -> rows.iterator().next().getLong(0));
  }

  /**
   * Records a finished run, comparing its primary metric with the previous finished run of the same
   * function on the same dataset; the stored row (with {@code dropped}) is returned.
   */
  public Future<JsonObject> finishRun(String id, RunResult result, double dropThreshold) {
    return pool.preparedQuery("SELECT primary_value FROM benchmark_runs WHERE state = 'done' AND id <> $1 AND "
            + "(function_name, dataset_id) = (SELECT function_name, dataset_id FROM benchmark_runs WHERE id = $1) "
            + "ORDER BY finished_at DESC LIMIT 1")
        .execute(Tuple.of(id))
        .compose(prev -> {
          Double previous = prev.size() == 0 ? null : prev.iterator().next().getDouble("primary_value");
          boolean dropped = QualityTrend.dropped(previous, result.primaryValue(),
              MetricSuite.higherIsBetter(result.primaryMetric()), dropThreshold);
          return pool.preparedQuery("UPDATE benchmark_runs SET state = 'done', metrics = $2, primary_metric = $3, "
                  + "primary_value = $4, previous_value = $5, dropped = $6, rows_scored = $7, latency_p50_ms = $8, "
                  + "latency_p95_ms = $9, cost_micro_usd = $10, finished_at = now() WHERE id = $1 RETURNING " + RUN_COLUMNS)
              .execute(Tuple.from(new Object[] {id, result.metrics(), result.primaryMetric(), result.primaryValue(), previous,
                  dropped, result.rows(), result.p50Ms(), result.p95Ms(), result.costMicroUsd()}))
              .map(rows -> run(rows.iterator().next()));
        });
  }

  public Future<Void> failRun(String id, String error) {
    return pool.preparedQuery("UPDATE benchmark_runs SET state = 'failed', error = $2, finished_at = now() WHERE id = $1")
        .execute(Tuple.of(id, error)).mapEmpty();
  }

  /** A function's run history, newest first. */
  public Future<List<JsonObject>> runs(String function, int limit) {
    return pool.preparedQuery("SELECT " + RUN_COLUMNS + " FROM benchmark_runs WHERE ($1::text IS NULL OR function_name = $1) "
            + "ORDER BY started_at DESC LIMIT $2")
        .execute(Tuple.of(function, limit)).map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          rows.forEach(r -> out.add(run(r)));
          return out;
        });
  }

  public Future<Optional<JsonObject>> run(String id) {
    return pool.preparedQuery("SELECT " + RUN_COLUMNS + " FROM benchmark_runs WHERE id = $1").execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(run(rows.iterator().next())));
  }

  /**
   * When a version was last run on a dataset (failed runs included, so a broken pairing is not
   * retried at every scan), or empty: the scheduler runs again when there is none or it is older than
   * its interval.
   */
  public Future<Optional<OffsetDateTime>> lastRun(String function, int version, String datasetId) {
    return pool.preparedQuery("SELECT max(started_at) AS at FROM benchmark_runs WHERE function_name = $1 AND "
            + "function_version = $2 AND dataset_id = $3")
        .execute(Tuple.of(function, version, datasetId))
        .map(rows -> Optional.ofNullable(rows.iterator().next().getOffsetDateTime("at")));
  }

  /**
   * The metric score's source: for each function, its latest finished run on each of the category's
   * shared datasets that an admin approved, combined into one object — the newest run's fields, with {@code primary_value}
   * the mean of the per-dataset primary values and {@code datasets} how many it averages. Keyed by
   * function name.
   */
  public Future<Map<String, JsonObject>> latestByFunction(String category) {
    return pool.preparedQuery("SELECT DISTINCT ON (r.function_name, r.dataset_id) " + prefixed() + " FROM benchmark_runs r "
            + "JOIN eval_datasets d ON d.id = r.dataset_id WHERE r.state = 'done' AND d.category = $1 "
            + "AND d.function_name IS NULL AND d.approved ORDER BY r.function_name, r.dataset_id, r.finished_at DESC")
        .execute(Tuple.of(category)).map(rows -> {
          Map<String, List<JsonObject>> byFunction = new HashMap<>();
          rows.forEach(r -> byFunction.computeIfAbsent(r.getString("function_name"), k -> new ArrayList<>()).add(run(r)));
          Map<String, JsonObject> out = new HashMap<>();
          byFunction.forEach((fn, runs) -> {
            runs.sort((a, b) -> b.getString("finished_at").compareTo(a.getString("finished_at")));
            double mean = runs.stream().mapToDouble(x -> x.getDouble("primary_value")).average().orElse(0);
            out.put(fn, runs.get(0).copy().put("primary_value", mean).put("datasets", runs.size()));
          });
          return out;
        });
  }

  private static String prefixed() {
    StringBuilder sb = new StringBuilder();
    for (String c : RUN_COLUMNS.split(", ")) {
      sb.append(sb.length() == 0 ? "" : ", ").append("r.").append(c);
    }
    return sb.toString();
  }

  private static JsonObject run(Row r) {
    JsonObject o = new JsonObject().put("id", r.getString("id")).put("dataset_id", r.getString("dataset_id"))
        .put("function", r.getString("function_name")).put("version", r.getInteger("function_version"))
        .put("category", r.getString("category")).put("trigger", r.getString("trigger")).put("state", r.getString("state"))
        .put("primary_metric", r.getString("primary_metric")).put("primary_value", r.getDouble("primary_value"))
        .put("previous_value", r.getDouble("previous_value")).put("dropped", r.getBoolean("dropped"))
        .put("rows", r.getInteger("rows_scored")).put("latency_p50_ms", r.getDouble("latency_p50_ms"))
        .put("latency_p95_ms", r.getDouble("latency_p95_ms")).put("cost_micro_usd", r.getLong("cost_micro_usd"))
        .put("error", r.getString("error")).put("started_at", r.getOffsetDateTime("started_at").toInstant().toString());
    Object metrics = r.getValue("metrics");
    if (metrics != null) {
      o.put("metrics", metrics);
    }
    if (r.getOffsetDateTime("finished_at") != null) {
      o.put("finished_at", r.getOffsetDateTime("finished_at").toInstant().toString());
    }
    return o;
  }
}
