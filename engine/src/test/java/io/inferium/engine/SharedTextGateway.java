package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;

/**
 * One gateway with the OpenAI-route functions deployed (tiny-gpt, tiny-embed, narrow: a tiny-gpt with one running
 * and one waiting sequence, and the adder), shared by the classes that only read from it ({@code OpenAiIT},
 * {@code OpenApiIT}): its start and four deploys are most of each class's time. Started by the first class that asks
 * ({@code @BeforeAll void start(TestGateway gw)} with {@code @ExtendWith(SharedTextGateway.class)}) and closed once,
 * when the whole run ends (JUnit's root store).
 */
final class SharedTextGateway extends SharedGateway {

  @Override
  protected TestGateway start() throws Exception {
    TestGateway gw = TestGateway.start(2);
    try {
      assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject()).getString("state"));
      assertEquals("ready", OpenAiIT.deployText(gw, "tiny-embed", new JsonObject()).getString("state"));
      assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject().put("name", "narrow")
          .put("text", new JsonObject().put("max_running_sequences", 1).put("max_waiting", 1))).getString("state"));
      assertEquals("ready", gw.deployAndWait(new JsonObject().put("name", "adder"), TestGateway.model("add.onnx"))
          .getString("state"));
      return gw;
    } catch (Exception | Error e) {
      gw.close();
      throw e;
    }
  }
}
