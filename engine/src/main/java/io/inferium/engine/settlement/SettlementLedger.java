package io.inferium.engine.settlement;

import io.inferium.chain.PayoutEpoch;
import io.inferium.chain.Settler;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.web3j.utils.Numeric;

/**
 * The payout ledger's side of settlement (V30): payout addresses, settlement epochs built from unsettled payout rows
 * and contest credits, and the outbox of epochs waiting to be opened on {@code PayoutDistributor}.
 *
 * <p>Amounts: the ledger is integer micro-dollars; the token has 18 decimals and settles at 1 INF per USD, so one
 * micro-dollar is {@value #BASE_PER_MICRO_USD_TEXT} base units. Developers' shares go to the address of the function
 * owner's tenant, operators' shares to the address of the tenant whose operator key registered the node, contest
 * credits to the credited tenant; the platform's rows marked burned become the epoch's burned share. A row is
 * settled in exactly one epoch: the epoch's transaction sets {@code settlement_epoch} on it with
 * {@code UPDATE … WHERE settlement_epoch IS NULL} under an advisory lock, so concurrent builders (two gateways
 * sharing the database) never count a row twice. Rows of a party without an address stay for a later epoch.
 */
public final class SettlementLedger {

  static final String BASE_PER_MICRO_USD_TEXT = "10^12";
  /** Token base units per ledger micro-dollar (1 INF = 10^18 units = 1 USD). */
  public static final BigInteger BASE_PER_MICRO_USD = BigInteger.TEN.pow(12);
  private static final long EPOCH_LOCK = 0x5e771e5e771eL;
  private static final Pattern ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");

  /** An epoch waiting to be opened on chain. */
  public record Pending(PayoutEpoch epoch, int attempts) {
  }

  /** What a build produced: the epoch and the ledger amounts it covers. */
  public record Built(PayoutEpoch epoch, int accounts, long payoutMicroUsd, long platformMicroUsd) {
  }

  private final Vertx vertx;
  private final Pool pool;

  public SettlementLedger(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  /** A checked, lower-cased 0x address; refuses anything else naming the field. */
  public static String address(String field, Object value) {
    if (!(value instanceof String s) || !ADDRESS.matcher(s).matches()) {
      throw new IllegalArgumentException("field '" + field + "': expected a 0x-prefixed 20-byte hex address, got "
          + (value instanceof String s ? "'" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "'" : value));
    }
    String a = s.toLowerCase(Locale.ROOT);
    if (a.equals("0x" + "0".repeat(40))) {
      throw new IllegalArgumentException("field '" + field + "': the zero address cannot claim");
    }
    return a;
  }

  public Future<Void> setAddress(String tenantId, String address) {
    return pool.preparedQuery("INSERT INTO payout_addresses (tenant_id, address) VALUES ($1, $2) "
            + "ON CONFLICT (tenant_id) DO UPDATE SET address = EXCLUDED.address, updated_at = now()")
        .execute(Tuple.of(tenantId, address)).mapEmpty();
  }

  public Future<Optional<String>> addressOf(String tenantId) {
    return pool.preparedQuery("SELECT address FROM payout_addresses WHERE tenant_id = $1").execute(Tuple.of(tenantId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next().getString("address")));
  }

  /**
   * Builds the next epoch from everything unsettled answered before {@code cutoff}; empty when no party with an
   * address is owed anything (then nothing is marked).
   */
  public Future<Optional<Built>> build(Instant cutoff) {
    Tuple cut = Tuple.of(cutoff.atOffset(ZoneOffset.UTC));
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock($1)").execute(Tuple.of(EPOCH_LOCK))
        .compose(locked -> conn.query("SELECT COALESCE(MAX(epoch), 0) + 1 AS next FROM settlement_epochs").execute())
        .compose(next -> {
          long epoch = next.iterator().next().getLong("next");
          Tuple args = Tuple.of(epoch, cutoff.atOffset(ZoneOffset.UTC));
          return conn.preparedQuery(OWED).execute(args).compose(owed -> {
            Map<String, BigInteger> amounts = new LinkedHashMap<>();
            Map<String, Long> micro = new LinkedHashMap<>();
            Map<String, String[]> tenants = new LinkedHashMap<>();
            for (Row r : owed) {
              long m = r.getLong("amount");
              if (m > 0) {
                String a = r.getString("address");
                micro.put(a, m);
                amounts.put(a, BigInteger.valueOf(m).multiply(BASE_PER_MICRO_USD));
                tenants.put(a, r.getArrayOfStrings("tenants"));
              }
            }
            if (amounts.isEmpty()) {
              // Nothing to pay: fail the transaction so the marks are undone (the platform's rows wait with the rest).
              return Future.<Optional<Built>>failedFuture(NOTHING_OWED);
            }
            return conn.preparedQuery(PLATFORM).execute(args).compose(platformRows -> {
              Row p = platformRows.iterator().next();
              long burnedMicro = p.getLong("burned");
              return vertx.executeBlocking(() -> PayoutEpoch.of(epoch, amounts,
                      BigInteger.valueOf(burnedMicro).multiply(BASE_PER_MICRO_USD)), false)
                  .compose(pe -> insert(conn, pe, cutoff, micro, tenants, burnedMicro)
                      .map(v -> Optional.of(new Built(pe, micro.size(), micro.values().stream().mapToLong(Long::longValue).sum(),
                          burnedMicro))));
            });
          });
        })).recover(err -> err == NOTHING_OWED ? Future.succeededFuture(Optional.empty()) : Future.failedFuture(err));
  }

