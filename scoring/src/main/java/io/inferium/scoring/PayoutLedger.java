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

  static final String INSERT = "INSERT INTO payouts (usage_id, role, party, function_name, amount_micro_usd, burned, at) "
      + "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";

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
