package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A long job, run on demand: deploys ONNX's operator test models through a real gateway twice, without
 * examples and with their own {@code test_data_set_0} inputs as examples, and counts what each deploy
 * became (ready, ready with a warning, rejected by which check, refused with 400). The cases come from
 * {@code engine/src/test/python/onnx_node_examples.py}; see docs/BENCHMARKS.md for the command.
 * {@code -Dinferium.onnx.every=N} deploys every Nth model only.
 *
 * <p>It asserts what must hold whatever the figures: every deploy is answered (202 or a 4xx, never a
 * 5xx) and every accepted one ends ready or rejected.
 */
@EnabledIfSystemProperty(named = "inferium.onnx.cases", matches = ".+")
class OnnxNodeDeployIT {

  @Test
  void operatorTestModelsDeployWithAndWithoutTheirOwnInputs() throws Exception {
    JsonArray cases = new JsonArray(Files.readString(Path.of(System.getProperty("inferium.onnx.cases"))));
    int every = Integer.getInteger("inferium.onnx.every", 1);
    Map<String, Integer> without = new TreeMap<>();
    Map<String, Integer> with = new TreeMap<>();
    JsonArray rows = new JsonArray();
    List<String> changed = new ArrayList<>();
    try (TestGateway gw = TestGateway.start(1)) {
      for (int i = 0; i < cases.size(); i += every) {
        JsonObject c = cases.getJsonObject(i);
        String bare = outcome(gw, new JsonObject().put("name", "node-" + i), Path.of(c.getString("model")));
        without.merge(bare, 1, Integer::sum);
        JsonObject row = new JsonObject().put("name", c.getString("name")).put("without", bare);
        if (c.getJsonArray("examples") != null) {
          String own = outcome(gw, new JsonObject().put("name", "node-" + i + "-ex").put("examples", c.getJsonArray("examples")),
              Path.of(c.getString("model")));
          with.merge(own, 1, Integer::sum);
          row.put("with", own);
          if (!own.equals(bare)) {
            changed.add(c.getString("name") + ": " + bare + " -> " + own);
          }
        } else {
          with.merge("no examples (" + c.getString("skip") + ")", 1, Integer::sum);
        }
        rows.add(row);
      }
    }
    Path out = Path.of("target", "onnx-node-deploys.json");
    Files.writeString(out, new JsonObject().put("without", new JsonObject(new TreeMap<>(without)))
        .put("with", new JsonObject(new TreeMap<>(with))).put("models", rows).encodePrettily());
    System.out.println("ONNX operator test models, every " + every + ": " + rows.size() + " deployed; details in " + out);
    System.out.println("without examples: " + without);
    System.out.println("with their own inputs as examples: " + with);
    changed.forEach(line -> System.out.println("  changed: " + line));
    without.keySet().forEach(k -> assertTrue(!k.startsWith("http 5"), "a deploy was answered " + k));
    with.keySet().forEach(k -> assertTrue(!k.startsWith("http 5"), "a deploy was answered " + k));
  }

  /** {@code ready}, {@code ready+warning:CHECK}, {@code rejected:CHECK} or {@code http N: message}. */
  private static String outcome(TestGateway gw, JsonObject spec, Path model) throws Exception {
    // The spec as a file part, as `curl -F spec=@spec.json` sends it: a form field holds 8 KiB at most.
    Path specFile = Files.createTempFile("spec-", ".json");
    Files.writeString(specFile, spec.encode());
    MultipartForm form = MultipartForm.create()
        .binaryFileUpload("spec", "spec.json", specFile.toString(), "application/json")
        .binaryFileUpload("model", "model.onnx", model.toString(), "application/octet-stream");
    HttpResponse<Buffer> resp = gw.client.post(gw.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY).sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    Files.delete(specFile);
    if (resp.statusCode() != 202) {
      String error = String.valueOf(resp.bodyAsJsonObject().getString("error"));
      return "http " + resp.statusCode() + ": " + error.replaceAll("'[^']*'", "'…'").replaceAll("\\d+", "N")
          .replaceAll(":.*", "");
    }
    JsonObject rec = resp.bodyAsJsonObject();
    String path = "/api/functions/" + rec.getString("name") + "/versions/" + rec.getInteger("version");
    JsonObject now = TestGateway.poll(path, () -> gw.get(path).bodyAsJsonObject(), r -> !"verifying".equals(r.getString("state")));
    gw.delete(path);
    List<String> warned = now.getJsonObject("verification").getJsonArray("checks").stream().map(JsonObject.class::cast)
        .filter(ch -> !ch.getBoolean("passed") && "warning".equals(ch.getString("severity")))
        .map(ch -> ch.getString("name")).filter(n -> n.startsWith("smoke")).toList();
    return switch (now.getString("state")) {
      case "ready" -> warned.isEmpty() ? "ready" : "ready+warning:" + String.join(",", warned);
      case "rejected" -> "rejected:" + now.getString("state_reason").replaceAll(":.*", "");
      default -> {
        assertEquals("ready or rejected", now.getString("state"), now.encode());
        yield "?";
      }
    };
  }
}
