package io.inferium.engine.cli;

import io.inferium.engine.DemoFunctions;
import io.inferium.engine.ServerConfig;
import io.inferium.functions.FunctionRecord;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code inferium demo}: {@code serve} plus the bundled demo functions, and curl lines to try them. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the server with the demo functions deployed.")
class DemoCommand implements Callable<Integer> {

  @Mixin
  ServerOptions options;

  @picocli.CommandLine.Option(names = "--no-chain", description = "Do not start a local Anvil chain even when one is at hand (receipts are then built but not anchored).")
  boolean noChain;

  @Override
  public Integer call() throws Exception {
    if (!noChain && (options.chainRpc == null || options.chainRpc.isBlank())) {
      // A local chain when Anvil is at hand: receipts anchored, settlement and stake on chain (docs/CHAIN.md).
      DemoChain.start(options.dataDir).ifPresent(chain -> {
        options.chainRpc = chain.rpcUrl;
        options.chainKeyFile = chain.keyFile;
        options.chainDeployment = chain.deploymentFile;
      });
    }
    ServerConfig config = options.toConfig();
    return ServeCommand.run(config, options.drain(), options.vertxOptions(), gateway -> {
      try {
        List<FunctionRecord> deployed = DemoFunctions.deploy(gateway.vertx(), gateway,
            config.dataDir().toAbsolutePath().resolve("uploads")).await(5, TimeUnit.MINUTES);
        for (FunctionRecord r : deployed) {
          System.out.println("Demo function " + r.ref() + " is " + r.state().wire()
              + (r.stateReason() == null ? "" : " (" + r.stateReason() + ")"));
        }
        String key = gateway.adminKeyLocation().startsWith("/") ? "$(cat " + gateway.adminKeyLocation() + ")" : "<your admin key>";
        String u = gateway.url();
        System.out.println();
        System.out.println("Try it:");
        System.out.println("  export KEY=" + key);
        System.out.println("  curl -s " + u + "/v2/models/iris -H \"Authorization: Bearer $KEY\"");
        System.out.println("  curl -s " + u + "/v2/models/iris/infer -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' \\");
        System.out.println("    -d '{\"inputs\":[{\"name\":\"features\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}]}'");
        System.out.println("  curl -s " + u + "/v2/models/add/infer -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' \\");
        System.out.println("    -d '{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[10,20,30,40]}]}'");
        System.out.println("  curl -sN " + u + "/v1/chat/completions -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' \\");
        System.out.println("    -d '{\"model\":\"tiny-gpt\",\"stream\":true,\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'");
        System.out.println("  curl -s " + u + "/v1/embeddings -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' \\");
        System.out.println("    -d '{\"model\":\"tiny-embed\",\"input\":\"a sentence to embed\"}'");
        System.out.println("  curl -s " + u + "/api/functions/shapes/predict -H \"Authorization: Bearer $KEY\" "
            + "-H 'Content-Type: image/png' --data-binary @" + DemoFunctions.sample(config.dataDir().toAbsolutePath()
            .resolve("demo"), "shapes-sample.png"));
        System.out.println("  curl -s " + u + "/api/functions/tones/predict -H \"Authorization: Bearer $KEY\" "
            + "-H 'Content-Type: audio/wav' --data-binary @" + DemoFunctions.sample(config.dataDir().toAbsolutePath()
            .resolve("demo"), "tones-sample.wav"));
        System.out.println("  curl -s " + u + "/api/functions/shapes-video/predict -H \"Authorization: Bearer $KEY\" "
            + "-H 'Content-Type: video/mp4' --data-binary @" + DemoFunctions.sample(config.dataDir().toAbsolutePath()
            .resolve("demo"), "shapes-sample.mp4"));
        System.out.println("  curl -s " + u + "/api/functions -H \"Authorization: Bearer $KEY\"");
        System.out.println("  curl -s " + u + "/metrics -H \"Authorization: Bearer $KEY\" | grep inferium_");
        DemoLeaderboard.show(gateway.vertx(), config, u);
      } catch (Exception e) {
        System.err.println("inferium demo: deploying the demo functions failed: " + e.getMessage());
      }
    });
  }
}
