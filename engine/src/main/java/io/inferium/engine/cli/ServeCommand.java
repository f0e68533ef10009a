package io.inferium.engine.cli;

import io.inferium.engine.Gateway;
import io.inferium.engine.ServerConfig;
import io.inferium.infra.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code inferium serve}: the gateway with its worker processes, until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the server.")
class ServeCommand implements Callable<Integer> {

  @Mixin
  ServerOptions options;

  @Override
  public Integer call() throws Exception {
    return run(options.toConfig(), options.drain(), options.vertxOptions(), null);
  }

  /** Starts the gateway, runs {@code afterStart} (the demo deploys there), then waits for shutdown. */
  static int run(ServerConfig config, Gateway.Drain drain, VertxOptions vertxOptions,
      java.util.function.Consumer<Gateway> afterStart)
      throws InterruptedException {
    Metrics metrics = new Metrics();
    Vertx vertx = metrics.newVertx(vertxOptions);
    Gateway gateway;
    try {
      gateway = Gateway.start(vertx, metrics, config).await(5, TimeUnit.MINUTES);
    } catch (Exception e) {
      System.err.println("inferium: could not start: " + e.getMessage());
      vertx.close();
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    // The embedded PostgreSQL's own exit hook would otherwise stop it while the drain still bills and records.
    io.inferium.infra.Database.embeddedShutdownWaitMs(drain.delayMs() + drain.graceMs() + 30_000);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        System.out.println("inferium: draining (readiness 503 for " + drain.delayMs() + " ms, then up to "
            + drain.graceMs() + " ms for requests in flight)");
        gateway.drain(drain).await(drain.delayMs() + drain.graceMs() + 20_000, TimeUnit.MILLISECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
      Main.stopLogging(org.slf4j.LoggerFactory.getILoggerFactory());
      stopped.countDown();
    }, "inferium-shutdown"));
    System.out.println("Inferium ready at " + gateway.url() + " (admin key in " + gateway.adminKeyLocation() + ")");
    if (afterStart != null) {
      afterStart.accept(gateway);
    }
    stopped.await();
    return 0;
  }
}
