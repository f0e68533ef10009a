package io.inferium.verifier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stake, reputation and events per node, in PostgreSQL. After each redundant task the agreeing nodes
 * gain reputation and a reward; a node outside the agreeing group loses reputation and is slashed
 * (doubling on each repeat); a node whose reputation or stake falls below its threshold is ejected
 * and gets no more work. Every change is an event carrying its evidence.
 */
public final class NodeLedger {

  private final Pool pool;
  private final LedgerSettings settings;
  private final MeterRegistry registry;
  private final Set<String> ejected = ConcurrentHashMap.newKeySet();
  private final Map<String, Double> reputation = new ConcurrentHashMap<>();

  public NodeLedger(Pool pool, LedgerSettings settings, MeterRegistry registry) {
    this.pool = pool;
    this.settings = settings;
    this.registry = registry;
  }

  /** Loads which nodes are ejected (so dispatch can skip them at once). */
  public Future<Void> load() {
    return pool.query("SELECT node_id, state, reputation FROM nodes").execute().map(rows -> {
      rows.forEach(r -> {
        if ("ejected".equals(r.getString("state"))) {
          ejected.add(r.getString("node_id"));
        }
        track(r.getString("node_id"), r.getDouble("reputation"));
      });
      return null;
    });
  }

  /** Records a node the first time it attaches, with the initial stake. */
  public Future<Void> register(String nodeId, String publicKey) {
    return pool.preparedQuery("INSERT INTO nodes (node_id, public_key, stake_micro_usd) VALUES ($1, $2, $3) "
            + "ON CONFLICT (node_id) DO UPDATE SET public_key = COALESCE(EXCLUDED.public_key, nodes.public_key) "
            + "RETURNING state, reputation")
        .execute(Tuple.of(nodeId, publicKey, settings.initialStakeMicroUsd()))
        .map(rows -> {
          Row r = rows.iterator().next();
          if ("ejected".equals(r.getString("state"))) {
            ejected.add(nodeId);
          }
          track(nodeId, r.getDouble("reputation"));
          return null;
        });
  }

  public boolean isEjected(String nodeId) {
    return ejected.contains(nodeId);
  }

  /**
   * Applies a verdict: {@code nodes.get(i)} produced run {@code i}, whose output hashed to
   * {@code hashes.get(i)}. Disputed and unverified tasks change nothing (no majority to judge by).
   */
  public Future<Void> record(String taskId, Consensus.Verdict verdict, List<String> nodes, List<String> hashes) {
    if (verdict.kind() != Consensus.Kind.VERIFIED) {
      return Future.succeededFuture();
    }
    registry.counter("inferium.verification.tasks", "verdict", verdict.kind().wire()).increment();
    return pool.withTransaction(conn -> {
      // Lock the task's nodes in one fixed order, so concurrent tasks cannot deadlock.
      Future<Void> chain = conn.preparedQuery("SELECT node_id FROM nodes WHERE node_id = ANY($1) ORDER BY node_id FOR UPDATE")
          .execute(Tuple.of(nodes.stream().sorted().toArray(String[]::new))).mapEmpty();
      for (int i : verdict.agreeing()) {
        int run = i;
        chain = chain.compose(v -> agree(conn, taskId, nodes.get(run)));
      }
      for (int i : verdict.outliers()) {
        JsonObject evidence = new JsonObject().put("task_id", taskId)
            .put("output_sha256", hashes.get(i))
            .put("agreeing_output_sha256", hashes.get(verdict.agreeing().get(0)))
            .put("similarity_to_agreeing", new JsonArray(verdict.agreeing().stream()
                .map(a -> verdict.matrix()[i][a]).toList()))
            .put("agreeing_nodes", new JsonArray(verdict.agreeing().stream().map(nodes::get).toList()));
        String node = nodes.get(i);
        chain = chain.compose(v -> slash(conn, taskId, node, evidence));
      }
      return chain;
    });
  }

  private Future<Void> agree(SqlConnection conn, String taskId, String node) {
    return conn.preparedQuery("UPDATE nodes SET reputation = (1 - $2) * reputation + $2, verified_tasks = verified_tasks + 1, "
            + "rewards_micro_usd = rewards_micro_usd + $3, stake_micro_usd = stake_micro_usd + $3, updated_at = now() "
            + "WHERE node_id = $1 RETURNING reputation")
        .execute(Tuple.of(node, settings.reputationWeight(), settings.rewardMicroUsd()))
        .compose(rows -> {
          double rep = rows.size() == 0 ? 1 : rows.iterator().next().getDouble(0);
          track(node, rep);
          return event(conn, node, "reward", taskId, settings.rewardMicroUsd(), rep, null);
        });
  }

