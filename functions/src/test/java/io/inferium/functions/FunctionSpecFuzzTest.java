package io.inferium.functions;

import io.inferium.functions.fuzz.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the deploy spec (the multipart {@code spec} field): any JSON object becomes a valid spec or
 * an {@link InvalidSpecException} naming the field (a 400), never another exception; a valid spec
 * survives its own JSON form.
 */
class FunctionSpecFuzzTest {

  static final List<String> WORDS = List.of("name", "version", "kind", "category", "use_cases", "description",
      "labels", "timeout_ms", "max_batch_size", "max_queue_delay_ms", "max_queue_size", "preferred_batch_sizes",
      "batching", "price", "verification", "text", "visibility", "keep_warm", "developer", "policy", "threshold",
      "replicas", "per_request", "per_compute_ms", "per_thousand_tokens", "max_running_sequences", "max_waiting",
      "max_tokens_per_step", "pooling", "normalize", "classifier", "regressor", "text-generation", "embedding",
      "public", "private", "none", "redundant", "mean", "cls", "my-function", "p",
      "examples", "inputs", "datatype", "shape", "data", "FP32", "INT64", "BYTES", "x");

  @Provide
  Arbitrary<JsonObject> specs() {
    JsonObject valid = new JsonObject().put("name", "my-function").put("kind", "classifier")
        .put("labels", new JsonArray().add("a").add("b")).put("timeout_ms", 1000).put("max_batch_size", 8)
        .put("price", new JsonObject().put("per_request", 10));
    JsonObject text = new JsonObject().put("name", "gen").put("kind", "text-generation")
        .put("text", new JsonObject().put("max_running_sequences", 4));
    JsonObject withExamples = new JsonObject().put("name", "ex").put("examples", new JsonArray().add(new JsonObject()
        .put("inputs", new JsonArray().add(new JsonObject().put("name", "x").put("datatype", "FP32")
            .put("shape", new JsonArray().add(1).add(2)).put("data", new JsonArray().add(1.5).add("NaN"))))));
    return Arbitraries.oneOf(Json.object(WORDS, Json.value(WORDS, 3)), Json.mutated(valid, WORDS), Json.mutated(text, WORDS),
        Json.mutated(valid, WORDS).flatMap(v -> Json.mutated(v, WORDS)), Json.mutated(withExamples, WORDS),
        Json.mutated(withExamples, WORDS).flatMap(v -> Json.mutated(v, WORDS)));
  }

  @Property(seed = "20261204")
  void anyJsonIsAValidSpecOrANamedError(@ForAll("specs") JsonObject json) {
    FunctionSpec spec;
    try {
      spec = FunctionSpec.fromJson(json);
    } catch (InvalidSpecException expected) {
      return;
    }
    FunctionSpec.fromJson(spec.toJson());
  }
}
