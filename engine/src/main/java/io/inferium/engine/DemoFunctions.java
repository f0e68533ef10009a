package io.inferium.engine;

import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.ModelBlobs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The functions {@code inferium demo} deploys from the jar: {@code add} (a tensor function) and
 * {@code iris} (a classifier trained on the Iris data set, with labels). They go through the same
 * deploy pipeline as an upload; a function already deployed from the same bytes is left alone.
 */
public final class DemoFunctions {

  private DemoFunctions() {}

  public static Future<List<FunctionRecord>> deploy(Vertx vertx, Gateway gateway, Path uploadsDir) {
    return vertx.executeBlocking(() -> {
      Path irisJson = resource("demo/iris.json", uploadsDir);
      JsonObject iris = new JsonObject(Files.readString(irisJson, StandardCharsets.UTF_8));
      Files.delete(irisJson);
      List<Demo> demos = new ArrayList<>();
      demos.add(new Demo(new JsonObject().put("name", "add").put("kind", "tensor").put("category", "demo")
          .put("description", "Element-wise sum and product of two FP32 [batch,4] tensors")
          .put("use_cases", new JsonArray().add("testing").add("arithmetic")), resource("demo/add.onnx", uploadsDir)));
      demos.add(new Demo(new JsonObject().put("name", "iris").put("kind", "classifier").put("category", "tabular")
          .put("description", "Iris species from sepal and petal measurements (logistic regression, 98% train accuracy)")
          .put("use_cases", new JsonArray().add("classification").add("botany"))
          .put("labels", iris.getJsonArray("labels")), resource("demo/iris.onnx", uploadsDir)));
      demos.add(new Demo(new JsonObject().put("name", "iris-centroid").put("kind", "classifier").put("category", "tabular")
          .put("description", "Iris species by the nearest class centroid (hand-built ONNX, 93% on the bundled data)")
          .put("use_cases", new JsonArray().add("classification").add("botany"))
          .put("labels", iris.getJsonArray("labels")), resource("demo/iris-centroid.onnx", uploadsDir)));
      return demos;
    }, false).compose(demos -> {
      List<Future<FunctionRecord>> all = new ArrayList<>();
      for (Demo d : demos) {
        all.add(deployOne(vertx, gateway, d));
      }
      return Future.all(all).map(cf -> cf.<FunctionRecord>list());
    });
  }

  private record Demo(JsonObject spec, Path model) {}

  private static Future<FunctionRecord> deployOne(Vertx vertx, Gateway gateway, Demo demo) {
    FunctionSpec spec = FunctionSpec.fromJson(demo.spec());
    return vertx.executeBlocking(() -> ModelBlobs.sha256(demo.model()), false)
        .compose(sha -> gateway.store().latest(spec.name()).compose(existing -> {
          if (existing.isPresent() && existing.get().modelSha256().equals(sha)
              && existing.get().state() != FunctionState.REJECTED) {
            vertx.fileSystem().delete(demo.model().toString());
            return gateway.pipeline().outcome(spec.name(), existing.get().version());
          }
          return gateway.pipeline().deploy(spec, demo.model(), null)
              .compose(rec -> gateway.pipeline().outcome(rec.name(), rec.version()));
        }));
  }

  private static Path resource(String name, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path target = Files.createTempFile(dir, "demo-", "-" + Path.of(name).getFileName());
    try (InputStream in = DemoFunctions.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("demo resource missing from the jar: " + name);
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
    return target;
  }
}