  private Future<Void> slash(SqlConnection conn, String taskId, String node, JsonObject evidence) {
    return conn.preparedQuery("SELECT reputation, stake_micro_usd, slashes, state FROM nodes WHERE node_id = $1 FOR UPDATE")
        .execute(Tuple.of(node))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture();
          }
          Row r = rows.iterator().next();
          int slashes = r.getInteger("slashes");
          long amount = settings.slashMicroUsd() << Math.min(20, slashes);
          double rep = (1 - settings.reputationWeight()) * r.getDouble("reputation");
          long stake = r.getLong("stake_micro_usd") - amount;
          boolean eject = "active".equals(r.getString("state"))
              && (rep < settings.minReputation() || stake < settings.minStakeMicroUsd());
          String reason = eject ? (rep < settings.minReputation()
              ? String.format(java.util.Locale.ROOT, "reputation %.3f below %.3f", rep, settings.minReputation())
              : "stake " + stake + " µ$ below " + settings.minStakeMicroUsd() + " µ$") : null;
          registry.counter("inferium.slashes").increment();
          track(node, rep);
          Future<Void> updated = conn.preparedQuery("UPDATE nodes SET reputation = $2, stake_micro_usd = $3, slashes = slashes + 1, "
                  + "state = CASE WHEN $4 THEN 'ejected' ELSE state END, ejected_reason = COALESCE($5, ejected_reason), "
                  + "updated_at = now() WHERE node_id = $1")
              .execute(Tuple.of(node, rep, stake, eject, reason)).mapEmpty();
          Future<Void> logged = updated.compose(v -> event(conn, node, "slash", taskId, -amount, rep, evidence));
          if (!eject) {
            return logged;
          }
          return logged.compose(v -> event(conn, node, "eject", taskId, 0, rep, evidence.copy().put("reason", reason)))
              .onSuccess(v -> {
                ejected.add(node);
                registry.counter("inferium.ejections").increment();
              });
        });
  }

  /** Adds stake (an admin deposit for now). */
  public Future<JsonObject> deposit(String nodeId, long microUsd) {
    return pool.withTransaction(conn -> conn.preparedQuery("UPDATE nodes SET stake_micro_usd = stake_micro_usd + $2, "
            + "updated_at = now() WHERE node_id = $1 RETURNING stake_micro_usd, reputation")
        .execute(Tuple.of(nodeId, microUsd))
        .compose(rows -> rows.size() == 0 ? Future.succeededFuture((JsonObject) null)
            : event(conn, nodeId, "deposit", null, microUsd, rows.iterator().next().getDouble(1), null)
                .map(v -> new JsonObject().put("node_id", nodeId).put("stake_micro_usd", rows.iterator().next().getLong(0)))));
  }

  private Future<Void> event(SqlConnection conn, String node, String kind, String taskId, long delta, double rep,
      JsonObject evidence) {
    return conn.preparedQuery("INSERT INTO node_events (node_id, kind, task_id, stake_delta_micro_usd, reputation_after, evidence) "
            + "VALUES ($1, $2, $3, $4, $5, $6)")
        .execute(Tuple.of(node, kind, taskId, delta, rep, evidence)).mapEmpty();
  }

  /** Every node with its ledger state and its latest events. */
  public Future<List<JsonObject>> list() {
    return pool.query("SELECT n.*, (SELECT COALESCE(json_agg(e ORDER BY e.id DESC), '[]'::json) FROM (SELECT id, kind, task_id, "
            + "stake_delta_micro_usd, reputation_after, evidence, at FROM node_events WHERE node_id = n.node_id "
            + "ORDER BY id DESC LIMIT 20) e) AS recent FROM nodes n ORDER BY node_id")
        .execute().map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          for (Row r : rows) {
            Object recent = r.getValue("recent");
            out.add(new JsonObject()
                .put("node_id", r.getString("node_id"))
                .put("state", r.getString("state"))
                .put("reputation", r.getDouble("reputation"))
                .put("stake_micro_usd", r.getLong("stake_micro_usd"))
                .put("slashes", r.getInteger("slashes"))
                .put("verified_tasks", r.getLong("verified_tasks"))
                .put("rewards_micro_usd", r.getLong("rewards_micro_usd"))
                .put("ejected_reason", r.getString("ejected_reason"))
                .put("first_seen", r.getOffsetDateTime("first_seen").withOffsetSameInstant(ZoneOffset.UTC)
                    .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
                .put("recent_events", recent instanceof JsonArray a ? a : new JsonArray(String.valueOf(recent))));
          }
          return out;
        });
  }

  private void track(String node, double rep) {
    if (reputation.put(node, rep) == null) {
      Gauge.builder("inferium.node.reputation", reputation, m -> m.getOrDefault(node, 0.0))
          .description("Reputation per node").tag("node", node).register(registry);
    }
  }
}
