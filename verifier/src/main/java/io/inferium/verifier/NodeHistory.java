package io.inferium.verifier;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A node's ledger events read back in pages, newest first: every agreement, slash (with its evidence),
 * reward, deposit, ejection and reinstatement, each with the reputation after it, so a reader can draw the
 * reputation over time. Pages are keyed by event id ({@code before}), bounded by {@link #MAX_PAGE}.
 */
public final class NodeHistory {

  public static final int MAX_PAGE = 500;

  /** A page: the events, newest first, and the {@code before} of the next page (null when this is the last). */
  public record Page(List<JsonObject> events, Long nextBefore) {}

  private final Pool pool;

  public NodeHistory(Pool pool) {
    this.pool = pool;
  }

  /**
   * Up to {@code limit} (1 to {@link #MAX_PAGE}) events of the node older than event {@code before} (null: the
   * newest); empty when there is no such node.
   */
  public Future<Optional<Page>> page(String nodeId, Long before, int limit) {
    if (limit < 1 || limit > MAX_PAGE) {
      return Future.failedFuture(new IllegalArgumentException("limit " + limit + " outside 1.." + MAX_PAGE));
    }
    return pool.preparedQuery("SELECT 1 FROM nodes WHERE node_id = $1").execute(Tuple.of(nodeId)).compose(found ->
        found.size() == 0 ? Future.succeededFuture(Optional.<Page>empty()) : events(nodeId, before, limit).map(Optional::of));
  }

  private Future<Page> events(String nodeId, Long before, int limit) {
    return pool.preparedQuery("SELECT id, kind, task_id, stake_delta_micro_usd, reputation_after, evidence, at FROM node_events "
            + "WHERE node_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3")
        .execute(Tuple.of(nodeId, before, limit + 1)).map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          for (Row r : rows) {
            if (out.size() == limit) {
              break;
            }
            Object evidence = r.getValue("evidence");
            out.add(new JsonObject().put("id", r.getLong("id")).put("kind", r.getString("kind"))
                .put("task_id", r.getString("task_id")).put("stake_delta_micro_usd", r.getLong("stake_delta_micro_usd"))
                .put("reputation_after", r.getDouble("reputation_after"))
                .put("evidence", evidence)
                .put("at", r.getOffsetDateTime("at").toInstant().toString()));
          }
          Long next = rows.size() > limit ? out.get(out.size() - 1).getLong("id") : null;
          return new Page(out, next);
        });
  }
}
