package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.text.Generations;
import io.vertx.core.json.JsonArray;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code prompt} as OpenAI takes it on /v1/completions, and the answers of several prompts made one. */
class PromptArraysTest {

  private static String refused(Object prompt) {
    OpenAiErrors.ParamError e = assertThrows(OpenAiErrors.ParamError.class, () -> OpenAiRoutes.prompts(prompt));
    assertEquals("prompt", OpenAiErrors.body(e).getJsonObject("error").getString("param"));
    return e.getMessage();
  }

  @Test
  void aStringOrAnArrayOfStringsIsTakenAndEverythingElseIsNamed() {
    assertEquals(List.of("a"), OpenAiRoutes.prompts("a"));
    assertEquals(List.of("a", "", "c"), OpenAiRoutes.prompts(new JsonArray().add("a").add("").add("c")));
    assertTrue(refused(new JsonArray().add(50256).add(11)).contains("token-id arrays are not supported"));
    assertTrue(refused(new JsonArray().add(new JsonArray().add(1))).contains("token-id arrays are not supported"));
    assertTrue(refused(new JsonArray().add("a").add(7)).contains("'prompt[1]': expected a string, got 7"));
    assertTrue(refused(new JsonArray(Collections.nCopies(OpenAiRoutes.MAX_PROMPTS + 1, "a"))).contains("at most 8 prompts"));
    assertTrue(refused(new JsonArray()).contains("an empty array"));
    assertTrue(refused(null).contains("got nothing"));
  }

  @Test
  void answersOfSeveralPromptsAreNumberedPromptTimesNPlusSampleAndSummed() {
    Generations.Finished first = new Generations.Finished(List.of(new Generations.Choice(0, "stop", 3),
        new Generations.Choice(1, "length", 4)), 5, 7, 100, "node-a", 2_000, false);
    Generations.Finished second = new Generations.Finished(List.of(new Generations.Choice(0, "length", 4),
        new Generations.Choice(1, "stop", 1)), 6, 5, 50, "node-b", 9_000, true);
    Generations.Finished merged = OpenAiRoutes.merge(List.of(first, second), 2);
    assertEquals(List.of(0, 1, 2, 3), merged.choices().stream().map(Generations.Choice::index).toList());
    assertEquals(List.of("stop", "length", "length", "stop"), merged.choices().stream().map(Generations.Choice::finishReason).toList());
    assertEquals(11, merged.promptTokens());
    assertEquals(12, merged.completionTokens());
    assertEquals(150, merged.computeMicros());
    assertEquals(9_000, merged.queueNanos());
    assertEquals("node-a,node-b", merged.workerId());
    assertTrue(merged.coldStart());
    assertEquals(first, OpenAiRoutes.merge(List.of(first), 2), "one prompt: the answer as it was");
  }
}
