package io.inferium.scoring;

import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns charges into payout ledger rows ({@code payouts}, V12, summed per batch since V42): each request's charge
 * is split between the function's developer, the node operators whose workers ran it (their share split evenly,
 * the first taking the integer remainder) and the platform, which takes what is left so the shares always add up
 * to the charge. The shares of a stored batch are then summed per (role, party, function, burned, UTC second): one
 * row each, with how many requests and how much charge it covers. The platform's row can be marked burned
 * (removed from circulation instead of kept) by configuration.
 */
public record PayoutLedger(RevenueSplit split, boolean burnPlatformShare) {

  public static final PayoutLedger DEFAULT = new PayoutLedger(RevenueSplit.DEFAULT, false);
  /** The party name of the platform's rows; also who gets the operators' share when no worker is known. */
  public static final String PLATFORM = "platform";

  /**
   * Inserts a batch's summed rows, given as {@link #columns} (one statement over column arrays). No {@code ON
   * CONFLICT}: a batch's rows are only ever the shares of usage rows its own transaction inserted, so a key that
   * exists already is a bug to fail on, never a replay to skip.
   */
  static final String INSERT = "INSERT INTO payouts (batch_id, role, party, function_name, requests, charge_micro_usd, "
      + "amount_micro_usd, burned, at) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::integer[], "
      + "$6::bigint[], $7::bigint[], $8::boolean[], $9::timestamptz[])";

  /** One request's share: who gets how much. */
  record Share(String role, String party, long amount, boolean burned) {}

  /** The shares of one event; their amounts sum to its charge. */
  List<Share> shares(UsageEvent e) {
    long charge = e.chargeMicroUsd();
    long developer = charge * split.developerPercent() / 100;
    long operators = charge * split.operatorsPercent() / 100;
    List<String> workers = e.workers() == null ? List.of() : e.workers().stream().distinct().toList();
    List<Share> shares = new ArrayList<>(2 + workers.size());
    shares.add(new Share("developer", e.owner() == null ? PLATFORM : e.owner(), developer, false));
    long platform = charge - developer;
    if (!workers.isEmpty()) {
      long each = operators / workers.size();
      long rest = operators - each * workers.size();
      for (int i = 0; i < workers.size(); i++) {
        shares.add(new Share("operator", workers.get(i), each + (i == 0 ? rest : 0), false));
      }
      platform -= operators;
    }
    shares.add(new Share("platform", PLATFORM, platform, burnPlatformShare));
    return shares;
  }

  private record Key(String role, String party, String function, boolean burned, long second) {}

  private static final class Sum {
    int requests;
    long charge;
    long amount;
    Instant at;
  }

  /**
   * The summed rows of {@code events} (the usage rows a batch's transaction inserted) as one tuple for {@link
   * #INSERT}: the batch id, then column arrays in its order. A row never spans a UTC second, so queries by whole
   * seconds count every request on the right side; its time is its latest request's.
   */
  Tuple columns(String batchId, List<UsageEvent> events) {
    Map<Key, Sum> sums = new LinkedHashMap<>();
    for (UsageEvent e : events) {
      long second = e.at().getEpochSecond();
      for (Share s : shares(e)) {
        Sum sum = sums.computeIfAbsent(new Key(s.role(), s.party(), e.function(), s.burned(), second), k -> new Sum());
        sum.requests++;
        sum.charge += e.chargeMicroUsd();
        sum.amount += s.amount();
        if (sum.at == null || e.at().isAfter(sum.at)) {
          sum.at = e.at();
        }
      }
    }
    int n = sums.size();
    String[] roles = new String[n];
    String[] parties = new String[n];
    String[] functions = new String[n];
    Integer[] requests = new Integer[n];
    Long[] charges = new Long[n];
    Long[] amounts = new Long[n];
    Boolean[] burned = new Boolean[n];
    OffsetDateTime[] ats = new OffsetDateTime[n];
    int i = 0;
    for (Map.Entry<Key, Sum> e : sums.entrySet()) {
      Key k = e.getKey();
      Sum s = e.getValue();
      roles[i] = k.role();
      parties[i] = k.party();
      functions[i] = k.function();
      requests[i] = s.requests;
      charges[i] = s.charge;
      amounts[i] = s.amount;
      burned[i] = k.burned();
      ats[i] = OffsetDateTime.ofInstant(s.at, ZoneOffset.UTC);
      i++;
    }
    return Tuple.tuple().addValue(batchId).addValue(roles).addValue(parties).addValue(functions).addValue(requests)
        .addValue(charges).addValue(amounts).addValue(burned).addValue(ats);
  }
}
