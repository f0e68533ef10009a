package io.inferium.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SamplingParamsTest {

  private static final JsonObject NONE = new JsonObject();

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"temperature\": 3}|field 'temperature': expected a number in [0, 2], got 3",
      "{\"temperature\": \"hot\"}|field 'temperature': expected a number in [0, 2], got \"hot\"",
      "{\"top_p\": 1.5}|field 'top_p': expected a number in [0, 1], got 1.5",
      "{\"top_p\": 0}|field 'top_p': expected a number in (0, 1], got 0",
      "{\"max_tokens\": 0}|field 'max_tokens': expected an integer >= 1, got 0",
      "{\"max_tokens\": 2.5}|field 'max_tokens': expected an integer >= 1, got 2.5",
      "{\"max_completion_tokens\": -1}|field 'max_completion_tokens': expected an integer >= 1, got -1",
      "{\"n\": 9}|field 'n': expected an integer in [1, 8], got 9",
      "{\"presence_penalty\": -2.5}|field 'presence_penalty': expected a number in [-2, 2], got -2.5",
      "{\"frequency_penalty\": true}|field 'frequency_penalty': expected a number in [-2, 2], got true",
      "{\"seed\": \"x\"}|field 'seed': expected a 64-bit integer, got \"x\"",
      "{\"stop\": 5}|field 'stop': expected a string or an array of up to 4 non-empty strings, got 5",
      "{\"stop\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}|field 'stop': expected a string or an array of up to 4 non-empty strings, got [\"a\",\"b\",\"c\",\"d\",\"e\"]",
      "{\"stop\": [\"\"]}|field 'stop': expected a string or an array of up to 4 non-empty strings, got [\"\"]",
      "{\"top_k\": -2}|field 'top_k': expected an integer >= -1, got -2",
  })
  void errorsNameTheField(String body, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SamplingParams.fromOpenAi(new JsonObject(body), NONE));
    assertEquals(message, e.getMessage());
  }

  @Test
  void openAiDefaultsWithoutGenerationConfig() {
    SamplingParams p = SamplingParams.fromOpenAi(new JsonObject(), NONE);
    assertEquals(SamplingParams.UNLIMITED_TOKENS, p.maxTokens());
    assertEquals(1.0, p.temperature());
    assertEquals(1.0, p.topP());
    assertEquals(0, p.topK());
    assertEquals(List.of(), p.stop());
    assertNull(p.seed());
    assertEquals(1.0, p.repetitionPenalty());
    assertEquals(1, p.n());
  }

  @Test
  void generationConfigGivesDefaultsAndTheBodyWins() {
    JsonObject gen = new JsonObject().put("max_new_tokens", 64).put("temperature", 0.7).put("top_p", 0.9)
        .put("top_k", 50).put("repetition_penalty", 1.1);
    SamplingParams p = SamplingParams.fromOpenAi(new JsonObject(), gen);
    assertEquals(new SamplingParams(64, 0.7, 0.9, 50, List.of(), null, 0, 0, 1.1, 1), p);
    SamplingParams q = SamplingParams.fromOpenAi(new JsonObject().put("temperature", 0).put("top_k", -1)
        .put("max_tokens", 5), gen);
    assertEquals(0, q.temperature());
    assertEquals(0, q.topK());
    assertEquals(5, q.maxTokens());
    assertEquals(0, SamplingParams.fromOpenAi(new JsonObject(), new JsonObject().put("do_sample", false)).temperature());
  }

  @Test
  void maxCompletionTokensWinsOverMaxTokens() {
    JsonObject body = new JsonObject().put("max_tokens", 10).put("max_completion_tokens", 20);
    assertEquals(20, SamplingParams.fromOpenAi(body, NONE).maxTokens());
  }

  @Test
  void stopIsAStringOrAnArray() {
    assertEquals(List.of("\n"), SamplingParams.fromOpenAi(new JsonObject().put("stop", "\n"), NONE).stop());
    assertEquals(List.of("a", "b"),
        SamplingParams.fromOpenAi(new JsonObject().put("stop", new JsonArray().add("a").add("b")), NONE).stop());
  }

  @Test
  void wireFormatRoundTrips() {
    JsonObject body = new JsonObject().put("max_tokens", 7).put("temperature", 0.5).put("top_p", 0.8).put("top_k", 3)
        .put("stop", new JsonArray().add("END")).put("seed", 1L << 40).put("presence_penalty", 0.5)
        .put("frequency_penalty", -0.5).put("repetition_penalty", 1.2).put("n", 3);
    SamplingParams p = SamplingParams.fromOpenAi(body, NONE);
    assertEquals(1L << 40, p.seed());
    assertEquals(p, SamplingParams.fromJson(new JsonObject(p.toJson().encode())));
    SamplingParams unseeded = SamplingParams.greedy(4);
    assertEquals(unseeded, SamplingParams.fromJson(new JsonObject(unseeded.toJson().encode())));
  }
}
