package io.inferium.engine;

import static io.inferium.engine.GatewayIT.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Deploy-time smoke runs on the developer's examples and on synthesized inputs, through a real gateway,
 * real sandbox worker processes and real models: a model that only makes sense on its own inputs
 * deploys with a warning without examples and cleanly with them; examples that do not fit the model are
 * a 400 naming the field; a model that misbehaves on its own examples (NaN, a hang) or crashes the
 * runtime is still rejected, and the pipeline goes on deploying afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployExamplesIT {

  private TestGateway gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(1);
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private static JsonObject input(String name, String datatype, List<Integer> shape, Object... data) {
    return new JsonObject().put("name", name).put("datatype", datatype).put("shape", new JsonArray(shape))
        .put("data", new JsonArray(List.of(data)));
  }

  private static JsonArray examples(JsonObject... inputs) {
    return new JsonArray().add(new JsonObject().put("inputs", new JsonArray(List.of((Object[]) inputs))));
  }

  private static JsonObject check(JsonObject rec, String name) {
    return rec.getJsonObject("verification").getJsonArray("checks").stream().map(JsonObject.class::cast)
        .filter(c -> name.equals(c.getString("name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no check " + name + " in " + rec.encodePrettily()));
  }

  private static JsonObject expandExample() {
    return input("x", "FP32", List.of(3, 1), 1, 2, 3);
  }

  @Test
  void aModelThatRefusesSynthesizedInputsDeploysWithAWarningThatNamesThem() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "ex-expand-bare"), TestGateway.model("expand_by_input.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    JsonObject smoke = check(rec, "smoke_inference");
    assertEquals("warning", smoke.getString("severity"), smoke.encode());
    assertFalse(smoke.getBoolean("passed"));
    assertTrue(smoke.getString("message").contains("synthesized inputs (x:FP32[3, 1], shape:INT64[2])"), smoke.encode());
    assertTrue(smoke.getString("message").contains("add 'examples' to the spec"), smoke.encode());
    JsonObject used = rec.getJsonObject("verification").getJsonObject("smoke_inputs");
    assertEquals("synthesized", used.getString("source"));
    assertEquals(new JsonArray().add(2), used.getJsonArray("sets").getJsonObject(0).getJsonArray("inputs").getJsonObject(1)
        .getJsonArray("shape"));

    // It serves its real inputs correctly: the warning was about the inputs, not the model.
    HttpResponse<Buffer> answer = gw.infer("ex-expand-bare", new JsonObject().put("inputs", new JsonArray()
        .add(expandExample()).add(input("shape", "INT64", List.of(2), 3, 4))));
    assertEquals(200, answer.statusCode(), answer.bodyAsString());
    JsonObject y = answer.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0);
    assertEquals(new JsonArray().add(3).add(4), y.getJsonArray("shape"));
    assertEquals(List.of(1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0),
        y.getJsonArray("data").stream().map(v -> ((Number) v).doubleValue()).toList());
  }

  @Test
  void integerDivisionByASynthesizedZeroIsAWarningNotARejection() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "ex-div-bare"), TestGateway.model("div_int.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    assertEquals("warning", check(rec, "smoke_inference").getString("severity"));
  }

  @Test
  void withExamplesTheSameModelPassesCleanlyAndKeepsThemForTheConsole() throws Exception {
    JsonArray examples = examples(expandExample(), input("shape", "INT64", List.of(2), 3, 4));
    examples.add(new JsonObject().put("inputs", new JsonArray().add(input("shape", "INT64", List.of(2), 3, 2))
        .add(expandExample())));
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "ex-expand").put("examples", examples),
        TestGateway.model("expand_by_input.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    rec.getJsonObject("verification").getJsonArray("checks").stream().map(JsonObject.class::cast)
        .forEach(c -> assertTrue(c.getBoolean("passed"), "every check passes: " + c.encode()));
    assertTrue(check(rec, "smoke_inference").getString("message").contains("2 example(s)"));
    JsonObject used = rec.getJsonObject("verification").getJsonObject("smoke_inputs");
    assertEquals("examples", used.getString("source"));
    assertEquals(1, used.getJsonArray("sets").getJsonObject(1).getInteger("example"));
    assertEquals(new JsonObject().put("name", "shape").put("datatype", "INT64").put("shape", new JsonArray().add(2)),
        used.getJsonArray("sets").getJsonObject(1).getJsonArray("inputs").getJsonObject(0));

    JsonObject shown = gw.get("/api/functions/ex-expand").bodyAsJsonObject();
    assertEquals(examples, shown.getJsonArray("examples"));
    JsonObject listed = gw.get("/api/functions?q=ex-expand").bodyAsJsonObject().getJsonArray("functions").stream()
        .map(JsonObject.class::cast).filter(f -> "ex-expand".equals(f.getString("name"))).findFirst().orElseThrow();
    assertFalse(listed.containsKey("examples"), "a search lists functions without their examples");
  }

  @Test
  void examplesThatDoNotFitTheModelAreA400NamingExampleInputAndField() throws Exception {
    JsonObject shape = input("shape", "INT64", List.of(2), 3, 4);
    Object[][] cases = {
        {examples(expandExample(), input("shape", "INT32", List.of(2), 3, 4)), "field 'examples[0].inputs[1].datatype'"},
        {examples(input("x", "FP32", List.of(1, 3), 1, 2, 3), shape), "field 'examples[0].inputs[0].shape'"},
        {examples(expandExample(), shape.copy().put("name", "target")), "field 'examples[0].inputs[1].name'"},
        {examples(expandExample()), "field 'examples[0].inputs': input 'shape' is missing"},
        {examples(expandExample(), input("shape", "INT64", List.of(2), 3)), "field 'examples[0].inputs[1]': input 'shape'"},
        {examples(expandExample(), shape, shape), "field 'examples[0].inputs[2]': input 'shape' is given twice"},
        {new JsonArray().add(new JsonObject().put("inputs", new JsonArray().add(expandExample()).add(shape)).put("outputs", 1)),
            "unknown field 'outputs'"},
        {new JsonArray(java.util.Collections.nCopies(9, examples(expandExample(), shape).getValue(0))), "at most 8"},
        {new JsonObject(), "field 'examples': expected an array"},
    };
    for (Object[] c : cases) {
      JsonObject spec = new JsonObject().put("name", "ex-misfit").put("examples", c[0]);
      assertError(gw.upload(spec.encode(), TestGateway.model("expand_by_input.onnx")), 400, (String) c[1]);
    }
    assertEquals(404, gw.get("/api/functions/ex-misfit").statusCode(), "nothing was stored");
    JsonObject text = new JsonObject().put("name", "ex-text").put("kind", "embedding")
        .put("examples", examples(expandExample()));
    assertError(gw.upload(text.encode(), TestGateway.model("add.onnx")), 400, "field 'examples'");
  }

  @Test
  void nonFiniteOutputsOnTheDevelopersOwnExamplesReject() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "ex-nan")
        .put("examples", examples(input("x", "FP32", List.of(1, 2), 1, 0))), TestGateway.model("nan_output.onnx"));
    assertEquals("rejected", rec.getString("state"), rec.encodePrettily());
    String reason = rec.getString("state_reason");
    assertTrue(reason.startsWith("smoke_outputs_finite: on examples[0] (x:FP32[1, 2])"), reason);
    assertTrue(reason.contains("NaN or infinite values in y (1 of 2 values)"), reason);

    JsonObject bare = gw.deployAndWait(new JsonObject().put("name", "ex-nan-bare"), TestGateway.model("nan_output.onnx"));
    assertEquals("ready", bare.getString("state"), "NaN from synthesized zeros is only a warning");
    assertEquals("warning", check(bare, "smoke_outputs_finite").getString("severity"));
  }

  @Test
  void aModelThatHangsOnItsOwnExampleIsRejectedAndThePipelineGoesOn() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "ex-hang").put("examples",
        examples(input("iterations", "INT64", List.of(1), 1_000_000_000_000_000_000L), input("x", "FP32", List.of(1), 1))),
        TestGateway.model("loop_by_input.onnx"));
    assertEquals("rejected", rec.getString("state"), rec.encodePrettily());
    assertTrue(rec.getString("state_reason").startsWith("smoke_inference: on examples[0]"), rec.getString("state_reason"));
    assertTrue(rec.getString("state_reason").contains("did not finish within " + TestGateway.SMOKE_TIMEOUT_MS + " ms"));
    JsonObject next = gw.deployAndWait(new JsonObject().put("name", "ex-after-hang"), TestGateway.model("add.onnx"));
    assertEquals("ready", next.getString("state"), "the sandbox was retired, verification not wedged");
  }

  @Test
  void aModelThatCrashesTheRuntimeIsRejectedWhateverItsExamples() throws Exception {
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "ex-crash")
        .put("examples", examples(input("X", "FP32", List.of(1, 1), 0.25))), TestGateway.model("crash_tree_ensemble.onnx"));
    assertEquals("rejected", rec.getString("state"), rec.encodePrettily());
    assertTrue(rec.getString("state_reason").startsWith("sandbox_load:"), rec.getString("state_reason"));
    assertEquals(200, gw.get("/v2/health/ready").statusCode());
  }

  @Test
  void aKindRefusesAVerificationPolicyNothingCanApplyToIt() throws Exception {
    // Meaning is compared for generated text only (RemoteTextNodeIT); other kinds' outputs are compared directly.
    JsonObject similarity = new JsonObject().put("function", "some-embedder").put("threshold", 0.9);
    for (String kind : List.of("embedding", "tensor")) {
      JsonObject spec = new JsonObject().put("name", "ex-text-verified").put("kind", kind).put("verification",
          new JsonObject().put("policy", "audit").put("p", 0.1).put("similarity", similarity));
      HttpResponse<Buffer> resp = gw.upload(spec.encode(), TestGateway.model("add.onnx"));
      assertError(resp, 400, "field 'verification.similarity'");
      assertTrue(resp.bodyAsJsonObject().getString("error").contains("a " + kind + " function"), resp.bodyAsString());
    }
    // A text-generation function's embedder must exist (be ready, an embedding function the tenant may call).
    JsonObject generator = new JsonObject().put("name", "ex-text-verified").put("kind", "text-generation")
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3).put("similarity", similarity));
    assertError(gw.upload(generator.encode(), TestGateway.model("add.onnx")), 400, "field 'verification.similarity.function'");
    JsonObject tensor = new JsonObject().put("name", "ex-tensor-verified")
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 2));
    assertEquals(202, gw.upload(tensor.encode(), TestGateway.model("add.onnx")).statusCode(), "a tensor kind keeps its policy");
  }

  @Test
  void aSpecTooLargeForAFormFieldTravelsAsAFilePart() throws Exception {
    Object[] rows = new Object[4000];
    java.util.Arrays.fill(rows, 0.5);
    JsonObject spec = new JsonObject().put("name", "ex-big-spec")
        .put("examples", examples(input("x", "FP32", List.of(2000, 2), rows)));
    HttpResponse<Buffer> field = gw.upload(spec.encode(), TestGateway.model("nan_output.onnx"));
    assertError(field, 413, "send a large spec (one with examples, say) as a file part instead: curl -F spec=@spec.json");

    java.nio.file.Path file = java.nio.file.Files.createTempFile("spec-", ".json");
    java.nio.file.Files.writeString(file, spec.encode());
    HttpResponse<Buffer> part = gw.client.post(gw.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY)
        .sendMultipartForm(io.vertx.ext.web.multipart.MultipartForm.create()
            .binaryFileUpload("spec", "spec.json", file.toString(), "application/json")
            .binaryFileUpload("model", "nan_output.onnx", TestGateway.model("nan_output.onnx").toString(), "application/octet-stream"))
        .await(60, java.util.concurrent.TimeUnit.SECONDS);
    java.nio.file.Files.delete(file);
    assertEquals(202, part.statusCode(), part.bodyAsString());
  }
}
