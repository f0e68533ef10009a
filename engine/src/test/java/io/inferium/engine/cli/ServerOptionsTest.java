package io.inferium.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.ServerConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ServerOptionsTest {

  private static ServerOptions options(String... args) {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs(args);
    return serve.options;
  }

  private static ServerConfig parse(String... args) {
    return options(args).toConfig();
  }

  private static io.vertx.core.VertxOptions vertxOptions(String... args) {
    return options(args).vertxOptions();
  }

  @Test
  void eventLoopsAreOnePerTwoCoresUnlessGiven() {
    assertEquals(1, io.inferium.engine.Gateway.defaultEventLoops(1));
    assertEquals(1, io.inferium.engine.Gateway.defaultEventLoops(2));
    assertEquals(1, io.inferium.engine.Gateway.defaultEventLoops(3));
    assertEquals(8, io.inferium.engine.Gateway.defaultEventLoops(16));
    if (System.getenv("INFERIUM_EVENT_LOOPS") == null) {
      assertEquals(io.inferium.engine.Gateway.defaultEventLoops(Runtime.getRuntime().availableProcessors()),
          vertxOptions().getEventLoopPoolSize());
    }
    assertEquals(3, vertxOptions("--event-loops", "3").getEventLoopPoolSize());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> vertxOptions("--event-loops", "-1"));
    assertTrue(e.getMessage().startsWith("--event-loops: must be 0"), e.getMessage());
  }

  @Test
  void kafkaAndTheBurnFlagReachTheConfig() {
    ServerConfig config = parse("--kafka", "127.0.0.1:9092", "--burn-platform-share");
    assertEquals("127.0.0.1:9092", config.kafka());
    assertTrue(config.burnPlatformShare());
  }

  @Test
  void withoutThemTheLocalLogIsUsedAndNothingBurns() {
    // INFERIUM_KAFKA may be set where tests run; only check the default when it is not.
    String env = System.getenv("INFERIUM_KAFKA");
    ServerConfig config = parse();
    if (env == null || env.isBlank()) {
      assertNull(config.kafka());
    } else {
      assertEquals(env, config.kafka());
    }
    if (System.getenv("INFERIUM_BURN_PLATFORM_SHARE") == null) {
      assertFalse(config.burnPlatformShare());
    }
  }

  @Test
  void sharedDbNeedsADatabaseUrlAndTurnsTheSyncOn() {
    if (System.getenv("INFERIUM_SHARED_DB") == null) {
      assertEquals(0, parse("--db-url", "postgresql://u@h/db").sharedDbSyncMs());
    }
    assertEquals(ServerConfig.DEFAULT_SHARED_DB_SYNC_MS,
        parse("--db-url", "postgresql://u@h/db", "--shared-db").sharedDbSyncMs());
    if (System.getenv("INFERIUM_DB_URL") == null) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> parse("--shared-db"));
      assertTrue(e.getMessage().startsWith("--shared-db: gateways share a database given with --db-url"), e.getMessage());
    }
  }

  @Test
  void noLocalWorkersServesOnlyThroughTheNodePort() {
    assertEquals(0, parse("--no-local-workers", "--node-port", "0").workers());
    for (String[] bad : new String[][] {{"--no-local-workers"}, {"--no-local-workers", "--node-port", "0", "--workers", "2"}}) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> parse(bad));
      assertTrue(e.getMessage().startsWith("--no-local-workers: needs --node-port"), e.getMessage());
    }
  }

  @Test
  void workerSandboxFlagsReachTheConfig() {
    ServerConfig config = parse("--worker-sandbox", "required", "--worker-memory", "512m", "--worker-cpus", "1.5");
    assertEquals(io.inferium.engine.gateway.SandboxSettings.Mode.REQUIRED, config.sandbox().mode());
    assertEquals(512L << 20, config.sandbox().memoryBytes());
    assertEquals(1.5, config.sandbox().cpus());
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> parse("--worker-memory", "lots"));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> parse("--worker-sandbox", "maybe"));
  }

  @Test
  void chainAndEpochFlagsReachTheConfigAndHalfAChainIsRefused() {
    ServerConfig config = parse("--chain-rpc", "http://127.0.0.1:8545", "--chain-key-file", "k.hex",
        "--chain-deployment", "deployment.json", "--chain-confirmations", "3", "--receipt-epoch-size", "16",
        "--receipt-epoch-seconds", "2.5");
    assertEquals("http://127.0.0.1:8545", config.receipts().chain().rpcUrl());
    assertEquals(java.nio.file.Path.of("k.hex"), config.receipts().chain().keyFile());
    assertEquals(java.nio.file.Path.of("deployment.json"), config.receipts().chain().deploymentFile());
    assertEquals(3, config.receipts().chain().confirmations());
    assertEquals(16, config.receipts().epochSize());
    assertEquals(2_500, config.receipts().epochMs());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> parse("--chain-rpc", "http://127.0.0.1:8545"));
    assertTrue(e.getMessage().contains("--chain-key-file"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> parse("--chain-key-file", "k.hex"));
    assertTrue(e.getMessage().contains("--chain-rpc"), e.getMessage());
    if (System.getenv("INFERIUM_CHAIN_RPC") == null) {
      assertNull(parse().receipts().chain(), "anchoring off by default");
    }
  }
}
