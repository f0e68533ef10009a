package io.inferium.engine.settlement;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * What each node of one operator earned in a window, read from the ledgers that pay it: its share of the charges it
 * served (the payout ledger's {@code operator} rows, party = node id: exactly the rows {@link SettlementLedger} settles
 * to the operator's address), the rewards for its verified runs and the slashes for its outvoted ones (the node
 * ledger's {@code reward} and {@code slash} events, which move its stake). Net = share + rewards − slashes. Every
 * amount is integer micro-dollars. A node is the operator's when its operator key registered it
 * ({@code nodes.operator_key_id}); local workers have no operator and never appear.
 */
public final class OperatorEarnings {

  private final Pool pool;

  public OperatorEarnings(Pool pool) {
    this.pool = pool;
  }

  /** Whether {@code keyId} is an operator key (revoked ones included: their nodes' history stays readable). */
  public Future<Boolean> isOperator(String keyId) {
    return pool.preparedQuery("SELECT 1 FROM api_keys WHERE id = $1 AND role = 'operator'").execute(Tuple.of(keyId))
        .map(rows -> rows.size() > 0);
  }

  /** One row per node of the operator (nodes without activity in the window too), in node id order. */
  private static final String PER_NODE = "WITH mine AS ("
      + " SELECT node_id, public_key, state, first_seen FROM nodes WHERE operator_key_id = $1),"
      + " served AS ("
      + " SELECT p.party AS node_id, sum(p.requests) AS requests, sum(p.amount_micro_usd) AS share,"
      + " COALESCE(sum(p.amount_micro_usd) FILTER (WHERE p.settlement_epoch IS NOT NULL), 0) AS settled"
      + " FROM payouts p JOIN mine m ON m.node_id = p.party"
      + " WHERE p.role = 'operator' AND p.at >= $2 AND p.at < $3 GROUP BY p.party),"
      + " ledger AS ("
      + " SELECT e.node_id, count(*) FILTER (WHERE e.kind = 'reward') AS rewarded,"
      + " COALESCE(sum(e.stake_delta_micro_usd) FILTER (WHERE e.kind = 'reward'), 0) AS rewards,"
      + " count(*) FILTER (WHERE e.kind = 'slash') AS slashes,"
      + " COALESCE(-sum(e.stake_delta_micro_usd) FILTER (WHERE e.kind = 'slash'), 0) AS slashed"
      + " FROM node_events e JOIN mine m ON m.node_id = e.node_id"
      + " WHERE e.kind IN ('reward', 'slash') AND e.at >= $2 AND e.at < $3 GROUP BY e.node_id)"
      + " SELECT m.node_id, m.public_key, m.state, m.first_seen,"
      + " COALESCE(s.requests, 0) AS requests, COALESCE(s.share, 0)::bigint AS share, COALESCE(s.settled, 0)::bigint AS settled,"
      + " COALESCE(l.rewarded, 0) AS rewarded, COALESCE(l.rewards, 0)::bigint AS rewards,"
      + " COALESCE(l.slashes, 0) AS slashes, COALESCE(l.slashed, 0)::bigint AS slashed"
      + " FROM mine m LEFT JOIN served s ON s.node_id = m.node_id LEFT JOIN ledger l ON l.node_id = m.node_id"
      + " ORDER BY m.node_id";

  /**
   * The operator's nodes with what each earned between {@code from} (inclusive) and {@code to} (exclusive), and the
   * totals over them.
   */
  public Future<JsonObject> of(String operatorKeyId, Instant from, Instant to) {
    return pool.preparedQuery(PER_NODE)
        .execute(Tuple.of(operatorKeyId, from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC)))
        .map(rows -> {
          JsonArray nodes = new JsonArray();
          long requests = 0;
          long share = 0;
          long settled = 0;
          long rewarded = 0;
          long rewards = 0;
          long slashes = 0;
          long slashed = 0;
          for (Row r : rows) {
            JsonObject n = node(r);
            nodes.add(n);
            requests += n.getLong("served_requests");
            share += n.getLong("share_micro_usd");
            settled += n.getLong("settled_share_micro_usd");
            rewarded += n.getLong("verified_runs");
            rewards += n.getLong("rewards_micro_usd");
            slashes += n.getLong("slashes");
            slashed += n.getLong("slashed_micro_usd");
          }
          JsonObject totals = new JsonObject().put("nodes", nodes.size()).put("served_requests", requests)
              .put("share_micro_usd", share).put("settled_share_micro_usd", settled).put("verified_runs", rewarded)
              .put("rewards_micro_usd", rewards).put("slashes", slashes).put("slashed_micro_usd", slashed)
              .put("net_micro_usd", share + rewards - slashed);
          return new JsonObject().put("operator", operatorKeyId).put("from", from.toString()).put("to", to.toString())
              .put("nodes", nodes).put("totals", totals);
        });
  }

  private static JsonObject node(Row r) {
    long share = r.getLong("share");
    long rewards = r.getLong("rewards");
    long slashed = r.getLong("slashed");
    return new JsonObject().put("node_id", r.getString("node_id"))
        .put("key_sha256", keyFingerprint(r.getString("public_key")).orElse(null))
        .put("state", r.getString("state"))
        .put("first_seen", r.getOffsetDateTime("first_seen").toInstant().toString())
        .put("served_requests", r.getLong("requests"))
        .put("share_micro_usd", share)
        .put("settled_share_micro_usd", r.getLong("settled"))
        .put("verified_runs", r.getLong("rewarded"))
        .put("rewards_micro_usd", rewards)
        .put("slashes", r.getLong("slashes"))
        .put("slashed_micro_usd", slashed)
        .put("net_micro_usd", share + rewards - slashed);
  }

  /** The SHA-256 (hex) of the node's public key (X.509 DER, stored base64); the node id is its first 16 digits. */
  static Optional<String> keyFingerprint(String publicKey) {
    if (publicKey == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(Base64.getDecoder().decode(publicKey))));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
