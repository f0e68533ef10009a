package io.inferium.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

/** The invoice download, read back by a standard CSV reader, and its defence against formula injection. */
class InvoiceCsvTest {

  private static JsonObject line(String function, String developer) {
    return new JsonObject().put("function", function).put("developer", developer).put("modality", "request")
        .put("requests", 3L).put("units", 3L).put("charge_micro_usd", 300L)
        .put("split", new JsonObject().put("developer_micro_usd", 210L).put("operators_micro_usd", 60L)
            .put("platform_micro_usd", 30L));
  }

  private static List<CSVRecord> read(String csv) throws IOException {
    return CSVFormat.RFC4180.parse(new StringReader(csv)).getRecords();
  }

  @Test
  void commasQuotesAndNewlinesInNamesSurviveARoundTrip() throws IOException {
    JsonObject invoice = new JsonObject().put("total_micro_usd", 300L)
        .put("lines", new JsonArray().add(line("add", "acme, \"inc\"\nsecond line")));
    List<CSVRecord> rows = read(Invoices.csv(invoice));
    assertEquals(3, rows.size(), "header, one line, total");
    assertEquals("charge_micro_usd", rows.get(0).get(5));
    assertEquals("acme, \"inc\"\nsecond line", rows.get(1).get(1));
    assertEquals("300", rows.get(1).get(5));
    assertEquals("total", rows.get(2).get(0));
    assertEquals("300", rows.get(2).get(5));
  }

  @Test
  void aNameAForeignSpreadsheetWouldRunAsAFormulaIsDefused() throws IOException {
    JsonObject invoice = new JsonObject().put("total_micro_usd", 300L).put("lines", new JsonArray()
        .add(line("=HYPERLINK(\"http://evil\",\"x\")", "@SUM(A1)")).add(line("+1", "-2")).add(line("plain", "\tx")));
    List<CSVRecord> rows = read(Invoices.csv(invoice));
    assertEquals("'=HYPERLINK(\"http://evil\",\"x\")", rows.get(1).get(0));
    assertEquals("'@SUM(A1)", rows.get(1).get(1));
    assertEquals("'+1", rows.get(2).get(0));
    assertEquals("'-2", rows.get(2).get(1));
    assertEquals("plain", rows.get(3).get(0));
    assertEquals("'\tx", rows.get(3).get(1));
  }
}
