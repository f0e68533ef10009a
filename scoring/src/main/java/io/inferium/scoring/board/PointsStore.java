package io.inferium.scoring.board;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Point events other than ratings and votes (downloads, deploys on a space, contest finishes),
 * each stored once by its id, and the distinct users (tenants) that invoked each function, as
 * {@link LeaderboardUsers} recorded them from completion events.
 */
public final class PointsStore {

  private final Pool pool;

  public PointsStore(Pool pool) {
    this.pool = pool;
  }

  /** Records an event once; true when it was new. */
  public Future<Boolean> record(String id, String function, String kind, int points) {
    return pool.preparedQuery("INSERT INTO points_events (id, function_name, kind, points) VALUES ($1, $2, $3, $4) "
            + "ON CONFLICT (id) DO NOTHING").execute(Tuple.of(id, function, kind, points)).map(r -> r.rowCount() == 1);
  }

  /** Counts of each event kind per function: kind → function → count. */
  public Future<Map<String, Map<String, Long>>> counts(List<String> functions) {
    return pool.preparedQuery("SELECT function_name, kind, count(*) AS n FROM points_events WHERE function_name = ANY($1) "
            + "GROUP BY function_name, kind").execute(Tuple.of(functions.toArray(String[]::new))).map(rows -> {
              Map<String, Map<String, Long>> out = new HashMap<>();
              rows.forEach(r -> out.computeIfAbsent(r.getString("kind"), k -> new HashMap<>())
                  .put(r.getString("function_name"), r.getLong("n")));
              return out;
            });
  }

  /** Distinct tenants that invoked each function ({@code function_users}, fed by {@link LeaderboardUsers}). */
  public Future<Map<String, Long>> users(List<String> functions) {
    return pool.preparedQuery("SELECT function_name, count(*) AS n FROM function_users WHERE function_name = ANY($1) "
            + "GROUP BY function_name").execute(Tuple.of(functions.toArray(String[]::new)))
        .map(rows -> {
          Map<String, Long> out = new HashMap<>();
          rows.forEach(r -> out.put(r.getString("function_name"), r.getLong("n")));
          return out;
        });
  }
}
