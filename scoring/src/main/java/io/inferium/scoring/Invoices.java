package io.inferium.scoring;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Monthly invoices derived from the stored usage events: one invoice per tenant and calendar month
 * (UTC), one line per function and modality, each line's charge split between developer, operators
 * and platform. Derived on read, so an invoice always equals its usage events; the month's invoice
 * grows until the month ends.
 */
public final class Invoices {

  private final Pool pool;
  private final RevenueSplit split;

  public Invoices(Pool pool, RevenueSplit split) {
    this.pool = pool;
    this.split = split;
  }

  /** Invoice ids ({@code <tenant>-<YYYY-MM>}) of the months in which the tenant used anything. */
  public Future<List<JsonObject>> list(String tenant) {
    return pool.preparedQuery("SELECT to_char(date_trunc('month', at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, "
            + "count(*) AS requests, sum(charge_micro_usd) AS total FROM usage_events WHERE tenant_id = $1 "
            + "GROUP BY month ORDER BY month")
        .execute(Tuple.of(tenant)).map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(new JsonObject().put("id", tenant + "-" + r.getString("month")).put("period", r.getString("month"))
                .put("requests", r.getLong("requests")).put("total_micro_usd", r.getLong("total")));
          }
          return out;
        });
  }

  /** One invoice; empty when the id is malformed. */
  public Future<Optional<JsonObject>> get(String tenant, String invoiceId) {
    String prefix = tenant + "-";
    if (!invoiceId.startsWith(prefix)) {
      return Future.succeededFuture(Optional.empty());
    }
    YearMonth month;
    try {
      month = YearMonth.parse(invoiceId.substring(prefix.length()));
    } catch (RuntimeException e) {
      return Future.succeededFuture(Optional.empty());
    }
    var from = month.atDay(1).atStartOfDay().atOffset(ZoneOffset.UTC);
    var to = month.plusMonths(1).atDay(1).atStartOfDay().atOffset(ZoneOffset.UTC);
    // Arena runs are one line per month ('arena'): their function names would tell a voter which functions are in a
    // battle before the vote.
    return pool.preparedQuery("SELECT CASE WHEN modality = 'arena' THEN 'arena' ELSE function_name END AS function_name, "
            + "CASE WHEN modality = 'arena' THEN NULL ELSE function_owner END AS function_owner, modality, "
            + "count(*) AS requests, sum(units) AS units, "
            + "sum(charge_micro_usd) AS charge FROM usage_events WHERE tenant_id = $1 AND at >= $2 AND at < $3 "
            + "GROUP BY 1, 2, modality ORDER BY 1, modality")
        .execute(Tuple.of(tenant, from, to)).map(rows -> {
          JsonArray lines = new JsonArray();
          long total = 0;
          for (Row r : rows) {
            long charge = r.getLong("charge");
            total += charge;
            lines.add(new JsonObject().put("function", r.getString("function_name"))
                .put("developer", r.getString("function_owner")).put("modality", r.getString("modality"))
                .put("requests", r.getLong("requests")).put("units", r.getLong("units"))
                .put("charge_micro_usd", charge).put("split", split.split(charge)));
          }
          if (lines.isEmpty()) {
            return Optional.<JsonObject>empty();
          }
          return Optional.of(new JsonObject().put("id", invoiceId).put("tenant_id", tenant).put("period", month.toString())
              .put("currency", "USD").put("lines", lines).put("total_micro_usd", total)
              .put("split", split.split(total)));
        });
  }

  private static final CSVFormat CSV = CSVFormat.RFC4180.builder().setHeader("function", "developer", "modality",
      "requests", "units", "charge_micro_usd", "developer_micro_usd", "operators_micro_usd", "platform_micro_usd").get();

  /**
   * The invoice as RFC 4180 CSV: one row per line, then the total. Text cells that a spreadsheet would run as a
   * formula (starting with {@code = + - @}, a tab or a carriage return) are prefixed with {@code '}: function and
   * tenant names are chosen by tenants, and the file is opened by someone else.
   */
  public static String csv(JsonObject invoice) {
    StringBuilder out = new StringBuilder();
    try (CSVPrinter printer = new CSVPrinter(out, CSV)) {
      for (Object o : invoice.getJsonArray("lines")) {
        JsonObject l = (JsonObject) o;
        JsonObject s = l.getJsonObject("split");
        printer.printRecord(text(l.getString("function")), text(l.getString("developer")), text(l.getString("modality")),
            l.getLong("requests"), l.getLong("units"), l.getLong("charge_micro_usd"), s.getLong("developer_micro_usd"),
            s.getLong("operators_micro_usd"), s.getLong("platform_micro_usd"));
      }
      printer.printRecord("total", "", "", "", "", invoice.getLong("total_micro_usd"), "", "", "");
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringBuilder does not throw
    }
    return out.toString();
  }

  /** A tenant-chosen text cell, neutralised against spreadsheet formula injection. */
  static String text(String s) {
    if (s == null || s.isEmpty()) {
      return "";
    }
    char c = s.charAt(0);
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' ? "'" + s : s;
  }

  /**
   * What a developer earned in a period: its share of every charge to its functions (the payout
   * ledger) and its credits (contest rewards).
   */
  public Future<JsonObject> earnings(String developer, java.time.Instant from, java.time.Instant to) {
    // Read from the payout ledger, which was written with the usage rows: what was actually credited.
    return pool.preparedQuery("SELECT function_name, sum(requests)::bigint AS requests, "
            + "sum(charge_micro_usd)::bigint AS charge, sum(amount_micro_usd)::bigint AS earned FROM payouts "
            + "WHERE role = 'developer' AND party = $1 AND at >= $2 AND at < $3 "
            + "GROUP BY function_name ORDER BY function_name")
        .execute(Tuple.of(developer, from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC))).map(rows -> {
          JsonArray functions = new JsonArray();
          long earned = 0;
          for (Row r : rows) {
            long share = r.getLong("earned");
            earned += share;
            functions.add(new JsonObject().put("function", r.getString("function_name"))
                .put("requests", r.getLong("requests")).put("charge_micro_usd", r.getLong("charge"))
                .put("earned_micro_usd", share));
          }
          return new JsonObject().put("developer", developer).put("functions", functions).put("earned_micro_usd", earned);
        })
        .compose(body -> pool.preparedQuery("SELECT kind, function_name, source, amount_micro_usd, at FROM credits "
                + "WHERE party = $1 AND at >= $2 AND at < $3 ORDER BY at, id")
            .execute(Tuple.of(developer, from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC))).map(rows -> {
              JsonArray credits = new JsonArray();
              long credited = 0;
              for (Row r : rows) {
                credited += r.getLong("amount_micro_usd");
                credits.add(new JsonObject().put("kind", r.getString("kind")).put("function", r.getString("function_name"))
                    .put("source", r.getString("source")).put("amount_micro_usd", r.getLong("amount_micro_usd"))
                    .put("at", r.getOffsetDateTime("at").toInstant().toString()));
              }
              // earned: shares of charges (the payout ledger); credits: contest rewards; total: both.
              return body.put("credits", credits).put("credited_micro_usd", credited)
                  .put("total_micro_usd", body.getLong("earned_micro_usd") + credited);
            }));
  }

  /** Ledger totals per role between two instants: who was credited, and how much of the platform's share was burned. */
  public Future<JsonObject> payoutTotals(java.time.Instant from, java.time.Instant to) {
    return pool.preparedQuery("SELECT role, sum(amount_micro_usd) AS amount, "
            + "sum(CASE WHEN burned THEN amount_micro_usd ELSE 0 END) AS burned FROM payouts "
            + "WHERE at >= $1 AND at < $2 GROUP BY role ORDER BY role")
        .execute(Tuple.of(from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC))).map(rows -> {
          JsonObject out = new JsonObject();
          long total = 0;
          long burned = 0;
          for (Row r : rows) {
            out.put(r.getString("role") + "_micro_usd", r.getLong("amount"));
            total += r.getLong("amount");
            burned += r.getLong("burned");
          }
          return out.put("total_micro_usd", total).put("burned_micro_usd", burned);
        });
  }

}
