package io.inferium.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.DemoFunctions;
import io.inferium.engine.TestGatewayAccess;
import io.inferium.functions.FunctionRecord;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import picocli.CommandLine;

/** The CLI's thin clients and the demo functions against a real gateway. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliIT {

  private TestGatewayAccess gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGatewayAccess.start(1);
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private record Run(int exit, String out, String err) {}

  private Run cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int exit = new CommandLine(new Main()).execute(args);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void demoFunctionsDeployAndClassifyIris() throws Exception {
    // Ten functions, verified one at a time, each in a fresh sandbox process: minutes on a loaded 2-core machine.
    List<FunctionRecord> deployed = DemoFunctions.deploy(gw.vertx(), gw.gateway(), gw.dataDir().resolve("uploads"))
        .await(5, TimeUnit.MINUTES);
    assertEquals(List.of("add", "iris", "iris-centroid", "shapes", "tones", "shapes-video", "tiny-gpt", "tiny-embed", "tiny-gpt-terse",
            "tiny-embed-cls"),
        deployed.stream().map(FunctionRecord::name).toList());
    deployed.forEach(r -> assertEquals("ready", r.state().wire(), r.ref() + ": " + r.stateReason()));
    assertEquals(List.of("setosa", "versicolor", "virginica"), deployed.get(1).spec().labels());

    // The video function answers the bundled sample MP4 (the curl line the demo prints): 3 s of circles, 1 s of squares.
    java.nio.file.Path mp4 = DemoFunctions.sample(gw.dataDir().resolve("demo"), "shapes-sample.mp4");
    assertTrue(java.nio.file.Files.size(mp4) < 200_000, "a tiny sample");
    java.net.http.HttpResponse<String> video = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
        .newBuilder(java.net.URI.create(gw.url() + "/api/functions/shapes-video/predict"))
        .header("Authorization", "Bearer " + gw.adminKey()).header("Content-Type", "video/mp4")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofFile(mp4)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, video.statusCode(), video.body());
    JsonObject answer = new JsonObject(video.body());
    assertEquals(8, answer.getJsonArray("frames").getJsonArray(0).size(), "4 s sampled at 2 fps: " + video.body());
    assertEquals("circle", answer.getJsonArray("predictions").getJsonArray(0).getJsonObject(0).getString("label"),
        "6 of the 8 sampled frames show circles: " + video.body());
    assertEquals("6667", video.headers().firstValue("X-Inferium-Charge-Micro-Usd").orElse(null), "4 s at $0.10 a minute");

    Run run = cli("invoke", "iris", "--server", gw.url(), "--key", gw.adminKey(), "--json",
        "{\"inputs\":[{\"name\":\"features\",\"shape\":[3,4],\"datatype\":\"FP32\","
            + "\"data\":[[5.1,3.5,1.4,0.2],[6.0,2.7,4.1,1.0],[6.7,3.0,5.2,2.3]]}]}");
    assertEquals(0, run.exit(), run.err());
    JsonObject body = new JsonObject(run.out());
    JsonObject label = body.getJsonArray("outputs").stream().map(JsonObject.class::cast)
        .filter(o -> o.getString("name").equals("label")).findFirst().orElseThrow();
    assertEquals(List.of(0, 1, 2), label.getJsonArray("data").getList(), "setosa, versicolor, virginica");

    List<FunctionRecord> again = DemoFunctions.deploy(gw.vertx(), gw.gateway(), gw.dataDir().resolve("uploads"))
        .await(2, TimeUnit.MINUTES);
    assertEquals(List.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 1), again.stream().map(FunctionRecord::version).toList(), "same bytes are not redeployed");
  }

  @Test
  void deployAndInvokeCommandsTalkToTheServer() {
    Run ok = cli("deploy", gw.model("add.onnx").toString(), "--name", "cli-add", "--description", "from the CLI",
        "--server", gw.url(), "--key", gw.adminKey());
    assertEquals(0, ok.exit(), ok.err());
    assertEquals("ready", new JsonObject(ok.out()).getString("state"));
    // Progress on stderr, one line per verification check, the JSON alone on stdout.
    assertTrue(ok.err().contains("uploading add.onnx"), ok.err());
    assertTrue(ok.err().lines().anyMatch(l -> l.startsWith("  ok   sandbox_load")), ok.err());
    assertTrue(ok.err().contains("cli-add/1 ready"), ok.err());

    Run sum = cli("invoke", "cli-add", "--server", gw.url(), "--key", gw.adminKey(), "--json",
        "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
            + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}");
    assertEquals(0, sum.exit(), sum.err());
    assertTrue(sum.out().contains("[ 2.0, 3.0, 4.0, 5.0 ]"), sum.out());

    Run rejected = cli("deploy", gw.model("garbage.onnx").toString(), "--name", "cli-garbage",
        "--server", gw.url(), "--key", gw.adminKey());
    assertEquals(1, rejected.exit());
    assertEquals("rejected", new JsonObject(rejected.out()).getString("state"));
    assertTrue(rejected.err().lines().anyMatch(l -> l.startsWith("  FAIL")), rejected.err());
    assertTrue(rejected.err().contains("cli-garbage/1 rejected: "), rejected.err());

    Run unknown = cli("invoke", "nope", "--json", "{}", "--server", gw.url(), "--key", gw.adminKey());
    assertEquals(1, unknown.exit());
    assertTrue(unknown.err().contains("HTTP 404") && unknown.err().contains("unknown model 'nope'"), unknown.err());

    Run badKey = cli("invoke", "cli-add", "--json", "{}", "--server", gw.url(), "--key", "inf_wrong");
    assertEquals(1, badKey.exit());
    assertTrue(badKey.err().contains("HTTP 401"), badKey.err());

    Run missing = cli("deploy", "/no/such/model.onnx", "--name", "x", "--server", gw.url(), "--key", gw.adminKey());
    assertEquals(2, missing.exit());
    assertTrue(missing.err().contains("no such file"), missing.err());
  }
}