  private static final RuntimeException NOTHING_OWED = new RuntimeException("nothing owed", null, false, false) {
  };

  /** Marks the unsettled owed rows of parties with an address and sums them per address. */
  private static final String OWED = "WITH dev AS ("
      + " UPDATE payouts p SET settlement_epoch = $1 FROM payout_addresses a"
      + " WHERE p.role = 'developer' AND p.party = a.tenant_id AND p.settlement_epoch IS NULL AND p.at < $2"
      + " RETURNING a.address, a.tenant_id, p.amount_micro_usd AS amount),"
      + " op AS ("
      + " UPDATE payouts p SET settlement_epoch = $1 FROM nodes n JOIN api_keys k ON k.id = n.operator_key_id"
      + " JOIN payout_addresses a ON a.tenant_id = COALESCE(k.tenant_id, 'operator:' || k.id)"
      + " WHERE p.role = 'operator' AND p.party = n.node_id AND p.settlement_epoch IS NULL AND p.at < $2"
      + " RETURNING a.address, a.tenant_id, p.amount_micro_usd AS amount),"
      + " cr AS ("
      + " UPDATE credits c SET settlement_epoch = $1 FROM payout_addresses a"
      + " WHERE c.party = a.tenant_id AND c.settlement_epoch IS NULL AND c.at < $2"
      + " RETURNING a.address, a.tenant_id, c.amount_micro_usd AS amount)"
      + " SELECT address, array_agg(DISTINCT tenant_id ORDER BY tenant_id) AS tenants, sum(amount)::bigint AS amount"
      + " FROM (SELECT * FROM dev UNION ALL SELECT * FROM op UNION ALL SELECT * FROM cr) owed"
      + " GROUP BY address ORDER BY address";

  /** Marks the platform's rows up to the cutoff; the burned ones are what the epoch burns. */
  private static final String PLATFORM = "WITH pl AS ("
      + " UPDATE payouts SET settlement_epoch = $1 WHERE role = 'platform' AND settlement_epoch IS NULL AND at < $2"
      + " RETURNING amount_micro_usd, burned)"
      + " SELECT COALESCE(sum(amount_micro_usd) FILTER (WHERE burned), 0)::bigint AS burned FROM pl";

  private static Future<Void> insert(SqlConnection conn, PayoutEpoch pe, Instant cutoff, Map<String, Long> micro,
      Map<String, String[]> tenants, long burnedMicro) {
    long payoutMicro = micro.values().stream().mapToLong(Long::longValue).sum();
    return conn.preparedQuery("INSERT INTO settlement_epochs (epoch, root, cutoff, payout_total, platform_share, "
            + "payout_micro_usd, platform_micro_usd, accounts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .execute(Tuple.tuple().addLong(pe.epoch()).addValue(Buffer.buffer(pe.root()))
            .addValue(cutoff.atOffset(ZoneOffset.UTC)).addValue(new BigDecimal(pe.payoutTotal()))
            .addValue(new BigDecimal(pe.platformShare())).addLong(payoutMicro).addLong(burnedMicro)
            .addInteger(micro.size()))
        .compose(v -> {
          List<Tuple> rows = new ArrayList<>();
          for (Map.Entry<String, Long> e : micro.entrySet()) {
            rows.add(Tuple.tuple().addLong(pe.epoch()).addString(e.getKey())
                .addValue(new BigDecimal(pe.amountOf(e.getKey()).orElseThrow())).addLong(e.getValue())
                .addArrayOfString(tenants.get(e.getKey())));
          }
          return conn.preparedQuery("INSERT INTO settlement_claims (epoch, address, amount, amount_micro_usd, tenants) "
              + "VALUES ($1, $2, $3, $4, $5)").executeBatch(rows);
        }).mapEmpty();
  }

