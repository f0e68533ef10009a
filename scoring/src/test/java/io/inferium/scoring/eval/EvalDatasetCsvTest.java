package io.inferium.scoring.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;

/** Dataset uploads as spreadsheet programs and pandas write them: quoted fields, a BOM, CRLF. */
class EvalDatasetCsvTest {

  @Test
  void quotedLabelsWithCommasQuotesAndNewlinesStayWhole() {
    EvalDataset ds = EvalDataset.parse("csv",
        "a,b,label\r\n1,2,\"setosa, small\"\r\n3,\"4\",\"say \"\"hi\"\"\"\r\n5,6,\"two\nlines\"\r\n");
    assertEquals(3, ds.size());
    assertEquals("setosa, small", ds.rows().get(0).getString("expected"));
    assertEquals(new JsonArray().add(3.0).add(4.0), ds.rows().get(1).getJsonArray("input"));
    assertEquals("say \"hi\"", ds.rows().get(1).getString("expected"));
    assertEquals("two\nlines", ds.rows().get(2).getString("expected"));
  }

  @Test
  void aByteOrderMarkDoesNotRenameTheFirstColumn() {
    EvalDataset ds = EvalDataset.parse("csv", "\uFEFFexpected,x\n1,2\n");
    assertEquals(1.0, ds.rows().get(0).getDouble("expected"));
    assertEquals(new JsonArray().add(2.0), ds.rows().get(0).getJsonArray("input"));
  }

  @Test
  void blankLinesAreSkippedAndErrorsNameTheLine() {
    assertEquals(2, EvalDataset.parse("csv", "x,expected\n\n1,a\n\n2,b\n").size());
    IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
        () -> EvalDataset.parse("csv", "x,expected\n1,a\n1,2,b\n"));
    assertTrue(wide.getMessage().contains("expected 2 values, got 3"), wide.getMessage());
    IllegalArgumentException word = assertThrows(IllegalArgumentException.class,
        () -> EvalDataset.parse("csv", "a,expected\nx,setosa\n"));
    assertEquals("line 2, column 'a': expected a number, got 'x'", word.getMessage());
  }

  @Test
  void anUnterminatedQuoteIsA400NotACrash() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EvalDataset.parse("csv", "x,expected\n1,\"open\n2,b\n"));
    assertTrue(e.getMessage().startsWith("line "), e.getMessage());
    assertTrue(e.getMessage().contains("not valid CSV"), e.getMessage());
  }

  @Test
  void noTargetColumnIsNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EvalDataset.parse("csv", "a,b\n1,2\n"));
    assertEquals("line 1: no column named expected, label or target", e.getMessage());
  }
}
