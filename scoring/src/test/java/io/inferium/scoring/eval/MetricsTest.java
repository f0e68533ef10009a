package io.inferium.scoring.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every figure here was computed by hand; the comments show the arithmetic. */
class MetricsTest {

  private static final double EPS = 1e-9;

  @Test
  void classifierMetricsMatchAHandComputedConfusionMatrix() {
    // expected 0 0 1 1 2 2, predicted 0 1 1 1 2 0
    ClassifierMetrics.Report r = ClassifierMetrics.evaluate(new int[] {0, 0, 1, 1, 2, 2}, new int[] {0, 1, 1, 1, 2, 0},
        List.of("a", "b", "c"));
    assertArrayEquals(new long[] {1, 1, 0}, r.confusion()[0]);
    assertArrayEquals(new long[] {0, 2, 0}, r.confusion()[1]);
    assertArrayEquals(new long[] {1, 0, 1}, r.confusion()[2]);
    assertEquals(4.0 / 6, r.accuracy(), EPS);
    // class a: tp 1, predicted 2, expected 2 → P 1/2, R 1/2, F1 1/2
    // class b: tp 2, predicted 3, expected 2 → P 2/3, R 1, F1 0.8
    // class c: tp 1, predicted 1, expected 2 → P 1, R 1/2, F1 2/3
    assertArrayEquals(new double[] {0.5, 2.0 / 3, 1}, r.precision(), EPS);
    assertArrayEquals(new double[] {0.5, 1, 0.5}, r.recall(), EPS);
    assertArrayEquals(new double[] {0.5, 0.8, 2.0 / 3}, r.f1(), EPS);
    assertEquals((0.5 + 2.0 / 3 + 1) / 3, r.macroPrecision(), EPS);
    assertEquals(2.0 / 3, r.macroRecall(), EPS);
    assertEquals((0.5 + 0.8 + 2.0 / 3) / 3, r.macroF1(), EPS);
    assertEquals(0.5, r.toJson().getJsonArray("per_class").getJsonObject(0).getDouble("f1"), EPS);
  }

  @Test
  void aClassNeverPredictedHasPrecisionAndF1Zero() {
    ClassifierMetrics.Report r = ClassifierMetrics.evaluate(new int[] {0, 1}, new int[] {0, 0}, List.of("x", "y"));
    assertEquals(0, r.precision()[1]);
    assertEquals(0, r.f1()[1]);
    assertEquals(0.5, r.precision()[0], EPS); // 1 of the 2 predicted x is right
    assertThrows(IllegalArgumentException.class, () -> ClassifierMetrics.evaluate(new int[] {0}, new int[] {2},
        List.of("x", "y")));
  }

  @Test
  void regressorMetrics() {
    // errors 0 0 1 2 → MSE 5/4, MAE 3/4; mean 2.5, SS_tot 5, SS_res 5 → R² 0
    RegressorMetrics.Report r = RegressorMetrics.evaluate(new double[] {1, 2, 3, 4}, new double[] {1, 2, 4, 6});
    assertEquals(1.25, r.mse(), EPS);
    assertEquals(0.75, r.mae(), EPS);
    assertEquals(0, r.r2(), EPS);
    assertEquals(1, RegressorMetrics.evaluate(new double[] {1, 2, 3}, new double[] {1, 2, 3}).r2(), EPS);
    // predicting the mean 2 for 1 2 3: SS_res 2, SS_tot 2 → 0; off by 1 everywhere: SS_res 3 → −0.5
    assertEquals(-0.5, RegressorMetrics.evaluate(new double[] {1, 2, 3}, new double[] {2, 3, 4}).r2(), EPS);
  }

  @Test
  void retrievalRecallAtK() {
    float[][] queries = {{1, 0}, {0, 1}, {1, -1}};
    float[][] passages = {{1, 0}, {1, 1}, {0, 1}};
    // q0: own passage similarity 1, nothing better → rank 1
    // q1: p2 (1.0) beats its own p1 (0.707) → rank 2
    // q2: p0 (0.707) and p1 (0) beat its own p2 (−0.707) → rank 3
    assertEquals(1.0 / 3, RetrievalMetrics.recallAtK(queries, passages, 1), EPS);
    assertEquals(2.0 / 3, RetrievalMetrics.recallAtK(queries, passages, 2), EPS);
    assertEquals(1, RetrievalMetrics.recallAtK(queries, passages, 3), EPS);
  }

