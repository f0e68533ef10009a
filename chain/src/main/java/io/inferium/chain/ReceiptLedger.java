package io.inferium.chain;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * Receipts and their epochs in PostgreSQL ({@code V25__receipts.sql}). Recording is idempotent on the request id
 * (completion events may be delivered again); closing an epoch takes the oldest unassigned receipts under a
 * transaction-scoped advisory lock, so gateways sharing the database never build overlapping epochs. Merkle
 * trees are built on a worker thread (hashing thousands of leaves does not belong on an event loop).
 */
public final class ReceiptLedger {

  /** A receipt as stored: its epoch's proof once it has one, the anchoring once the root is on chain. */
  public record Stored(Receipt receipt, Optional<ReceiptEpoch.Proven> proven, Optional<String> transactionHash,
      Optional<Long> blockNumber, Optional<String> tenantId, Anchoring anchoring) {

    public Stored(Receipt receipt, Optional<ReceiptEpoch.Proven> proven, Optional<String> transactionHash,
        Optional<Long> blockNumber) {
      this(receipt, proven, transactionHash, blockNumber, Optional.empty(), Anchoring.NONE);
    }
  }

  /** The outbox side of a closed epoch: how often anchoring was tried and the last failure (null when none). */
  public record Anchoring(int attempts, String lastError) {
    static final Anchoring NONE = new Anchoring(0, null);
  }

  /** A receipt to record and the tenant whose request it was (null for platform keys). */
  public record Entry(Receipt receipt, String tenantId) {
  }

  /**
   * What the closer and the metrics read: receipts in no epoch yet and the age of the oldest of them (ms; 0 when
   * none), closed epochs not yet anchored and the age of the oldest of them (ms since it closed; 0 when none).
   */
  public record Backlog(long unassigned, long oldestUnassignedMs, long unanchored, long oldestUnanchoredMs) {
  }

  /** An epoch whose root is not yet anchored. */
  public record PendingEpoch(long epoch, byte[] root, int receipts) {
  }

  private static final long EPOCH_LOCK = 0x696e66657270_01L; // "infer" + 1: the receipt-epoch closer
  /**
   * "infer" + 2: taken shared by every insert, exclusively (for an instant) by a closer to learn the highest
   * {@code seq} below which every receipt is committed: sequence values are handed out before commit, so without it
   * an epoch could end past a receipt that commits later and would then belong to no epoch.
   */
  private static final long INSERT_LOCK = 0x696e66657270_02L;

  /** The end of the last range epoch (V29): receipts in no epoch yet are those with epoch NULL and seq above it. */
  private static final String WATERMARK = "(SELECT COALESCE(MAX(last_seq), 0) FROM receipt_epochs)";

  /** Closed epochs never change: the trees of the last few looked up are kept, so repeated lookups do not rebuild them. */
  private static final int CACHED_EPOCHS = 8;

