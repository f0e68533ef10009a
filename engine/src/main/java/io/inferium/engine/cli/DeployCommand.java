package io.inferium.engine.cli;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code inferium deploy MODEL.onnx --name NAME}: uploads a model and waits for its verification. */
@Command(name = "deploy", description = "Deploy an ONNX model as a function.")
class DeployCommand implements Callable<Integer> {

  // Not mixinStandardHelpOptions: its -V/--version would collide with the function's --version below, and
  // picocli then dropped --help too (it answered "Missing required parameter" with exit 2).
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Parameters(index = "0", description = "The .onnx file.")
  Path model;

  @Option(names = "--name", required = true, description = "Function name ([a-z0-9][a-z0-9._-]{0,63}).")
  String name;

  @Option(names = "--kind", description = "tensor | classifier | regressor | embedding | text-generation.")
  String kind;

  @Option(names = "--version", description = "Explicit version (default: next).")
  Integer version;

  @Option(names = "--description", description = "What it does.")
  String description;

  @Option(names = "--category", description = "Category for search and leaderboards.")
  String category;

  @Option(names = "--labels", split = ",", description = "Class labels, comma-separated (classifier).")
  List<String> labels;

  @Option(names = "--spec", description = "A JSON spec file; flags override its fields.")
  Path specFile;

  @Option(names = "--no-wait", description = "Return once uploaded, without waiting for verification.")
  boolean noWait;

  @Mixin
  ClientOptions client;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(model)) {
      System.err.println("inferium deploy: no such file: " + model);
      return 2;
    }
    JsonObject spec = specFile == null ? new JsonObject() : new JsonObject(Files.readString(specFile));
    spec.put("name", name);
    putIf(spec, "kind", kind);
    putIf(spec, "version", version);
    putIf(spec, "description", description);
    putIf(spec, "category", category);
    if (labels != null) {
      spec.put("labels", new JsonArray(labels));
    }
    Vertx vertx = Vertx.vertx();
    try {
      WebClient web = WebClient.create(vertx);
      String auth = "Bearer " + client.key();
      MultipartForm form = MultipartForm.create()
          .attribute("spec", spec.encode())
          .binaryFileUpload("model", model.getFileName().toString(), model.toString(), "application/octet-stream");
      // Progress goes to stderr; stdout carries only the final JSON, for scripts.
      long started = System.nanoTime();
      System.err.printf("inferium deploy: uploading %s (%s)%n", model.getFileName(), size(Files.size(model)));
      HttpResponse<Buffer> resp = web.postAbs(client.server() + "/api/functions").putHeader("Authorization", auth)
          .sendMultipartForm(form).await(10, TimeUnit.MINUTES);
      if (resp.statusCode() != 202) {
        System.err.println("inferium deploy: HTTP " + resp.statusCode() + ": " + resp.bodyAsString());
        return 1;
      }
      JsonObject rec = resp.bodyAsJsonObject();
      System.err.printf("inferium deploy: uploaded in %.1f s; %s version %d is %s%n", seconds(started),
          rec.getString("name"), rec.getInteger("version"), rec.getString("state"));
      if (noWait) {
        System.out.println(rec.encodePrettily());
        return 0;
      }
      String url = client.server() + "/api/functions/" + rec.getString("name") + "/versions/" + rec.getInteger("version");
      long verifying = System.nanoTime();
      long deadline = verifying + TimeUnit.MINUTES.toNanos(5);
      long nextNote = verifying + TimeUnit.SECONDS.toNanos(5);
      while ("verifying".equals(rec.getString("state")) && System.nanoTime() < deadline) {
        Thread.sleep(250);
        rec = web.getAbs(url).putHeader("Authorization", auth).send().await(30, TimeUnit.SECONDS).bodyAsJsonObject();
        if (System.nanoTime() > nextNote && "verifying".equals(rec.getString("state"))) {
          System.err.printf("inferium deploy: still verifying (%.0f s)%n", seconds(verifying));
          nextNote += TimeUnit.SECONDS.toNanos(5);
        }
      }
      report(rec);
      System.out.println(rec.encodePrettily());
      return "ready".equals(rec.getString("state")) ? 0 : 1;
    } finally {
      vertx.close();
    }
  }

  /** The verification checks, one line each, and the outcome (stderr). */
  private static void report(JsonObject rec) {
    JsonObject verification = rec.getJsonObject("verification", new JsonObject());
    for (Object o : verification.getJsonArray("checks", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      String mark = c.getBoolean("passed", false) ? "ok  " : "warning".equals(c.getString("severity")) ? "warn" : "FAIL";
      System.err.printf("  %s %-22s %6d ms  %s%n", mark, c.getString("name"), c.getLong("duration_ms", 0L),
          c.getString("message", ""));
    }
    String reason = rec.getString("state_reason");
    System.err.printf("inferium deploy: %s/%d %s%s%n", rec.getString("name"), rec.getInteger("version"),
        rec.getString("state"), reason == null ? "" : ": " + reason);
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static String size(long bytes) {
    return bytes < 10_000 ? bytes + " bytes" : bytes < 10_000_000 ? (bytes >> 10) + " KiB" : (bytes >> 20) + " MiB";
  }

  private static void putIf(JsonObject o, String k, Object v) {
    if (v != null) {
      o.put(k, v);
    }
  }
}
