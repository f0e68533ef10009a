package io.inferium.engine.cli;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code inferium invoke NAME --json '…'}: one V2 inference request, response on stdout. */
@Command(name = "invoke", description = "Call a function with a KServe v2 JSON request.")
class InvokeCommand implements Callable<Integer> {

  // Not mixinStandardHelpOptions: its -V/--version would collide with the function's --version below, and
  // picocli then dropped --help too (it answered "Missing required parameter" with exit 2).
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Parameters(index = "0", description = "Function name.")
  String name;

  @Option(names = "--json", required = true, description = "The V2 request body, or @file to read it from a file.")
  String json;

  @Option(names = "--version", description = "A specific version (default: latest ready).")
  Integer version;

  @Mixin
  ClientOptions client;

  @Override
  public Integer call() throws Exception {
    String body = json.startsWith("@") ? Files.readString(Path.of(json.substring(1))) : json;
    String path = "/v2/models/" + name + (version == null ? "" : "/versions/" + version) + "/infer";
    Vertx vertx = Vertx.vertx();
    try {
      HttpResponse<Buffer> resp = WebClient.create(vertx).postAbs(client.server() + path)
          .putHeader("Authorization", "Bearer " + client.key())
          .putHeader("Content-Type", "application/json")
          .sendBuffer(Buffer.buffer(body)).await(10, TimeUnit.MINUTES);
      if (resp.statusCode() / 100 != 2) {
        System.err.println("inferium invoke: HTTP " + resp.statusCode() + ": " + resp.bodyAsString());
        return 1;
      }
      System.out.println(resp.bodyAsJsonObject().encodePrettily());
      return 0;
    } finally {
      vertx.close();
    }
  }
}
