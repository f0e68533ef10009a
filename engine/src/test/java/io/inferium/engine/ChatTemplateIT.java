package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Hostile chat templates against a real gateway: each is rendered with sample conversations in the
 * sandbox worker at deploy and rejected with the reason in the verification report; one that hides
 * its bomb behind a trigger word passes deploy, and then fails only its caller's request with a 400
 * while the normal text function keeps answering.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatTemplateIT {

  private static final Path TINY_GPT = OpenAiIT.MODELS.resolve("tiny-gpt");
  private static final String CHATML = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' "
      + "+ message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}"
      + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private TestGateway gw;
  private Path dir;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(1);
    dir = Files.createTempDirectory("inferium-templates-");
    assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject()).getString("state"));
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private JsonObject deployWithTemplate(String name, String template) throws Exception {
    JsonObject config = new JsonObject(Files.readString(TINY_GPT.resolve("tokenizer_config.json"))).put("chat_template", template);
    Path file = dir.resolve(name + ".json");
    Files.writeString(file, config.encode());
    JsonObject spec = new JsonObject(Files.readString(TINY_GPT.resolve("spec.json"))).put("name", name);
    MultipartForm form = MultipartForm.create().attribute("spec", spec.encode())
        .binaryFileUpload("model", "model.onnx", TINY_GPT.resolve("model.onnx").toString(), "application/octet-stream")
        .binaryFileUpload("tokenizer", "tokenizer.json", TINY_GPT.resolve("tokenizer.json").toString(), "application/json")
        .binaryFileUpload("tokenizer_config", "tokenizer_config.json", file.toString(), "application/json");
    HttpResponse<Buffer> resp = gw.client.post(gw.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    assertEquals(202, resp.statusCode(), resp.bodyAsString());
    String path = "/api/functions/" + name + "/versions/" + resp.bodyAsJsonObject().getInteger("version");
    return TestGateway.poll(path + " verified", () -> gw.get(path).bodyAsJsonObject(),
        now -> !"verifying".equals(now.getString("state")));
  }

  private HttpResponse<Buffer> chat(String model, String content) throws Exception {
    return gw.post("/v1/chat/completions", new JsonObject().put("model", model).put("max_tokens", 4).put("temperature", 0)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", content))).encode());
  }

  private void assertTinyGptStillServes() throws Exception {
    HttpResponse<Buffer> ok = chat("tiny-gpt", "Hello");
    assertEquals(200, ok.statusCode(), ok.bodyAsString());
    assertEquals(4, ok.bodyAsJsonObject().getJsonObject("usage").getInteger("completion_tokens"), ok.bodyAsString());
  }

  private void assertRejected(String name, String template, String... why) throws Exception {
    long start = System.nanoTime();
    JsonObject rec = deployWithTemplate(name, template);
    assertEquals("rejected", rec.getString("state"), rec.encodePrettily());
    String reason = rec.getString("state_reason");
    assertTrue(reason.startsWith("chat_template: "), reason);
    assertTrue(java.util.Arrays.stream(why).anyMatch(reason::contains), reason);
    assertFalse(reason.contains("CREATE TABLE"), reason);
    JsonObject check = rec.getJsonObject("verification").getJsonArray("checks").stream().map(JsonObject.class::cast)
        .filter(c -> "chat_template".equals(c.getString("name"))).findFirst().orElseThrow();
    assertEquals(reason, "chat_template: " + check.getString("message"));
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60));
    assertTinyGptStillServes();
  }

  @Test
  void anIncludeOfAServerFileIsRejectedAtDeployWithoutItsContent() throws Exception {
    assertRejected("tpl-include", "{% include 'db/migration/V2__api_keys.sql' %}" + CHATML,
        "the tag 'include' is not allowed in a chat template");
  }

  @Test
  void aJavaMethodCallIsRejectedAtDeploy() throws Exception {
    assertRejected("tpl-repeat", "{{ 'a'.repeat(100000000) }}" + CHATML, "calling 'repeat' on a string is not allowed");
  }

  @Test
  void aHugeLoopIsRejectedAtDeploy() throws Exception {
    assertRejected("tpl-loop", "{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}"
        + "{% set x = c %}{% endfor %}{% endfor %}{% endfor %}" + CHATML, "steps of work", "took longer than 2000 ms");
  }

  @Test
  void anOutputBombIsRejectedAtDeploy() throws Exception {
    assertRejected("tpl-output", "{% for a in range(10000) %}{% for b in range(10000) %}xxxxxxxxxxxxxxxxxxxxxxxx"
        + "{% endfor %}{% endfor %}" + CHATML, "output exceeds");
  }

  @Test
  void aTemplateThatRefusesSomeSamplesIsReadyAndItsHiddenBombFailsOnlyItsCaller() throws Exception {
    String template = "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System messages are not supported') }}"
        + "{% endif %}{% if 'boom' in messages[-1]['content'] %}{% for a in range(10000) %}{% for b in range(10000) %}"
        + "{% set x = b %}{% endfor %}{% endfor %}{% endif %}" + CHATML;
    JsonObject rec = deployWithTemplate("tpl-boom", template);
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    JsonObject report = rec.getJsonObject("verification").getJsonObject("chat_template");
    assertEquals(2, report.getInteger("rendered"), report.encode());
    assertTrue(report.getJsonArray("refused").getString(0).contains("System messages are not supported"), report.encode());

    assertEquals(200, chat("tpl-boom", "Hello").statusCode());
    long start = System.nanoTime();
    HttpResponse<Buffer> bomb = chat("tpl-boom", "boom");
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(400, bomb.statusCode(), bomb.bodyAsString());
    assertTrue(bomb.bodyAsJsonObject().getJsonObject("error").getString("message").contains("chat template failed"),
        bomb.bodyAsString());
    assertTrue(ms < 30_000, "the bomb took " + ms + " ms");
    assertTinyGptStillServes();
    assertEquals(200, chat("tpl-boom", "Hello again").statusCode());
  }
}