  private final Vertx vertx;
  private final Pool pool;
  private final java.util.Map<Long, ReceiptEpoch> built = new java.util.LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(java.util.Map.Entry<Long, ReceiptEpoch> eldest) {
      return size() > CACHED_EPOCHS;
    }
  };

  public ReceiptLedger(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  /** Stores the receipt; false when its request id was already recorded (the first one stays). */
  public Future<Boolean> record(Receipt receipt) {
    return recordAll(List.of(new Entry(receipt, null))).map(n -> n == 1);
  }

  /**
   * Stores a batch of receipts in one statement; a request id already recorded (or twice in the batch) keeps its
   * first receipt. Completes with how many were new.
   */
  public Future<Integer> recordAll(List<Entry> entries) {
    return recordAll(() -> entries);
  }

  /**
   * {@link #recordAll(List)} of the entries {@code build} makes, on a worker thread together with their leaves: a
   * consumer parses its batch there rather than on the event loop. A failure of {@code build} fails the future and
   * stores nothing.
   */
  public Future<Integer> recordAll(Callable<List<Entry>> build) {
    // Leaves are keccak over ABI encodings: a batch of hundreds is milliseconds of hashing, kept off the event loop.
    return vertx.executeBlocking(() -> columns(build.call()), false)
        .compose(columns -> columns == null ? Future.succeededFuture(0) : insert(columns));
  }

  /**
   * The batch as insert columns: each receipt's leaf is hashed here, once, and stored next to its fields; epochs and
   * proofs are built from the stored leaves and never hash a receipt again. Null for an empty batch.
   */
  private static Tuple columns(List<Entry> entries) {
    int n = entries.size();
    if (n == 0) {
      return null;
    }
    String[] ids = new String[n];
    Buffer[] leaves = new Buffer[n];
    String[] bodies = new String[n];
    String[] tenants = new String[n];
    for (int i = 0; i < n; i++) {
      Receipt r = entries.get(i).receipt();
      ids[i] = r.requestId();
      leaves[i] = Buffer.buffer(r.leaf());
      bodies[i] = r.fieldsJson().encode();
      tenants[i] = entries.get(i).tenantId();
    }
    return Tuple.tuple().addArrayOfString(ids).addArrayOfBuffer(leaves).addArrayOfString(bodies).addArrayOfString(tenants);
  }

  private Future<Integer> insert(Tuple columns) {
    return pool.withTransaction(conn -> insertIn(conn, columns));
  }

  /**
   * The insert, in the caller's transaction on {@code conn} (the ledger's own, or a test's that holds it open).
   * WITH ORDINALITY keeps the batch's order in seq (epochs take receipts in the order they were answered). The body is
   * text (V29): PostgreSQL stores it as given, with no JSON parse per row. The shared lock: see INSERT_LOCK.
   */
  static Future<Integer> insertIn(io.vertx.sqlclient.SqlConnection conn, Tuple columns) {
    return conn.preparedQuery("SELECT pg_advisory_xact_lock_shared($1)").execute(Tuple.of(INSERT_LOCK))
        .compose(locked -> conn.preparedQuery("INSERT INTO receipts (request_id, leaf, body, tenant_id) "
                + "SELECT id, leaf, body, tenant FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[]) "
                + "WITH ORDINALITY AS t(id, leaf, body, tenant, n) ORDER BY n ON CONFLICT (request_id) DO NOTHING")
            .execute(columns))
        .map(rows -> rows.rowCount());
  }

  /** {@link #columns} for a test that inserts through {@link #insertIn}. */
  static Tuple columnsOf(List<Entry> entries) {
    return columns(entries);
  }

  /** See {@link Backlog}: one query over the partial indexes. */
  public Future<Backlog> backlog() {
    return pool.query("SELECT (SELECT count(*) FROM receipts WHERE epoch IS NULL AND seq > " + WATERMARK
            + ") AS unassigned, "
            + "(SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(recorded_at)) * 1000, 0)::bigint FROM receipts "
            + "WHERE epoch IS NULL AND seq > " + WATERMARK + ") AS unassigned_ms, "
            + "(SELECT count(*) FROM receipt_epochs WHERE tx_hash IS NULL) AS unanchored, "
            + "(SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(closed_at)) * 1000, 0)::bigint FROM receipt_epochs "
            + "WHERE tx_hash IS NULL) AS unanchored_ms").execute()
        .map(rows -> {
          Row r = rows.iterator().next();
          return new Backlog(r.getLong("unassigned"), r.getLong("unassigned_ms"), r.getLong("unanchored"),
              r.getLong("unanchored_ms"));
        });
  }

  /** Counts a failed anchoring attempt of {@code epoch} and keeps its error (what {@code /api/receipts} shows). */
  public Future<Void> anchorFailed(long epoch, String error) {
    String kept = error == null ? "unknown error" : error.length() > 500 ? error.substring(0, 500) : error;
    return pool.preparedQuery("UPDATE receipt_epochs SET anchor_attempts = anchor_attempts + 1, anchor_error = $2 "
            + "WHERE epoch = $1 AND tx_hash IS NULL")
        .execute(Tuple.of(epoch, kept)).mapEmpty();
  }

  /**
   * Puts up to {@code maxReceipts} of the oldest unassigned receipts into the next epoch and stores its root;
   * empty when there is nothing to close.
   *
   * <p>An epoch is a range of {@code seq} ({@code first_seq..last_seq}, V29): closing one writes one row, and no
   * receipt row is ever updated. First, for an instant, the insert lock is taken exclusively: no insert is then in
   * flight, so every receipt up to the highest {@code seq} seen is committed and nothing can later appear below it.
   * Then, under the closers' advisory lock, the oldest receipts above the last epoch's end and up to that bound
   * become the epoch.
   */
  public Future<Optional<ReceiptEpoch>> closeEpoch(int maxReceipts) {
    if (maxReceipts < 1) {
      return Future.failedFuture(new IllegalArgumentException("maxReceipts: expected >= 1, got " + maxReceipts));
    }
    Future<Long> committedUpTo = pool.withTransaction(conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock($1)")
        .execute(Tuple.of(INSERT_LOCK))
        .compose(locked -> conn.query("SELECT COALESCE(MAX(seq), 0) AS hi FROM receipts WHERE epoch IS NULL").execute())
        .map(rows -> rows.iterator().next().getLong("hi")));
    return committedUpTo.compose(hi -> pool.withTransaction(conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock($1)")
        .execute(Tuple.of(EPOCH_LOCK))
        .compose(locked -> conn.preparedQuery("SELECT request_id, leaf, seq FROM receipts WHERE epoch IS NULL AND seq > "
            + WATERMARK + " AND seq <= $1 ORDER BY seq LIMIT $2").execute(Tuple.of(hi, maxReceipts)))
        .compose(rows -> {
          Members members = Members.of(rows);
          if (members.ids().isEmpty()) {
            return Future.succeededFuture(Optional.<ReceiptEpoch>empty());
          }
          return conn.query("SELECT COALESCE(MAX(epoch), 0) + 1 AS next FROM receipt_epochs").execute()
              .compose(next -> build(next.iterator().next().getLong("next"), members))
              .compose(epoch -> conn.preparedQuery("INSERT INTO receipt_epochs (epoch, root, receipts, first_seq, "
                      + "last_seq) VALUES ($1, $2, $3, $4, $5)")
                  .execute(Tuple.of(epoch.epoch(), Buffer.buffer(epoch.root()), epoch.count(), members.firstSeq(),
                      members.lastSeq()))
                  .map(inserted -> Optional.of(epoch)));
        })));
  }

  /** Epochs closed but not yet anchored, oldest first (what the anchoring outbox works through). */
  public Future<List<PendingEpoch>> pendingEpochs() {
    return pool.query("SELECT epoch, root, receipts FROM receipt_epochs WHERE tx_hash IS NULL ORDER BY epoch").execute()
        .map(rows -> {
          List<PendingEpoch> out = new ArrayList<>();
          for (Row row : rows) {
            out.add(new PendingEpoch(row.getLong("epoch"), row.getBuffer("root").getBytes(), row.getInteger("receipts")));
          }
          return out;
        });
  }

  /** Records where an epoch's root was anchored; a second call for the same epoch changes nothing. */
  public Future<Void> markAnchored(Anchorer.Anchored anchored) {
    return pool.preparedQuery("UPDATE receipt_epochs SET tx_hash = $2, block_number = $3, anchored_at = now() "
            + "WHERE epoch = $1 AND root = $4 AND tx_hash IS NULL")
        .execute(Tuple.of(anchored.epoch(), anchored.transactionHash(), anchored.blockNumber(), Buffer.buffer(anchored.root())))
        .mapEmpty();
  }

  /**
   * The receipt of {@code requestId}, with its proof once its epoch is closed; empty when unknown. The stored fields
   * must hash to the stored leaf the epoch was built from; a row where they do not fails loudly.
   */
  public Future<Optional<Stored>> find(String requestId) {
    // Its epoch: the one named on the row (closed before V29), or the range epoch whose seq range holds it.
    return pool.preparedQuery("SELECT r.body, r.leaf, e.epoch, e.first_seq, e.last_seq, r.tenant_id, e.tx_hash, "
            + "e.block_number, e.anchor_attempts, e.anchor_error FROM receipts r LEFT JOIN LATERAL ("
            + "(SELECT * FROM receipt_epochs x WHERE x.epoch = r.epoch) UNION ALL "
            + "(SELECT * FROM receipt_epochs x WHERE r.epoch IS NULL AND x.last_seq >= r.seq AND x.first_seq <= r.seq "
            + "ORDER BY x.last_seq LIMIT 1)) e ON true WHERE r.request_id = $1")
        .execute(Tuple.of(requestId))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(Optional.empty());
          }
          Row row = rows.iterator().next();
          Receipt receipt = Receipt.fromJson(new io.vertx.core.json.JsonObject(row.getString("body")));
          if (!java.util.Arrays.equals(receipt.leaf(), row.getBuffer("leaf").getBytes())) {
            return Future.failedFuture(new IllegalStateException("the stored receipt of " + requestId
                + " does not hash to its stored leaf"));
          }
          Optional<String> tx = Optional.ofNullable(row.getString("tx_hash"));
          Optional<Long> block = Optional.ofNullable(row.getLong("block_number"));
          Long epoch = row.getLong("epoch");
          Optional<String> tenant = Optional.ofNullable(row.getString("tenant_id"));
          Anchoring anchoring = epoch == null ? Anchoring.NONE
              : new Anchoring(row.getInteger("anchor_attempts"), row.getString("anchor_error"));
          if (epoch == null) {
            return Future.succeededFuture(Optional.of(new Stored(receipt, Optional.empty(), tx, block, tenant, anchoring)));
          }
          ReceiptEpoch cached;
          synchronized (built) {
            cached = built.get(epoch);
          }
          Long firstSeq = row.getLong("first_seq");
          Long lastSeq = row.getLong("last_seq");
          Future<ReceiptEpoch> tree = cached != null ? Future.succeededFuture(cached)
              : (firstSeq == null
                  ? pool.preparedQuery("SELECT request_id, leaf, seq FROM receipts WHERE epoch = $1 ORDER BY seq")
                      .execute(Tuple.of(epoch))
                  : pool.preparedQuery("SELECT request_id, leaf, seq FROM receipts WHERE epoch IS NULL AND seq >= $1 "
                      + "AND seq <= $2 ORDER BY seq").execute(Tuple.of(firstSeq, lastSeq)))
                  .compose(members -> build(epoch, Members.of(members)))
                  .onSuccess(t -> {
                    synchronized (built) {
                      built.put(epoch, t);
                    }
                  });
          return tree.map(t -> Optional.of(new Stored(receipt, t.prove(receipt), tx, block, tenant, anchoring)));
        });
  }

  /** An epoch's request ids and their stored leaves, in {@code seq} order, and its first and last {@code seq}. */
  private record Members(List<String> ids, List<byte[]> leaves, long firstSeq, long lastSeq) {

    static Members of(io.vertx.sqlclient.RowSet<Row> rows) {
      List<String> ids = new ArrayList<>(rows.size());
      List<byte[]> leaves = new ArrayList<>(rows.size());
      long first = 0;
      long last = 0;
      for (Row row : rows) {
        ids.add(row.getString("request_id"));
        leaves.add(row.getBuffer("leaf").getBytes());
        last = row.getLong("seq");
        first = ids.size() == 1 ? last : first;
      }
      return new Members(ids, leaves, first, last);
    }
  }

  /** The tree over an epoch's leaves (up to tens of thousands of hashes) is built on a worker thread. */
  private Future<ReceiptEpoch> build(long epoch, Members members) {
    return vertx.executeBlocking(() -> ReceiptEpoch.ofLeaves(epoch, members.ids(), members.leaves()), false);
  }
}
