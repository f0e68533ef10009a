package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One gateway with the OpenAI-route functions deployed (tiny-gpt, tiny-embed, narrow: a tiny-gpt with one running
 * and one waiting sequence, and the adder), shared by the classes that only read from it ({@code OpenAiIT},
 * {@code OpenApiIT}): its start and four deploys are most of each class's time. Started by the first class that asks
 * ({@code @BeforeAll void start(TestGateway gw)} with {@code @ExtendWith(SharedTextGateway.class)}) and closed once,
 * when the whole run ends (JUnit's root store).
 */
final class SharedTextGateway implements ParameterResolver {

  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SharedTextGateway.class);

  /** Closes the gateway at the end of the run. */
  record Holder(TestGateway gw) implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() throws Throwable {
      gw.close();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == TestGateway.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context.getRoot().getStore(NS).getOrComputeIfAbsent("gateway", k -> {
      try {
        return new Holder(start());
      } catch (Exception e) {
        throw new IllegalStateException("the shared text gateway did not start", e);
      }
    }, Holder.class).gw();
  }

  private static TestGateway start() throws Exception {
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
