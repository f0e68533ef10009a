package io.inferium.scoring.arena;

import io.inferium.scoring.ScoringException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Arena battles and votes. A battle's label → function mapping stays here until its vote; the
 * vote's primary key (battle, user) makes a second vote a 409, and a per-user count of today's
 * votes (UTC) enforces the daily cap.
 */
public final class ArenaStore {

  /** Default votes a user may cast per UTC day. */
  public static final int DEFAULT_DAILY_VOTE_CAP = 200;

  /** A stored battle: labels ("A", "B", "C") to function name and version. */
  public record Battle(String id, String category, String user, JsonObject input, Map<String, String> functions,
      JsonObject models) {}

  private final Pool pool;
  private final int dailyCap;

  public ArenaStore(Pool pool, int dailyCap) {
    this.pool = pool;
    this.dailyCap = dailyCap;
  }

  /** {@code models}: label → {"function", "version"}. */
  public Future<String> create(String category, String user, JsonObject input, JsonObject models) {
    String id = "b-" + UUID.randomUUID();
    return pool.preparedQuery("INSERT INTO arena_battles (id, category, user_id, input, models) VALUES ($1, $2, $3, $4, $5)")
        .execute(Tuple.of(id, category, user, input, models)).map(id);
  }

  public Future<Optional<Battle>> battle(String id) {
    return pool.preparedQuery("SELECT id, category, user_id, input, models FROM arena_battles WHERE id = $1")
        .execute(Tuple.of(id)).map(rows -> {
          if (rows.size() == 0) {
            return Optional.empty();
          }
          var r = rows.iterator().next();
          JsonObject models = (JsonObject) r.getValue("models");
          Map<String, String> fns = new HashMap<>();
          models.forEach(e -> fns.put(e.getKey(), ((JsonObject) e.getValue()).getString("function")));
          return Optional.of(new Battle(r.getString("id"), r.getString("category"), r.getString("user_id"),
              (JsonObject) r.getValue("input"), fns, models));
        });
  }

  /**
   * Stores a vote: 429 over the daily cap, 409 when this user already voted on this battle.
   * {@code ranks} maps function names to ranks.
   */
  public Future<Void> vote(String battleId, String user, Map<String, Integer> ranks, boolean allBad) {
    var startOfDay = LocalDate.now(ZoneOffset.UTC).atStartOfDay().atOffset(ZoneOffset.UTC);
    return pool.preparedQuery("SELECT count(*) AS n FROM arena_votes WHERE user_id = $1 AND voted_at >= $2")
        .execute(Tuple.of(user, startOfDay)).compose(rows -> {
          if (rows.iterator().next().getLong("n") >= dailyCap) {
            return Future.failedFuture(new ScoringException(429, "daily vote cap of " + dailyCap + " reached; votes "
                + "open again at 00:00 UTC"));
          }
          return pool.preparedQuery("INSERT INTO arena_votes (battle_id, user_id, ranks, all_bad) VALUES ($1, $2, $3, $4)")
              .execute(Tuple.of(battleId, user, new JsonObject(new HashMap<>(ranks)), allBad))
              .<Void>mapEmpty()
              .recover(err -> err instanceof PgException pg && "23505".equals(pg.getSqlState())
                  ? Future.failedFuture(new ScoringException(409, "you already voted on battle " + battleId))
                  : Future.failedFuture(err));
        });
  }

  /** Battles started per function in a category (the sampler favours the less seen). */
  public Future<Map<String, Long>> appearances(String category) {
    return pool.preparedQuery("SELECT m.value->>'function' AS f, count(*) AS n FROM arena_battles b, "
            + "jsonb_each(b.models) m WHERE b.category = $1 GROUP BY f").execute(Tuple.of(category)).map(rows -> {
              Map<String, Long> out = new HashMap<>();
              rows.forEach(r -> out.put(r.getString("f"), r.getLong("n")));
              return out;
            });
  }

  /** Every vote of a category as ballots, with the voter (oldest first). */
  public Future<List<VoteRow>> votes(String category) {
    return pool.preparedQuery("SELECT v.user_id, v.ranks, v.all_bad FROM arena_votes v JOIN arena_battles b "
            + "ON b.id = v.battle_id WHERE b.category = $1 ORDER BY v.voted_at").execute(Tuple.of(category)).map(rows -> {
              List<VoteRow> out = new ArrayList<>();
              rows.forEach(r -> {
                Map<String, Integer> ranks = new HashMap<>();
                ((JsonObject) r.getValue("ranks")).forEach(e -> ranks.put(e.getKey(), ((Number) e.getValue()).intValue()));
                out.add(new VoteRow(r.getString("user_id"), new Ballot(ranks, r.getBoolean("all_bad"))));
              });
              return out;
            });
  }

  /** One stored vote. */
  public record VoteRow(String voter, Ballot ballot) {}

  static JsonArray labels(Map<String, String> fns) {
    return new JsonArray(fns.keySet().stream().sorted().toList());
  }
}