  /** Epochs built and not yet opened on chain, oldest first: the outbox. */
  public Future<List<Pending>> pending() {
    return pool.query("SELECT e.epoch, e.platform_share, e.attempts, c.address, c.amount FROM settlement_epochs e "
            + "JOIN settlement_claims c USING (epoch) WHERE e.tx_hash IS NULL ORDER BY e.epoch, c.address").execute()
        .compose(rows -> vertx.executeBlocking(() -> {
          List<Pending> out = new ArrayList<>();
          for (Map.Entry<Long, List<Row>> e : byEpoch(rows).entrySet()) {
            Row first = e.getValue().get(0);
            out.add(new Pending(epochOf(e.getKey(), e.getValue(), first.getBigDecimal("platform_share")),
                first.getInteger("attempts")));
          }
          return out;
        }, false));
  }

  public Future<Void> opened(Settler.Opened opened) {
    return pool.preparedQuery("UPDATE settlement_epochs SET tx_hash = $2, block_number = $3, opened_at = now(), "
            + "last_error = NULL WHERE epoch = $1 AND tx_hash IS NULL")
        .execute(Tuple.of(opened.epoch(), opened.transactionHash(), opened.blockNumber())).mapEmpty();
  }

  public Future<Void> failed(long epoch, String error) {
    return pool.preparedQuery("UPDATE settlement_epochs SET attempts = attempts + 1, last_error = $2 WHERE epoch = $1")
        .execute(Tuple.of(epoch, error.length() > 500 ? error.substring(0, 500) : error)).mapEmpty();
  }

  /** How many built epochs wait to be opened. */
  public Future<Long> unopened() {
    return pool.query("SELECT count(*) AS n FROM settlement_epochs WHERE tx_hash IS NULL").execute()
        .map(rows -> rows.iterator().next().getLong("n"));
  }

  /**
   * The settlements that pay {@code tenantId} (its most recent {@code limit} epochs), each with what
   * {@code claim(epoch, amount, proof)} needs and whether the epoch is open on chain yet.
   */
  public Future<JsonArray> claimsOf(String tenantId, int limit) {
    return pool.preparedQuery("SELECT e.epoch, e.platform_share, e.tx_hash, e.block_number, e.attempts, e.last_error, "
            + "e.cutoff, c.address, c.amount, c.amount_micro_usd, c.tenants FROM settlement_epochs e "
            + "JOIN settlement_claims c USING (epoch) WHERE e.epoch IN (SELECT epoch FROM settlement_claims "
            + "WHERE $1 = ANY(tenants) ORDER BY epoch DESC LIMIT $2) ORDER BY e.epoch, c.address")
        .execute(Tuple.of(tenantId, limit))
        .compose(rows -> vertx.executeBlocking(() -> {
          JsonArray out = new JsonArray();
          for (Map.Entry<Long, List<Row>> e : byEpoch(rows).entrySet()) {
            PayoutEpoch pe = epochOf(e.getKey(), e.getValue(), e.getValue().get(0).getBigDecimal("platform_share"));
            for (Row r : e.getValue()) {
              if (!List.of(r.getArrayOfStrings("tenants")).contains(tenantId)) {
                continue;
              }
              String address = r.getString("address");
              JsonArray proof = new JsonArray();
              pe.proofFor(address).orElseThrow().forEach(p -> proof.add(Numeric.toHexString(p)));
              String tx = r.getString("tx_hash");
              JsonObject claim = new JsonObject().put("epoch", e.getKey()).put("address", address)
                  .put("amount", r.getBigDecimal("amount").toBigInteger().toString())
                  .put("amount_micro_usd", r.getLong("amount_micro_usd"))
                  .put("cutoff", r.getOffsetDateTime("cutoff").toInstant().toString())
                  .put("root", Numeric.toHexString(pe.root())).put("proof", proof)
                  .put("state", tx == null ? "awaiting opening" : "open");
              if (tx != null) {
                claim.put("tx_hash", tx).put("block_number", r.getLong("block_number"));
              } else if (r.getString("last_error") != null) {
                claim.put("attempts", r.getInteger("attempts")).put("last_error", r.getString("last_error"));
              }
              out.add(claim);
            }
          }
          return out;
        }, false));
  }

  private static Map<Long, List<Row>> byEpoch(Iterable<Row> rows) {
    Map<Long, List<Row>> out = new LinkedHashMap<>();
    for (Row r : rows) {
      out.computeIfAbsent(r.getLong("epoch"), k -> new ArrayList<>()).add(r);
    }
    return out;
  }

  private static PayoutEpoch epochOf(long epoch, List<Row> claims, BigDecimal platformShare) {
    Map<String, BigInteger> amounts = new LinkedHashMap<>();
    for (Row r : claims) {
      amounts.put(r.getString("address"), r.getBigDecimal("amount").toBigInteger());
    }
    return PayoutEpoch.of(epoch, amounts, platformShare.toBigInteger());
  }
}
