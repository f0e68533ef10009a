package io.inferium.engine.cli;

import io.inferium.chain.Deployment;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine.Option;

/**
 * What the chain clients ({@code claim}, {@code verify-receipt}) share: the chain's RPC URL, a contract taken from
 * the user (an address, or a deployment file; never from the gateway), and the gateway they read JSON from.
 */
final class ChainClientOptions {

  @Option(names = "--rpc", required = true, description = "JSON-RPC URL of the chain.")
  String rpc;

  @Option(names = "--deployment", description = "Deployment file (from `inferium chain deploy`) to take the contract address from.")
  Path deployment;

  @Option(names = "--gateway", defaultValue = "${env:INFERIUM_URL}", description = "Gateway URL (env INFERIUM_URL).")
  String gateway;

  @Option(names = "--api-key", defaultValue = "${env:INFERIUM_KEY}", description = "API key for the gateway (env INFERIUM_KEY).")
  String apiKey;

  /**
   * The contract's address: {@code address} given as option {@code option}, or {@code which} of the deployment
   * file; exactly one of the two.
   */
  String contract(String option, String address, Function<Deployment, String> which) throws IOException {
    if ((address == null) == (deployment == null)) {
      throw new IllegalArgumentException("give the contract as exactly one of " + option + " ADDRESS or --deployment FILE");
    }
    return address != null ? Deployment.address(option, address) : which.apply(Deployment.read(deployment));
  }

  boolean hasGateway() {
    return gateway != null && !gateway.isBlank() && apiKey != null && !apiKey.isBlank();
  }

  /** GETs {@code path} from the gateway with the API key; anything but 200 is an {@link IllegalArgumentException}. */
  JsonObject getJson(String path) throws Exception {
    if (!hasGateway()) {
      throw new IllegalArgumentException("give --gateway URL and --api-key KEY (or INFERIUM_URL and INFERIUM_KEY)");
    }
    String base = gateway.endsWith("/") ? gateway.substring(0, gateway.length() - 1) : gateway;
    Vertx vertx = Vertx.vertx();
    try {
      HttpResponse<Buffer> resp = WebClient.create(vertx).getAbs(base + path).bearerTokenAuthentication(apiKey)
          .timeout(30_000).send().await(40, TimeUnit.SECONDS);
      if (resp.statusCode() != 200) {
        throw new IllegalArgumentException("GET " + path + ": HTTP " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      return resp.bodyAsJsonObject();
    } finally {
      vertx.close();
    }
  }
}
