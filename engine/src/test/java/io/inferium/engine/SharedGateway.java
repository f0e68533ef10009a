package io.inferium.engine;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A gateway shared by several test classes: started by the first class that asks for a {@link TestGateway} parameter
 * ({@code @BeforeAll void start(TestGateway gw)} with {@code @ExtendWith} of the subclass) and closed once, when the
 * whole run ends (JUnit's root store, one entry per subclass).
 */
abstract class SharedGateway implements ParameterResolver {

  /** Closes the gateway at the end of the run. */
  record Holder(TestGateway gw) implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() throws Throwable {
      gw.close();
    }
  }

  /** Starts the gateway and deploys what the sharing classes read. */
  protected abstract TestGateway start() throws Exception;

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == TestGateway.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context.getRoot().getStore(ExtensionContext.Namespace.create(getClass())).getOrComputeIfAbsent("gateway", k -> {
      try {
        return new Holder(start());
      } catch (Exception e) {
        throw new IllegalStateException("the gateway shared through " + getClass().getSimpleName() + " did not start", e);
      }
    }, Holder.class).gw();
  }
}
