package io.inferium.scoring;

import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a charge into payout ledger rows ({@code payouts}, V12): the function's developer, the node
 * operators whose workers ran the request (their share split evenly, the first taking the integer
 * remainder) and the platform, which takes what is left so the rows always add up to the charge. The
 * platform's row can be marked burned (removed from circulation instead of kept) by configuration.
 */
public record PayoutLedger(RevenueSplit split, boolean burnPlatformShare) {

  public static final PayoutLedger DEFAULT = new PayoutLedger(RevenueSplit.DEFAULT, false);
  /** The party name of the platform's rows; also who gets the operators' share when no worker is known. */
  public static final String PLATFORM = "platform";

  /** Inserts the rows of a batch, given as {@link #columns} (one statement over column arrays). */
  static final String INSERT = "INSERT INTO payouts (usage_id, role, party, function_name, amount_micro_usd, burned, at) "
      + "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::boolean[], "
      + "$7::timestamptz[]) ON CONFLICT DO NOTHING";

  /** {@link #rows} of many events as one tuple of column arrays, in {@link #INSERT}'s column order (for {@code unnest}). */
  static Tuple columns(List<Tuple> rows) {
    int n = rows.size();
    String[] usageIds = new String[n];
    String[] roles = new String[n];
    String[] parties = new String[n];
    String[] functions = new String[n];
    Long[] amounts = new Long[n];
    Boolean[] burned = new Boolean[n];
    OffsetDateTime[] ats = new OffsetDateTime[n];
    for (int i = 0; i < n; i++) {
      Tuple r = rows.get(i);
      usageIds[i] = r.getString(0);
      roles[i] = r.getString(1);
      parties[i] = r.getString(2);
      functions[i] = r.getString(3);
      amounts[i] = r.getLong(4);
      burned[i] = r.getBoolean(5);
      ats[i] = r.getOffsetDateTime(6);
    }
    return Tuple.tuple().addValue(usageIds).addValue(roles).addValue(parties).addValue(functions).addValue(amounts)
        .addValue(burned).addValue(ats);
  }

  /** The rows of one event; their amounts sum to its charge. */
  List<Tuple> rows(UsageEvent e) {
    OffsetDateTime at = OffsetDateTime.ofInstant(e.at(), ZoneOffset.UTC);
    long charge = e.chargeMicroUsd();
    long developer = charge * split.developerPercent() / 100;
    long operators = charge * split.operatorsPercent() / 100;
    List<String> workers = e.workers() == null ? List.of() : e.workers().stream().distinct().toList();
    List<Tuple> rows = new ArrayList<>(3 + workers.size());
    String owner = e.owner() == null ? PLATFORM : e.owner();
    rows.add(Tuple.of(e.id(), "developer", owner, e.function(), developer, false, at));
    long platform = charge - developer;
    if (!workers.isEmpty()) {
      long each = operators / workers.size();
      long rest = operators - each * workers.size();
      for (int i = 0; i < workers.size(); i++) {
        rows.add(Tuple.of(e.id(), "operator", workers.get(i), e.function(), each + (i == 0 ? rest : 0), false, at));
      }
      platform -= operators;
    }
    rows.add(Tuple.of(e.id(), "platform", PLATFORM, e.function(), platform, burnPlatformShare, at));
    return rows;
  }
}