  @Test
  void exactMatchNormalisesWhitespace() {
    assertTrue(TextMetrics.exactMatch("  Paris\n", "Paris", false));
    assertTrue(TextMetrics.exactMatch("new   york", "new york", false));
    assertFalse(TextMetrics.exactMatch("paris", "Paris", false));
    assertTrue(TextMetrics.exactMatch("paris", "Paris", true));
    assertEquals(0.5, TextMetrics.exactMatchRate(List.of("a", "b"), List.of("a", "c"), false), EPS);
  }

  @Test
  void multipleChoiceAccAndLengthNormalisedAcc() {
    // Q1: gold "bbbb". acc: −2 > −3 picks "a" (wrong); acc_norm: −2/1 = −2 < −3/4 = −0.75 picks "bbbb" (right).
    // Q2: gold "xx". acc: −1 > −4 (right); acc_norm: −1/2 > −4/1 (right).
    TextMetrics.MultipleChoice mc = TextMetrics.multipleChoice(List.of(
        new TextMetrics.Choice(List.of("a", "bbbb"), new double[] {-2, -3}, 1),
        new TextMetrics.Choice(List.of("xx", "y"), new double[] {-1, -4}, 0)));
    assertEquals(0.5, mc.acc(), EPS);
    assertEquals(1.0, mc.accNorm(), EPS);
    // equal scores: the first choice wins, like numpy's argmax
    assertEquals(0, TextMetrics.multipleChoice(List.of(
        new TextMetrics.Choice(List.of("a", "b"), new double[] {-1, -1}, 1))).acc());
  }

  @Test
  void promptFollowingAtPromptAndInstructionLevel() {
    JsonObject max3 = new JsonObject().put("type", "max_words").put("value", 3);
    JsonObject lower = new JsonObject().put("type", "lowercase");
    JsonObject json = new JsonObject().put("type", "json");
    JsonObject include = new JsonObject().put("type", "include").put("words", new JsonArray().add("Paris"));
    // response 1 follows both; response 2 breaks "lowercase" but keeps "max_words"; response 3 is JSON
    TextMetrics.PromptFollowing pf = TextMetrics.promptFollowing(
        List.of("the capital is paris", "Too Long? no", "{\"a\": 1}"),
        List.of(List.of(lower, include), List.of(max3, lower), List.of(json)));
    // prompts: 1 ✓, 2 ✗, 3 ✓ → 2/3; instructions: 2 + 1 + 1 of 5 → 4/5
    assertEquals(2.0 / 3, pf.promptLevel(), EPS);
    assertEquals(4.0 / 5, pf.instructionLevel(), EPS);
    assertThrows(IllegalArgumentException.class, () -> TextMetrics.follows("x", new JsonObject().put("type", "rhyme")));
  }

  @Test
  void qualityDropBeyondTheThresholdIsFlagged() {
    assertFalse(QualityTrend.dropped(null, 0.5, true, 0.02));
    assertFalse(QualityTrend.dropped(0.95, 0.94, true, 0.02));
    assertTrue(QualityTrend.dropped(0.95, 0.90, true, 0.02));
    assertTrue(QualityTrend.dropped(1.0, 1.5, false, 0.2), "an MSE that grew by 0.5 is a drop");
    assertFalse(QualityTrend.dropped(0.9, 0.99, true, 0.02), "a rise is not");
  }

  @Test
  void datasetsParseFromCsvAndJsonlAndNameTheBadLine() {
    EvalDataset csv = EvalDataset.parse("csv", "a,b,expected\n1,2,setosa\n3.5,4,virginica\n");
    assertEquals(2, csv.size());
    assertArrayEquals(new float[] {3.5f, 4}, csv.inputs()[1]);
    assertArrayEquals(new int[] {0, 2}, csv.expectedClasses(List.of("setosa", "versicolor", "virginica")));
    EvalDataset jsonl = EvalDataset.parse("jsonl", "{\"input\":[1,2],\"expected\":0.5}\n\n{\"input\":[3,4],\"expected\":2}\n");
    assertArrayEquals(new double[] {0.5, 2}, jsonl.expectedValues(), EPS);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EvalDataset.parse("csv", "a,expected\n1,x\nfoo,y\n"));
    assertEquals("line 3, column 'a': expected a number, got 'foo'", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> EvalDataset.parse("jsonl", "{\"input\":1}"));
    assertThrows(IllegalArgumentException.class, () -> EvalDataset.parse("xml", "<a/>"));
  }
}
