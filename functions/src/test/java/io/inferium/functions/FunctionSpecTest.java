package io.inferium.functions;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FunctionSpecTest {

  private static String invalid(String json) {
    return assertThrows(InvalidSpecException.class, () -> FunctionSpec.fromJson(new JsonObject(json))).getMessage();
  }

  @Test
  void aNameAloneGetsTheDefaults() {
    FunctionSpec spec = FunctionSpec.fromJson(new JsonObject().put("name", "iris"));

    assertEquals("iris", spec.name());
    assertNull(spec.version());
    assertEquals(FunctionKind.TENSOR, spec.kind());
    assertEquals(FunctionSpec.Visibility.PUBLIC, spec.visibility());
    assertEquals(FunctionSpec.DEFAULT_TIMEOUT_MS, spec.timeoutMs());
    assertEquals(List.of(), spec.useCases());
    assertEquals(List.of(), spec.labels());
    assertNull(spec.batching());
    assertNull(spec.category());
    assertNull(spec.developer());
    assertNull(spec.description());
  }

  @Test
  void everyFieldIsReadAndSurvivesToJson() {
    JsonObject json = new JsonObject("""
        {"name": "iris.v2_x-1", "version": 3, "kind": "classifier", "category": "tabular",
         "use_cases": ["botany", "demo"], "developer": "ada", "description": "Iris species",
         "visibility": "private", "labels": ["setosa", "versicolor", "virginica"],
         "batching": {"max_batch_size": 32, "max_queue_delay_ms": 5}, "timeout_ms": 1500,
         "keep_warm": true, "verification": {"policy": "redundant", "k": 3, "threshold": 0.99},
         "price": {"per_request_micro_usd": 50, "per_compute_ms_micro_usd": 3, "per_1k_tokens_micro_usd": 3000,
                   "per_image_micro_usd": 10000, "per_audio_minute_micro_usd": 3000,
                   "per_video_minute_micro_usd": 100000}}""");

    FunctionSpec spec = FunctionSpec.fromJson(json);

    assertEquals(3, spec.version());
    assertEquals(FunctionKind.CLASSIFIER, spec.kind());
    assertEquals(FunctionSpec.Visibility.PRIVATE, spec.visibility());
    assertEquals(List.of("botany", "demo"), spec.useCases());
    assertEquals(List.of("setosa", "versicolor", "virginica"), spec.labels());
    assertEquals(new FunctionSpec.Batching(32, 5, List.of(), null), spec.batching());
    assertEquals(1500, spec.timeoutMs());
    assertTrue(spec.keepWarm());
    assertEquals(new FunctionSpec.Verification("redundant", 3, 0.99, 0), spec.verification());
    assertEquals(new FunctionSpec.Price(50, 3), spec.price());
    assertEquals(55, spec.price().charge(1_500), "3 µ$/ms × 1.5 ms = 4.5 µ$, rounded up to 5");
    assertEquals(json, spec.toJson());
    assertEquals(spec, FunctionSpec.fromJson(spec.toJson()));
    assertEquals(4, spec.withVersion(4).version());
  }

  @Test
  void textOptionsBelongToTextFunctionsAndDefaultSensibly() {
    FunctionSpec gen = FunctionSpec.fromJson(new JsonObject().put("name", "g").put("kind", "text-generation"));
    assertEquals(TextOptions.DEFAULT, gen.text());
    assertEquals(16, gen.toJson().getJsonObject("text").getInteger("max_running_sequences"));
    assertEquals(9, gen.price().chargeTokens(3), "$0.003 per 1,000 tokens = 3 micro-dollars a token");
    assertEquals(4, new FunctionSpec.Price(0, 0, 1000).chargeTokens(4), "a custom price per 1,000 tokens");
    FunctionSpec embed = FunctionSpec.fromJson(new JsonObject().put("name", "e").put("kind", "embedding")
        .put("text", new JsonObject().put("pooling", "cls").put("normalize", false).put("max_running_sequences", 4)));
    assertEquals(new TextOptions(4, 512, 256, "cls", false, 2), embed.text());
    assertEquals(embed, FunctionSpec.fromJson(embed.toJson()));
    assertEquals("field 'text': only text-generation and embedding functions have text options, this function's kind is tensor",
        invalid("{\"name\": \"t\", \"text\": {}}"));
    assertEquals("field 'text.pooling': expected one of mean | cls | last, got max",
        invalid("{\"name\": \"e\", \"kind\": \"embedding\", \"text\": {\"pooling\": \"max\"}}"));
    assertEquals("field 'text.max_running_sequences': expected an integer in [1, 256], got 0",
        invalid("{\"name\": \"g\", \"kind\": \"text-generation\", \"text\": {\"max_running_sequences\": 0}}"));
    FunctionSpec chat = FunctionSpec.fromJson(new JsonObject().put("name", "c").put("kind", "text-generation")
        .put("text", new JsonObject().put("token_window_ms", 16)));
    assertEquals(16, chat.text().tokenWindowMs());
    assertEquals(16, FunctionSpec.fromJson(chat.toJson()).text().tokenWindowMs(), "kept through the stored spec");
    assertEquals("field 'text.token_window_ms': expected an integer in [0, 250], got 1000",
        invalid("{\"name\": \"g\", \"kind\": \"text-generation\", \"text\": {\"token_window_ms\": 1000}}"));
  }

  @Test
  void aMissingSpecIsRefused() {
    assertEquals("spec: expected a JSON object",
        assertThrows(InvalidSpecException.class, () -> FunctionSpec.fromJson(null)).getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"Iris", "-iris", ".iris", "iris model", "iris/1", "ïris", ""})
  void aNameOutsideThePatternIsRefusedAndQuoted(String name) {
    String message = invalid(new JsonObject().put("name", name).encode());

    assertEquals("field 'name': must match " + FunctionSpec.NAME.pattern() + ", got '" + name + "'", message);
  }

  @Test
  void namesAreAtMost64Characters() {
    assertEquals("a".repeat(64), FunctionSpec.fromJson(new JsonObject().put("name", "a".repeat(64))).name());
    assertTrue(invalid(new JsonObject().put("name", "a".repeat(65)).encode()).startsWith("field 'name': must match"));
  }

  @Test
  void aMissingNameSaysNothingCame() {
    assertEquals("field 'name': must match " + FunctionSpec.NAME.pattern() + ", got nothing", invalid("{\"kind\": \"tensor\"}"));
  }

  @Test
  void anUnknownFieldIsNamedWithTheAcceptedOnes() {
    assertEquals("spec: unknown field 'timeout' (accepted: batching, category, description, developer, examples, keep_warm, kind, "
            + "labels, name, postprocess, preprocess, price, requires, text, timeout_ms, use_cases, verification, version, visibility)",
        invalid("{\"name\": \"iris\", \"timeout\": 5}"));
  }

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", quoteCharacter = '`', value = {
      "{\"name\": 5}                                  => field 'name': expected a string, got 5",
      "{\"name\": \"a\", \"category\": true}          => field 'category': expected a string, got true",
      "{\"name\": \"a\", \"version\": \"2\"}          => field 'version': expected an integer in [1, 2147483647], got 2",
      "{\"name\": \"a\", \"version\": 0}              => field 'version': expected an integer in [1, 2147483647], got 0",
      "{\"name\": \"a\", \"version\": 1.5}            => field 'version': expected an integer in [1, 2147483647], got 1.5",
      "{\"name\": \"a\", \"version\": 2147483648}     => field 'version': expected an integer in [1, 2147483647], got 2147483648",
      "{\"name\": \"a\", \"kind\": \"llm\"}           => field 'kind': expected one of tensor | classifier | regressor | embedding | text-generation | image-classifier | image-embedding | image | audio | video, got 'llm'",
      "{\"name\": \"a\", \"visibility\": \"secret\"}  => field 'visibility': expected public | private, got 'secret'",
      "{\"name\": \"a\", \"use_cases\": \"search\"}   => field 'use_cases': expected an array of strings, got search",
      "{\"name\": \"a\", \"use_cases\": [\"x\", 2]}   => field 'use_cases[1]': expected a string, got 2",
      "{\"name\": \"a\", \"batching\": 8}             => field 'batching': expected an object, got 8",
      "{\"name\": \"a\", \"timeout_ms\": 0}           => field 'timeout_ms': expected an integer in [1, 600000], got 0",
      "{\"name\": \"a\", \"timeout_ms\": 600001}      => field 'timeout_ms': expected an integer in [1, 600000], got 600001",
  })
  void aValueOfTheWrongTypeOrRangeNamesTheField(String json, String message) {
    assertEquals(message, invalid(json));
  }

  @Test
  void onlyAClassifierHasLabels() {
    assertEquals("field 'labels': only a classifier, image-classifier, audio or video function has labels, this function's kind is regressor",
        invalid("{\"name\": \"a\", \"kind\": \"regressor\", \"labels\": [\"x\"]}"));
    assertEquals("field 'labels': only a classifier, image-classifier, audio or video function has labels, this function's kind is tensor",
        invalid("{\"name\": \"a\", \"labels\": [\"x\"]}"));
    assertEquals(List.of(), FunctionSpec.fromJson(new JsonObject("{\"name\": \"a\", \"labels\": []}")).labels(),
        "an empty list is no labels");
  }

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", quoteCharacter = '`', value = {
      "{\"max_batch_size\": -1}          => field 'max_batch_size': expected an integer in [0, 4096], got -1",
      "{\"max_batch_size\": 4097}        => field 'max_batch_size': expected an integer in [0, 4096], got 4097",
      "{\"max_queue_delay_ms\": -1}      => field 'max_queue_delay_ms': expected an integer in [0, 60000], got -1",
      "{\"max_queue_delay_ms\": 60001}   => field 'max_queue_delay_ms': expected an integer in [0, 60000], got 60001",
      "{\"max_batch\": 8}                => field 'batching': unknown field 'max_batch' (accepted: max_batch_size, max_queue_delay_ms, preferred_batch_sizes, max_queue_size)",
  })
  void batchingOutsideItsBoundsIsRefused(String batching, String message) {
    assertEquals(message, invalid("{\"name\": \"a\", \"batching\": " + batching + "}"));
  }

  @Test
  void batchingBoundsAreInclusiveAndMissingFieldsStayOpen() {
    FunctionSpec low = FunctionSpec.fromJson(new JsonObject("{\"name\": \"a\", \"batching\": {\"max_batch_size\": 0, \"max_queue_delay_ms\": 0}}"));
    assertEquals(new FunctionSpec.Batching(0, 0, List.of(), null), low.batching());
    FunctionSpec high = FunctionSpec.fromJson(new JsonObject("{\"name\": \"a\", \"batching\": {\"max_batch_size\": 4096, \"max_queue_delay_ms\": 60000}}"));
    assertEquals(new FunctionSpec.Batching(4096, 60000, List.of(), null), high.batching());
    FunctionSpec open = FunctionSpec.fromJson(new JsonObject("{\"name\": \"a\", \"batching\": {}}"));
    assertEquals(new FunctionSpec.Batching(null, null, List.of(), null), open.batching(), "null means derive from the model");
    assertEquals(new JsonObject(), open.toJson().getJsonObject("batching"));
  }

  @Test
  void examplesRoundTripAndTheirMistakesAreNamedByIndex() {
    JsonObject x = new JsonObject().put("name", "x").put("datatype", "FP32").put("shape", new JsonArray().add(1).add(2))
        .put("data", new JsonArray().add(1.5).add("NaN"));
    JsonArray examples = new JsonArray().add(new JsonObject().put("inputs", new JsonArray().add(x)));
    FunctionSpec spec = FunctionSpec.fromJson(new JsonObject().put("name", "e").put("examples", examples));
    assertEquals(1, spec.examples().size());
    assertEquals(examples, spec.toJson().getJsonArray("examples"));
    assertEquals(spec, FunctionSpec.fromJson(spec.toJson()));
    assertEquals(List.of(), FunctionSpec.fromJson(new JsonObject().put("name", "e")).examples());
    assertFalse(FunctionSpec.fromJson(new JsonObject().put("name", "e")).toJson().containsKey("examples"));

    JsonObject binary = x.copy().put("parameters", new JsonObject().put("binary_data_size", 8));
    JsonObject wrongCount = x.copy().put("data", new JsonArray().add(1));
    String[][] cases = {
        {"[1]", "field 'examples[0]': expected an object {\"inputs\": [...]}, got 1"},
        {"[{}]", "field 'examples[0].inputs': expected a non-empty array of V2 input tensors, got null"},
        {"[{\"inputs\": []}]", "field 'examples[0].inputs': expected a non-empty array of V2 input tensors, got []"},
        {"[{\"inputs\": [" + x.encode() + "]}, {\"inputs\": [" + wrongCount.encode() + "]}]",
            "field 'examples[1].inputs[0]': input 'x': shape [1,2] needs 2 elements, got 1"},
        {"[{\"inputs\": [" + binary.encode() + "]}]", "field 'examples[0].inputs[0]': example data must be in JSON"},
        {"[{\"inputs\": [" + x.encode() + ", " + x.encode() + "]}]", "field 'examples[0].inputs[1]': input 'x' is given twice"},
        {"\"x\"", "field 'examples': expected an array of input sets"},
    };
    for (String[] c : cases) {
      String message = invalid("{\"name\": \"e\", \"examples\": " + c[0] + "}");
      assertTrue(message.startsWith(c[1]), "expected '" + c[1] + "', got: " + message);
    }
    JsonArray nine = new JsonArray();
    for (int i = 0; i < ExampleInputs.MAX_EXAMPLES + 1; i++) {
      nine.add(examples.getValue(0));
    }
    assertEquals("field 'examples': 9 input sets, at most 8",
        invalid(new JsonObject().put("name", "e").put("examples", nine).encode()));
    JsonObject huge = x.copy().put("shape", new JsonArray().add(1).add(300_000))
        .put("data", new JsonArray(java.util.Collections.nCopies(300_000, 1.25)));
    assertTrue(invalid(new JsonObject().put("name", "e").put("examples", new JsonArray()
        .add(new JsonObject().put("inputs", new JsonArray().add(huge)))).encode()).endsWith("at most " + ExampleInputs.MAX_JSON_CHARS));
    assertTrue(invalid("{\"name\": \"g\", \"kind\": \"text-generation\", \"examples\": []}")
        .startsWith("field 'examples': example tensors apply to tensor models; a text-generation function"));
  }

  @Test
  void aPolicyThatCannotBeAppliedToAKindIsRefusedAtDeployButStillReads() {
    String similarity = "\"similarity\": {\"function\": \"embedder\", \"threshold\": 0.9}";
    for (String kind : List.of("text-generation", "embedding")) {
      // audit(p) is applied on the text path too (seeded generations exactly, embeddings by cosine).
      FunctionSpec audited = FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", \"kind\": \"" + kind
          + "\", \"verification\": {\"policy\": \"audit\", \"p\": 0.5}}"));
      assertDoesNotThrow(audited::requireUsableVerification, "audit " + kind);
      // redundant(k) is verified for text: embeddings by cosine, seeded generations by exact token ids.
      FunctionSpec redundant = FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", \"kind\": \"" + kind
          + "\", \"verification\": {\"policy\": \"redundant\", \"k\": 3}}"));
      assertDoesNotThrow(redundant::requireUsableVerification, "redundant " + kind);
      // A tenant's threshold outside (0, 1] is refused with the field named (400 at deploy).
      for (String bad : List.of("0", "1.5", "-0.2", "\"high\"")) {
        String why = assertThrows(InvalidSpecException.class, () -> FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", "
            + "\"kind\": \"" + kind + "\", \"verification\": {\"policy\": \"redundant\", \"threshold\": " + bad + "}}")))
            .getMessage();
        assertTrue(why.startsWith("field 'verification.threshold'"), why);
      }
      FunctionSpec none = FunctionSpec.fromJson(new JsonObject().put("name", "t").put("kind", kind));
      assertDoesNotThrow(none::requireUsableVerification, "no policy is fine for " + kind);
    }
    for (String kind : List.of("tensor", "classifier", "regressor")) {
      FunctionSpec compared = FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", \"kind\": \"" + kind
          + "\", \"verification\": {\"policy\": \"redundant\"}}"));
      assertDoesNotThrow(compared::requireUsableVerification, "tensors of a " + kind + " are compared");
    }
    // Only generated text is compared by meaning: a similarity embedder on another kind reads but is refused at deploy.
    for (String kind : List.of("embedding", "tensor", "classifier")) {
      FunctionSpec spec = FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", \"kind\": \"" + kind
          + "\", \"verification\": {\"policy\": \"redundant\", " + similarity + "}}"));
      String message = assertThrows(InvalidSpecException.class, spec::requireUsableVerification).getMessage();
      assertTrue(message.startsWith("field 'verification.similarity'") && message.contains("a " + kind + " function"),
          message);
    }
    for (String policy : List.of("{\"policy\": \"redundant\", \"k\": 3, ", "{\"policy\": \"audit\", \"p\": 0.2, ")) {
      FunctionSpec spec = FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", \"kind\": \"text-generation\", "
          + "\"verification\": " + policy + similarity + "}}"));
      assertEquals(new FunctionSpec.SemanticCheck("embedder", 0.9), spec.verification().similarity());
      assertDoesNotThrow(spec::requireUsableVerification, policy);
      assertEquals(spec.verification(), FunctionSpec.fromJson(spec.toJson()).verification(), "round trip");
    }
  }

  @Test
  void aSimilarityCheckIsValidatedFieldByField() {
    java.util.Map<String, String> cases = java.util.Map.of(
        "\"tiny-embed\"", "field 'verification.similarity': expected an object",
        "{\"threshold\": 0.9}", "field 'verification.similarity.function'",
        "{\"function\": \"Bad Name\", \"threshold\": 0.9}", "field 'verification.similarity.function'",
        "{\"function\": \"e\"}", "field 'verification.similarity.threshold'",
        "{\"function\": \"e\", \"threshold\": 0}", "field 'verification.similarity.threshold'",
        "{\"function\": \"e\", \"threshold\": 1.01}", "field 'verification.similarity.threshold'",
        "{\"function\": \"e\", \"threshold\": 0.9, \"model\": \"x\"}", "field 'verification.similarity': unknown field 'model'");
    cases.forEach((value, expected) -> {
      String why = assertThrows(InvalidSpecException.class, () -> FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", "
          + "\"kind\": \"text-generation\", \"verification\": {\"policy\": \"redundant\", \"similarity\": " + value + "}}")))
          .getMessage();
      assertTrue(why.startsWith(expected), value + " -> " + why);
    });
    String none = assertThrows(InvalidSpecException.class, () -> FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", "
        + "\"kind\": \"text-generation\", \"verification\": {\"policy\": \"none\", \"similarity\": "
        + "{\"function\": \"e\", \"threshold\": 0.9}}}"))).getMessage();
    assertTrue(none.startsWith("field 'verification.similarity': compares runs"), none);
  }
}
