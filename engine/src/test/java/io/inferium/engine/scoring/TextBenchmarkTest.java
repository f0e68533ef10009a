package io.inferium.engine.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.SamplingParams;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** How a text dataset row becomes a generation: greedy, under the function's own generation config. */
class TextBenchmarkTest {

  private static FunctionRecord fn(JsonObject generationConfig) {
    JsonObject report = new JsonObject().put("text", new JsonObject().put("generation_config", generationConfig));
    return new FunctionRecord(FunctionSpec.fromJson(new JsonObject().put("name", "gen").put("kind", "text-generation")),
        1, "0".repeat(64), 1, null, FunctionState.READY, null, report, null, null, null);
  }

  private static SamplingParams params(FunctionRecord fn, String row) {
    return SamplingParams.fromJson(TextBenchmark.work(fn, new JsonObject(row), 0).getJsonObject("params"));
  }

  @Test
  void greedyUnderTheFunctionsConfigWithTheRowsLimits() {
    FunctionRecord terse = fn(new JsonObject().put("do_sample", true).put("temperature", 0.8).put("max_new_tokens", 12)
        .put("repetition_penalty", 1.3));
    SamplingParams p = params(terse, "{\"prompt\":\"Hi\",\"reference\":\"there\"}");
    assertEquals(0, p.temperature());
    assertEquals(12, p.maxTokens());
    assertEquals(1.3, p.repetitionPenalty());
    SamplingParams row = params(terse, "{\"prompt\":\"Hi\",\"reference\":\"there\",\"max_tokens\":1,\"stop\":[\".\"]}");
    assertEquals(1, row.maxTokens());
    assertEquals(java.util.List.of("."), row.stop());
    assertEquals(TextBenchmark.DEFAULT_MAX_TOKENS, params(fn(new JsonObject()), "{\"prompt\":\"Hi\",\"instructions\":[]}")
        .maxTokens(), "nothing bounds the answer: the benchmark does");
    assertEquals("[{\"role\":\"user\",\"content\":\"Hi\"}]", TextBenchmark.work(terse,
        new JsonObject("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"reference\":\"x\"}"), 0)
        .getJsonArray("messages").encode());
  }

  @Test
  void rowsItCannotScoreAreRefusedByNumber() {
    FunctionRecord f = fn(new JsonObject());
    assertEquals(java.util.List.of(" a", " b"), TextBenchmark.choices(
        new JsonObject("{\"prompt\":\"Q\",\"choices\":[\" a\",\" b\"],\"gold\":1}"), 0));
    assertEquals(null, TextBenchmark.choices(new JsonObject("{\"prompt\":\"Q\",\"reference\":\"x\"}"), 0));
    String gold = assertThrows(IllegalArgumentException.class, () -> TextBenchmark.choices(
        new JsonObject("{\"prompt\":\"Q\",\"choices\":[\" a\",\" b\"],\"gold\":2}"), 2)).getMessage();
    assertTrue(gold.startsWith("row 3: 'gold'"), gold);
    String context = assertThrows(IllegalArgumentException.class, () -> TextBenchmark.choices(
        new JsonObject("{\"choices\":[\" a\"],\"gold\":0}"), 0)).getMessage();
    assertTrue(context.contains("'prompt'"), context);
    String nothing = assertThrows(IllegalArgumentException.class, () -> TextBenchmark.work(f,
        new JsonObject("{\"prompt\":\"Q\"}"), 0)).getMessage();
    assertTrue(nothing.contains("nothing to score"), nothing);
    String noPrompt = assertThrows(IllegalArgumentException.class, () -> TextBenchmark.work(f,
        new JsonObject("{\"reference\":\"x\"}"), 0)).getMessage();
    assertTrue(noPrompt.contains("'prompt'"), noPrompt);
    String bad = assertThrows(IllegalArgumentException.class, () -> TextBenchmark.work(f,
        new JsonObject("{\"prompt\":\"Q\",\"reference\":\"x\",\"max_tokens\":0}"), 0)).getMessage();
    assertTrue(bad.startsWith("row 1: field 'max_tokens'"), bad);
  }
}
