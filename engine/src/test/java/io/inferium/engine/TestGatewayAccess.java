package io.inferium.engine;

import io.vertx.core.Vertx;
import java.nio.file.Path;

/** {@link TestGateway} for tests in other packages. */
public final class TestGatewayAccess implements AutoCloseable {

  private final TestGateway gw;

  private TestGatewayAccess(TestGateway gw) {
    this.gw = gw;
  }

  public static TestGatewayAccess start(int workers) throws Exception {
    return new TestGatewayAccess(TestGateway.start(workers));
  }

  public Vertx vertx() {
    return gw.vertx;
  }

  public Gateway gateway() {
    return gw.gateway;
  }

  public Path dataDir() {
    return gw.dataDir;
  }

  public String url() {
    return "http://127.0.0.1:" + gw.port();
  }

  public String adminKey() {
    return TestGateway.ADMIN_KEY;
  }

  public Path model(String file) {
    return TestGateway.model(file);
  }

  @Override
  public void close() throws Exception {
    gw.close();
  }
}
