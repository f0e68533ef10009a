package io.inferium.scoring.board;

import io.inferium.scoring.ScoringException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Human ratings: 1–5 stars and optional feedback, one per user per function, editable. */
public final class RatingStore {

  public static final int MAX_FEEDBACK_CHARS = 4000;

  /** A function's rating aggregate: average (null when unrated), count, feedback marked helpful. */
  public record Summary(Double average, long count, long helpful) {}

  private final Pool pool;

  public RatingStore(Pool pool) {
    this.pool = pool;
  }

  /** Creates or replaces the user's rating of a function (marking it helpful again is the developer's call). */
  public Future<JsonObject> rate(String function, String user, int stars, String feedback) {
    if (stars < 1 || stars > 5) {
      return Future.failedFuture(new ScoringException(400, "field 'stars': expected an integer from 1 to 5, got " + stars));
    }
    if (feedback != null && feedback.length() > MAX_FEEDBACK_CHARS) {
      return Future.failedFuture(new ScoringException(400, "field 'feedback': at most " + MAX_FEEDBACK_CHARS
          + " characters, got " + feedback.length()));
    }
    return pool.preparedQuery("INSERT INTO ratings (function_name, user_id, stars, feedback) VALUES ($1, $2, $3, $4) "
            + "ON CONFLICT (function_name, user_id) DO UPDATE SET stars = $3, feedback = $4, "
            + "helpful = CASE WHEN ratings.feedback IS DISTINCT FROM $4 THEN false ELSE ratings.helpful END, updated_at = now() "
            + "RETURNING function_name, user_id, stars, feedback, helpful, (xmax = 0) AS created")
        .execute(Tuple.of(function, user, (short) stars, feedback))
        .map(rows -> {
          var r = rows.iterator().next();
          return new JsonObject().put("function", function).put("user", user).put("stars", (int) r.getShort("stars"))
              .put("feedback", r.getString("feedback")).put("helpful", r.getBoolean("helpful"))
              .put("created", r.getBoolean("created"));
        });
  }

  /** The developer marks (or unmarks) a user's feedback helpful; 404 when there is none. */
  public Future<Void> markHelpful(String function, String user, boolean helpful) {
    return pool.preparedQuery("UPDATE ratings SET helpful = $3 WHERE function_name = $1 AND user_id = $2 "
            + "AND feedback IS NOT NULL AND feedback <> ''")
        .execute(Tuple.of(function, user, helpful)).compose(rows -> rows.rowCount() == 0
            ? Future.failedFuture(new ScoringException(404, "no feedback from '" + user + "' on '" + function + "'"))
            : Future.succeededFuture());
  }

  public Future<JsonObject> list(String function) {
    return pool.preparedQuery("SELECT user_id, stars, feedback, helpful, updated_at FROM ratings WHERE function_name = $1 "
            + "ORDER BY updated_at DESC LIMIT 500").execute(Tuple.of(function)).compose(rows -> {
              JsonArray out = new JsonArray();
              rows.forEach(r -> out.add(new JsonObject().put("user", r.getString("user_id"))
                  .put("stars", (int) r.getShort("stars")).put("feedback", r.getString("feedback"))
                  .put("helpful", r.getBoolean("helpful"))
                  .put("updated_at", r.getOffsetDateTime("updated_at").toInstant().toString())));
              return summaries(List.of(function)).map(s -> {
                Summary sum = s.getOrDefault(function, new Summary(null, 0, 0));
                return new JsonObject().put("function", function).put("average", sum.average()).put("count", sum.count())
                    .put("helpful_feedback", sum.helpful()).put("ratings", out);
              });
            });
  }

  public Future<Map<String, Summary>> summaries(List<String> functions) {
    return pool.preparedQuery("SELECT function_name, avg(stars)::float8 AS average, count(*) AS n, "
            + "count(*) FILTER (WHERE helpful) AS helpful FROM ratings WHERE function_name = ANY($1) GROUP BY function_name")
        .execute(Tuple.of(functions.toArray(String[]::new))).map(rows -> {
          Map<String, Summary> out = new HashMap<>();
          rows.forEach(r -> out.put(r.getString("function_name"),
              new Summary(r.getDouble("average"), r.getLong("n"), r.getLong("helpful"))));
          return out;
        });
  }
}
