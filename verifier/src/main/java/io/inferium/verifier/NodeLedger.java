package io.inferium.verifier;

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
  private final NodeHistory history;
  private final LedgerSettings settings;
  private final MeterRegistry registry;
  private final Set<String> ejected = ConcurrentHashMap.newKeySet();
  private final Map<String, Double> reputation = new ConcurrentHashMap<>();

  public NodeLedger(Pool pool, LedgerSettings settings, MeterRegistry registry) {
    this.pool = pool;
    this.history = new NodeHistory(pool);
    this.settings = settings;
    this.registry = registry;
  }

  /**
   * Reputation a node gets back when an admin reinstates it without naming another: that of a
   * fresh node (1.0), so it needs the same run of faults as a new node to be ejected again.
   */
  public static final double REINSTATED_REPUTATION = 1.0;

  /** The nodes' events read back in pages. */
  public NodeHistory history() {
    return history;
  }

  public LedgerSettings settings() {
    return settings;
  }

  /** Loads which nodes are ejected (so dispatch can skip them at once). */
  public Future<Void> load() {
    return pool.query("SELECT node_id, state, reputation, stake_micro_usd, slashes FROM nodes").execute().map(rows -> {
      rows.forEach(r -> remember(r, false));
      return null;
    });
  }

  /** How far back {@link #refresh} looks before its last read: a change commits a little after its {@code updated_at}. */
  private static final java.time.Duration REFRESH_OVERLAP = java.time.Duration.ofSeconds(10);
  private java.time.OffsetDateTime refreshedTo;

  /**
   * Reads the nodes another gateway on the same database changed since the last refresh ({@code --shared-db}):
   * ejections, reinstatements, reputation, stake. Rows are read again for a while after their change (the overlap),
   * so one that commits late is not missed; reading a row twice is harmless.
   */
  public Future<Void> refresh() {
    java.time.OffsetDateTime from = refreshedTo == null ? java.time.OffsetDateTime.now().minusYears(100)
        : refreshedTo.minus(REFRESH_OVERLAP);
    return pool.preparedQuery("SELECT node_id, state, reputation, stake_micro_usd, slashes, now() AS read_at FROM nodes "
            + "WHERE updated_at > $1").execute(Tuple.of(from))
        .map(rows -> {
          for (Row r : rows) {
            remember(r, reputation.containsKey(r.getString("node_id")));
            if (!"ejected".equals(r.getString("state"))) {
              ejected.remove(r.getString("node_id"));
            }
          }
          return null;
        })
        .compose(v -> pool.query("SELECT now() AS t").execute())
        .map(rows -> {
          refreshedTo = rows.iterator().next().getOffsetDateTime("t");
          return null;
        });
  }

  /** Records a node the first time it attaches, with the initial stake. */
  public Future<Void> register(String nodeId, String publicKey) {
    return pool.preparedQuery("INSERT INTO nodes (node_id, public_key, stake_micro_usd) VALUES ($1, $2, $3) "
            + "ON CONFLICT (node_id) DO UPDATE SET public_key = COALESCE(EXCLUDED.public_key, nodes.public_key) "
            + "RETURNING node_id, state, reputation, stake_micro_usd, slashes")
        .execute(Tuple.of(nodeId, publicKey, settings.initialStakeMicroUsd()))
        .map(rows -> {
          remember(rows.iterator().next(), true);
          return null;
        });
  }

  /**
   * Records a remote node under the operator whose key registered it, with no stake (it must be staked
   * before it is eligible for work). Fails with {@link OtherOperator} when the node already belongs to
   * another operator: a node belongs to one operator.
   */
  public Future<Void> registerRemote(String nodeId, String publicKey, String operatorKeyId) {
    return pool.preparedQuery("INSERT INTO nodes (node_id, public_key, stake_micro_usd, operator_key_id, remote) "
            + "VALUES ($1, $2, 0, $3, true) ON CONFLICT (node_id) DO UPDATE SET updated_at = now() "
            + "WHERE nodes.remote AND nodes.operator_key_id = EXCLUDED.operator_key_id "
            + "RETURNING node_id, state, reputation, stake_micro_usd, slashes")
        .execute(Tuple.of(nodeId, publicKey, operatorKeyId))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            return Future.failedFuture(new OtherOperator("node " + nodeId + " is registered to another operator"));
          }
          remember(rows.iterator().next(), true);
          return Future.succeededFuture();
        });
  }

  /** A node that is already registered to another operator (or is a local worker). */
  public static final class OtherOperator extends RuntimeException {
    public OtherOperator(String message) {
      super(message, null, false, false);
    }
  }

  /** The node's stake as the ledger holds it now (0 for a node it does not know). */
  public synchronized long stake(String nodeId) {
    NodeState st = states.get(nodeId);
    return st == null ? 0 : st.stake;
  }

  /**
   * The node's worker is gone: its reputation gauge goes (node ids are per key, and a local worker
   * gets a fresh key per spawn, so gauges of gone nodes would pile up). Its record stays.
   */
  public void detach(String nodeId) {
    if (reputation.remove(nodeId) != null) {
      registry.find("inferium.node.reputation").tag("node", nodeId).meters().forEach(registry::remove);
    }
  }

  private synchronized void remember(Row r, boolean attached) {
    String node = r.getString("node_id");
    NodeState st = state(node);
    st.reputation = r.getDouble("reputation");
    st.stake = r.getLong("stake_micro_usd");
    st.slashes = r.getInteger("slashes");
    st.ejected = "ejected".equals(r.getString("state"));
    if (st.ejected) {
      ejected.add(node);
    }
    if (attached) {
      gauge(node, st.reputation);
    }
  }

  /** The reputation of an attached node as the ledger holds it now; NaN for one it does not show. */
  public double reputation(String nodeId) {
    Double r = reputation.get(nodeId);
    return r == null ? Double.NaN : r;
  }

  public boolean isEjected(String nodeId) {
    return ejected.contains(nodeId);
  }

  /** The ledger's view of one node, kept in memory so dispatch sees an ejection at once. */
  private static final class NodeState {
    double reputation;
    long stake;
    int slashes;
    boolean ejected;
  }

  private final Map<String, NodeState> states = new ConcurrentHashMap<>();

  /** Task ids whose verdict is applied, for {@link #record}'s idempotence; bounded, oldest forgotten first. */
  public static final int REMEMBERED_TASKS = 65_536;
  private final Map<String, Boolean> recorded = new java.util.LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > REMEMBERED_TASKS;
    }
  };
  /** Writes go to PostgreSQL one after another, in the order the verdicts were decided. */
  private Future<Void> writes = Future.succeededFuture();

  private NodeState state(String node) {
    return states.computeIfAbsent(node, n -> {
      NodeState fresh = new NodeState();
      fresh.reputation = 1;
      fresh.stake = settings.initialStakeMicroUsd();
      return fresh;
    });
  }

  /**
   * Applies a verdict: {@code nodes.get(i)} produced run {@code i}, whose output hashed to
   * {@code hashes.get(i)}. Disputed and unverified tasks change nothing (no majority to judge by).
   * The decision (and an ejection) takes effect in memory at once; the returned future completes when
   * it is stored. Idempotent on {@code taskId}: a task already recorded (among the last
   * {@link #REMEMBERED_TASKS}) changes nothing again, so task ids must be unique per task, never a
   * client's request id alone.
   */
  /** A slash the ledger decided and stored: what a chain mirror sends on (issue 13). */
  public record SlashDecision(String taskId, String nodeId, long amountMicroUsd, JsonObject evidence, boolean eject) {
  }

  private volatile java.util.function.Consumer<SlashDecision> onSlash = d -> { };

  /** Called (on the storing thread) with each slash once it is stored. */
  public void onSlash(java.util.function.Consumer<SlashDecision> listener) {
    this.onSlash = listener;
  }

  public synchronized Future<Void> record(String taskId, Consensus.Verdict verdict, List<String> nodes, List<String> hashes) {
    if (verdict.kind() != Consensus.Kind.VERIFIED) {
      return Future.succeededFuture();
    }
    if (recorded.put(taskId, Boolean.TRUE) != null) {
      return Future.succeededFuture();
    }
    registry.counter("inferium.verification.tasks", "verdict", verdict.kind().wire()).increment();
    java.util.TreeSet<String> touched = new java.util.TreeSet<>();
    // At once in memory, so dispatch sees an ejection before the write: the provisional step from this gateway's view.
    for (int i : verdict.agreeing()) {
      touched.add(nodes.get(i));
      reward(state(nodes.get(i)));
    }
    for (int i : verdict.outliers()) {
      touched.add(nodes.get(i));
      NodeState st = state(nodes.get(i));
      if (slash(st)) {
        ejected.add(nodes.get(i));
      }
    }
    touched.forEach(n -> track(n, states.get(n).reputation));
    touched.forEach(n -> pending.merge(n, 1, Integer::sum));
    // Stored from the rows as the database holds them, locked: another gateway on the same database (or a deposit)
    // may have changed them since this one read them, and a step computed from memory would overwrite its step.
    Future<Stored> write = writes.transform(ignored -> pool.withTransaction(conn -> locked(conn, touched).compose(rows -> {
      Future<Void> chain = Future.succeededFuture();
      List<SlashDecision> decided = new ArrayList<>();
      for (int i : verdict.agreeing()) {
        String node = nodes.get(i);
        NodeState st = rows.get(node);
        if (st == null) {
          continue;
        }
        reward(st);
        double rep = st.reputation;
        long stake = st.stake;
        chain = chain.compose(v -> conn.preparedQuery("UPDATE nodes SET reputation = $2, stake_micro_usd = $3, "
                + "verified_tasks = verified_tasks + 1, rewards_micro_usd = rewards_micro_usd + $4, updated_at = now() "
                + "WHERE node_id = $1")
            .execute(Tuple.of(node, rep, stake, settings.rewardMicroUsd()))
            .compose(r -> event(conn, node, "reward", taskId, settings.rewardMicroUsd(), rep, null)));
      }
      for (int i : verdict.outliers()) {
        String node = nodes.get(i);
        NodeState st = rows.get(node);
        if (st == null) {
          continue;
        }
        long amount = slashAmount(st);
        boolean eject = slash(st);
        String reason = !eject ? null : st.reputation < settings.minReputation()
            ? String.format(java.util.Locale.ROOT, "reputation %.3f below %.3f", st.reputation, settings.minReputation())
            : "stake " + st.stake + " µ$ below " + settings.minStakeMicroUsd() + " µ$";
        double rep = st.reputation;
        long stake = st.stake;
        int slashes = st.slashes;
        int run = i;
        JsonObject evidence = new JsonObject().put("task_id", taskId)
            .put("output_sha256", hashes.get(run))
            .put("agreeing_output_sha256", hashes.get(verdict.agreeing().get(0)))
            .put("similarity_to_agreeing", new JsonArray(verdict.agreeing().stream().map(a -> verdict.matrix()[run][a]).toList()))
            .put("agreeing_nodes", new JsonArray(verdict.agreeing().stream().map(nodes::get).toList()));
        decided.add(new SlashDecision(taskId, node, amount, evidence, eject));
        chain = chain.compose(v -> conn.preparedQuery("UPDATE nodes SET reputation = $2, stake_micro_usd = $3, slashes = $4, "
                + "state = CASE WHEN $5 THEN 'ejected' ELSE state END, ejected_reason = COALESCE($6, ejected_reason), "
                + "updated_at = now() WHERE node_id = $1")
            .execute(Tuple.of(node, rep, stake, slashes, eject, reason))
            .compose(r -> event(conn, node, "slash", taskId, -amount, rep, evidence))
            .compose(r -> eject ? event(conn, node, "eject", taskId, 0, rep, evidence.copy().put("reason", reason))
                : Future.succeededFuture()));
      }
      return chain.map(v -> new Stored(rows, decided));
    })));
    writes = write.<Void>mapEmpty().otherwiseEmpty();
    return write.onComplete(ar -> settle(touched, ar.succeeded() ? ar.result() : null)).mapEmpty();
  }

  /** What a verdict's transaction stored: the nodes' rows after it, and the slashes it decided. */
  private record Stored(Map<String, NodeState> rows, List<SlashDecision> decided) {}

  /** The agreeing node's step: reputation towards 1, the reward added to its stake. */
  private void reward(NodeState st) {
    double w = settings.reputationWeight();
    st.reputation = (1 - w) * st.reputation + w;
    st.stake += settings.rewardMicroUsd();
  }

  /** What the next slash of {@code st} takes: the base amount doubled for each earlier slash. */
  private long slashAmount(NodeState st) {
    return settings.slashMicroUsd() << Math.min(20, st.slashes);
  }

  /** The outvoted node's step: slashed, reputation lowered; true when this step ejects it. */
  private boolean slash(NodeState st) {
    st.stake -= slashAmount(st);
    st.slashes++;
    st.reputation = (1 - settings.reputationWeight()) * st.reputation;
    boolean eject = !st.ejected && (st.reputation < settings.minReputation() || st.stake < settings.minStakeMicroUsd());
    st.ejected |= eject;
    return eject;
  }

  /** Locks the nodes' rows in node-id order (two gateways locking the same nodes never deadlock) and reads them. */
  private static Future<Map<String, NodeState>> locked(SqlConnection conn, java.util.SortedSet<String> nodes) {
    return conn.preparedQuery("SELECT node_id, state, reputation, stake_micro_usd, slashes FROM nodes "
            + "WHERE node_id = ANY($1) ORDER BY node_id FOR UPDATE")
        .execute(Tuple.tuple().addArrayOfString(nodes.toArray(String[]::new)))
        .map(rows -> {
          Map<String, NodeState> out = new java.util.HashMap<>();
          for (Row r : rows) {
            NodeState st = new NodeState();
            st.reputation = r.getDouble("reputation");
            st.stake = r.getLong("stake_micro_usd");
            st.slashes = r.getInteger("slashes");
            st.ejected = "ejected".equals(r.getString("state"));
            out.put(r.getString("node_id"), st);
          }
          return out;
        });
  }

  /** Steps taken in memory whose write has not finished yet, per node. */
  private final Map<String, Integer> pending = new java.util.HashMap<>();

  /**
   * A write of {@code nodes} finished ({@code stored} null when it failed). Memory takes the stored rows (the database's
   * step may differ from the provisional one when another gateway changed the node meanwhile) once no later step of
   * the node is still on its way, so a step taken in memory after this one is never undone by it. An ejection stays:
   * only a reinstatement, read by {@link #refresh}, lifts it.
   */
  private void settle(java.util.Collection<String> nodes, Stored stored) {
    synchronized (this) {
      for (String node : nodes) {
        int left = pending.merge(node, -1, Integer::sum);
        if (left <= 0) {
          pending.remove(node);
        }
        NodeState row = stored == null ? null : stored.rows().get(node);
        if (row == null) {
          continue;
        }
        NodeState st = state(node);
        if (left <= 0) {
          st.reputation = row.reputation;
          st.stake = row.stake;
          st.slashes = row.slashes;
        }
        st.ejected |= row.ejected;
        if (st.ejected) {
          ejected.add(node);
        }
        track(node, st.reputation);
      }
    }
    if (stored == null) {
      return;
    }
    for (SlashDecision d : stored.decided()) {
      registry.counter("inferium.slashes").increment();
      if (d.eject()) {
        registry.counter("inferium.ejections").increment();
      }
      onSlash.accept(d);
    }
  }


  /** A node's results failed attestation (a wrong or withheld seal): recorded, and the node is ejected at once. */
  public static final String ATTESTATION_FAILED = "attestation_failed";

  /**
   * A reliability failure: the node missed its heartbeats ({@code heartbeat_miss}) or did not stop a
   * cancelled run in time ({@code deadline_miss}). It lowers reputation like a disagreement (no stake
   * is taken) and can eject the node. {@link #ATTESTATION_FAILED} (its seal did not match what it sent,
   * or it stopped sealing) is not a slip but evidence that its answers cannot be trusted: it ejects the
   * node at once, whatever its reputation.
   */
  public synchronized Future<Void> penalize(String node, String kind, String detail) {
    NodeState st = states.get(node);
    if (st == null) {
      return Future.succeededFuture();
    }
    boolean fraud = ATTESTATION_FAILED.equals(kind);
    if (miss(st, fraud)) {
      ejected.add(node);
    }
    track(node, st.reputation);
    registry.counter("inferium.node.misses", "kind", kind).increment();
    JsonObject evidence = new JsonObject().put("detail", detail);
    java.util.TreeSet<String> one = new java.util.TreeSet<>(List.of(node));
    pending.merge(node, 1, Integer::sum);
    Future<Stored> write = writes.transform(ignored -> pool.withTransaction(conn -> locked(conn, one).compose(rows -> {
      NodeState row = rows.get(node);
      if (row == null) {
        return Future.succeededFuture(new Stored(rows, List.of()));
      }
      boolean eject = miss(row, fraud);
      String reason = !eject ? null : fraud ? "failed attestation of its results: " + detail
          : String.format(java.util.Locale.ROOT, "reputation %.3f below %.3f after %s",
              row.reputation, settings.minReputation(), kind);
      double rep = row.reputation;
      return conn.preparedQuery("UPDATE nodes SET reputation = $2, state = CASE WHEN $3 THEN 'ejected' ELSE state END, "
              + "ejected_reason = COALESCE($4, ejected_reason), updated_at = now() WHERE node_id = $1")
          .execute(Tuple.of(node, rep, eject, reason))
          .compose(r -> event(conn, node, kind, null, 0, rep, evidence))
          .compose(r -> eject ? event(conn, node, "eject", null, 0, rep, evidence.copy().put("reason", reason))
              : Future.succeededFuture())
          .map(v -> {
            if (eject) {
              registry.counter("inferium.ejections").increment();
            }
            return new Stored(rows, List.of());
          });
    })));
    writes = write.<Void>mapEmpty().otherwiseEmpty();
    return write.onComplete(ar -> settle(one, ar.succeeded() ? ar.result() : null)).mapEmpty();
  }

  /** A missed heartbeat or deadline lowers reputation; a failed attestation ejects. True when this step ejects. */
  private boolean miss(NodeState st, boolean fraud) {
    st.reputation = (1 - settings.reputationWeight()) * st.reputation;
    boolean eject = !st.ejected && (fraud || st.reputation < settings.minReputation());
    st.ejected |= eject;
    return eject;
  }

  /**
   * An admin puts an ejected (or active) node back in service: state active, reputation set to
   * {@code newReputation} ({@link #REINSTATED_REPUTATION} unless the admin chose another), stake and
   * slash history kept. Audited: a {@code node_reinstatements} row (who, when, why, before and after)
   * and a {@code reinstate} node event. Completes with null for an unknown node. Dispatch sees it at once.
   */
  public Future<JsonObject> reinstate(String nodeId, String adminKeyId, String reason, double newReputation) {
    Future<JsonObject> write;
    synchronized (this) {
      write = writes.transform(ignored -> pool.withTransaction(conn -> conn
          .preparedQuery("SELECT state, reputation FROM nodes WHERE node_id = $1 FOR UPDATE").execute(Tuple.of(nodeId))
          .compose(rows -> {
            if (rows.size() == 0) {
              return Future.succeededFuture(null);
            }
            Row before = rows.iterator().next();
            String stateBefore = before.getString("state");
            double repBefore = before.getDouble("reputation");
            JsonObject evidence = new JsonObject().put("by", adminKeyId).put("reason", reason)
                .put("state_before", stateBefore).put("reputation_before", repBefore);
            return conn.preparedQuery("UPDATE nodes SET state = 'active', reputation = $2, ejected_reason = NULL, "
                    + "updated_at = now() WHERE node_id = $1").execute(Tuple.of(nodeId, newReputation))
                .compose(r -> conn.preparedQuery("INSERT INTO node_reinstatements (node_id, admin_key_id, reason, state_before, "
                        + "reputation_before, reputation_after) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, at")
                    .execute(Tuple.of(nodeId, adminKeyId, reason, stateBefore, repBefore, newReputation)))
                .compose(ins -> event(conn, nodeId, "reinstate", null, 0, newReputation, evidence).map(v -> {
                  Row row = ins.iterator().next();
                  return new JsonObject().put("node_id", nodeId).put("state", "active").put("reputation", newReputation)
                      .put("state_before", stateBefore).put("reputation_before", repBefore)
                      .put("reinstatement", new JsonObject().put("id", row.getLong("id")).put("by", adminKeyId)
                          .put("reason", reason).put("at", row.getOffsetDateTime("at").withOffsetSameInstant(ZoneOffset.UTC)
                              .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)));
                }));
          })));
      writes = write.<Void>mapEmpty().otherwiseEmpty();
    }
    return write.onSuccess(r -> {
      if (r != null) {
        synchronized (this) {
          NodeState st = state(nodeId);
          st.reputation = newReputation;
          st.ejected = false;
          ejected.remove(nodeId);
          track(nodeId, newReputation);
        }
        registry.counter("inferium.reinstatements").increment();
      }
    });
  }

  /** Adds stake (an admin deposit for now), to the stake as stored: a step another gateway stored is kept. */
  public synchronized Future<JsonObject> deposit(String nodeId, long microUsd) {
    NodeState st = states.get(nodeId);
    if (st == null) {
      return Future.succeededFuture(null);
    }
    st.stake += microUsd;
    pending.merge(nodeId, 1, Integer::sum);
    Map<String, NodeState> after = new java.util.HashMap<>();
    Future<JsonObject> write = writes.transform(ignored -> pool.withTransaction(conn -> conn
        .preparedQuery("UPDATE nodes SET stake_micro_usd = stake_micro_usd + $2, updated_at = now() WHERE node_id = $1 "
            + "RETURNING state, reputation, stake_micro_usd, slashes")
        .execute(Tuple.of(nodeId, microUsd))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(null);
          }
          Row r = rows.iterator().next();
          NodeState row = new NodeState();
          row.reputation = r.getDouble("reputation");
          row.stake = r.getLong("stake_micro_usd");
          row.slashes = r.getInteger("slashes");
          row.ejected = "ejected".equals(r.getString("state"));
          after.put(nodeId, row);
          return event(conn, nodeId, "deposit", null, microUsd, row.reputation, null)
              .map(v -> new JsonObject().put("node_id", nodeId).put("stake_micro_usd", row.stake));
        })));
    writes = write.<Void>mapEmpty().otherwiseEmpty();
    return write.onComplete(ar -> settle(List.of(nodeId), ar.succeeded() ? new Stored(after, List.of()) : null));
  }

  private Future<Void> event(SqlConnection conn, String node, String kind, String taskId, long delta, double rep,
      JsonObject evidence) {
    return conn.preparedQuery("INSERT INTO node_events (node_id, kind, task_id, stake_delta_micro_usd, reputation_after, evidence) "
            + "VALUES ($1, $2, $3, $4, $5, $6)")
        .execute(Tuple.of(node, kind, taskId, delta, rep, evidence)).mapEmpty();
  }

  /** Every node with its ledger state and its latest events. */
  public Future<List<JsonObject>> list() {
    return pool.query(LIST + "ORDER BY node_id").execute().map(NodeLedger::described);
  }

  /**
   * Which nodes a listing holds, ordered by node id, at most {@code limit} of them after {@code after} (null: from
   * the start): every node ({@code all}), or only those that matter now: remote nodes, the nodes named in
   * {@code current} (the attached ones), and local nodes first seen or changed within {@code recentSeconds}. A
   * local worker gets a fresh node id per spawn, so without that filter the list would grow by one per restart.
   * {@code only}, when not null, narrows it to that one node, whatever its age.
   */
  public record Listing(boolean all, java.util.Collection<String> current, long recentSeconds, String after, int limit,
      String only) {}

  /** A page of nodes as {@link #list()} describes them. */
  public Future<List<JsonObject>> list(Listing l) {
    return pool.preparedQuery(LIST + "WHERE ($1 OR n.remote OR n.node_id = ANY($2) "
            + "OR greatest(n.first_seen, n.updated_at) > now() - make_interval(secs => $3)) "
            + "AND ($4::text IS NULL OR n.node_id > $4) AND ($6::text IS NULL OR n.node_id = $6) ORDER BY node_id LIMIT $5")
        .execute(Tuple.of(l.all() || l.only() != null, l.current().toArray(String[]::new), (double) l.recentSeconds(),
            l.after(), l.limit(), l.only()))
        .map(NodeLedger::described);
  }

  /** Each node with its 20 latest events. */
  private static final String LIST = "SELECT n.*, (SELECT COALESCE(json_agg(e ORDER BY e.id DESC), '[]'::json) FROM "
      + "(SELECT id, kind, task_id, stake_delta_micro_usd, reputation_after, evidence, at FROM node_events "
      + "WHERE node_id = n.node_id ORDER BY id DESC LIMIT 20) e) AS recent FROM nodes n ";

  private static List<JsonObject> described(io.vertx.sqlclient.RowSet<Row> rows) {
    List<JsonObject> out = new ArrayList<>();
    for (Row r : rows) {
      Object recent = r.getValue("recent");
      out.add(new JsonObject()
          .put("node_id", r.getString("node_id"))
          .put("state", r.getString("state"))
          .put("public_key", r.getString("public_key"))
          .put("reputation", r.getDouble("reputation"))
          .put("stake_micro_usd", r.getLong("stake_micro_usd"))
          .put("slashes", r.getInteger("slashes"))
          .put("verified_tasks", r.getLong("verified_tasks"))
          .put("rewards_micro_usd", r.getLong("rewards_micro_usd"))
          .put("ejected_reason", r.getString("ejected_reason"))
          .put("remote", r.getBoolean("remote"))
          .put("operator", r.getString("operator_key_id"))
          .put("first_seen", r.getOffsetDateTime("first_seen").withOffsetSameInstant(ZoneOffset.UTC)
              .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
          .put("recent_events", recent instanceof JsonArray a ? a : new JsonArray(String.valueOf(recent))));
    }
    return out;
  }

  /** Updates the gauge of an attached node; other nodes have none (see {@link #detach}). */
  private void track(String node, double rep) {
    reputation.computeIfPresent(node, (k, v) -> rep);
  }

  private void gauge(String node, double rep) {
    if (reputation.put(node, rep) == null) {
      Gauge.builder("inferium.node.reputation", reputation, m -> m.getOrDefault(node, 0.0))
          .description("Reputation per node").tag("node", node).register(registry);
    }
  }
}
