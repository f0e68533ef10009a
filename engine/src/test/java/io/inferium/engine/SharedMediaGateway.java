package io.inferium.engine;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One gateway with one worker for the media classes ({@code PredictIT}, {@code MediaArenaIT}): each deploys its own
 * functions under its own tenants, so they share only the start. Started by the first class that asks
 * ({@code @BeforeAll static void start(TestGateway gw)} with {@code @ExtendWith(SharedMediaGateway.class)}) and
 * closed once, when the whole run ends (JUnit's root store).
 */
final class SharedMediaGateway implements ParameterResolver {

  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SharedMediaGateway.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == TestGateway.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context.getRoot().getStore(NS).getOrComputeIfAbsent("gateway", k -> {
      try {
        return new SharedTextGateway.Holder(TestGateway.start(1));
      } catch (Exception e) {
        throw new IllegalStateException("the shared media gateway did not start", e);
      }
    }, SharedTextGateway.Holder.class).gw();
  }
}
