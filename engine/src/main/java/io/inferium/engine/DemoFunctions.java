package io.inferium.engine;

import io.inferium.functions.Bundle;
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
import java.util.Map;
import java.util.TreeMap;

/**
 * The functions {@code inferium demo} deploys from the jar: {@code add} (a tensor function),
 * {@code iris} (a classifier trained on the Iris data set, with labels), {@code tiny-gpt} (a small
 * GPT-2-style text generator with its tokenizer), {@code tiny-embed} (a sentence embedder) and their variants
 * {@code tiny-gpt-terse} (other decoding defaults) and {@code tiny-embed-cls} (other pooling), {@code shapes} (an
 * image classifier, called with a PNG), {@code tones} (an audio classifier, called with a WAV), {@code shapes-video}
 * (the same shapes model as a video function, called with an MP4), so each leaderboard category but the media ones
 * has two functions to compare. They go through the same
 * deploy pipeline as an upload; a function already deployed from the same bytes is left alone.
 */
public final class DemoFunctions {

  private DemoFunctions() {}

  /**
   * The image classifier {@code shapes}: circles, squares and triangles in 20 × 20 RGB images, an MLP fitted by
   * {@code engine/src/test/python/make_shapes_model.py} on images it draws (94% on 1,500 held-out ones).
   */
  static final JsonObject SHAPES = new JsonObject().put("name", "shapes").put("kind", "image-classifier")
      .put("category", "vision")
      .put("description", "Circle, square or triangle in a small picture (an MLP on 20 × 20 RGB, 94% held-out accuracy)")
      .put("use_cases", new JsonArray().add("classification").add("images"))
      .put("preprocess", new JsonObject().put("size", 20).put("channels", "rgb").put("layout", "NCHW")
          .put("mean", new JsonArray().add(0.5).add(0.5).add(0.5)).put("std", new JsonArray().add(0.5).add(0.5).add(0.5)))
      .put("postprocess", new JsonObject().put("labels", new JsonArray().add("circle").add("square").add("triangle"))
          .put("top_k", 3).put("softmax", true));

  /**
   * The video function {@code shapes-video}: the {@code shapes} model run on an MP4's frames, 2 a second and at most 8
   * (4 s), answering per frame and pooled over the video.
   */
  static final JsonObject SHAPES_VIDEO = new JsonObject().put("name", "shapes-video").put("kind", "video")
      .put("category", "video")
      .put("description", "Circle, square or triangle in each sampled frame of a short MP4 (the shapes model at 2 frames a second)")
      .put("use_cases", new JsonArray().add("classification").add("video"))
      .put("preprocess", SHAPES.getJsonObject("preprocess").copy().put("fps", 2).put("max_frames", 8))
      .put("postprocess", SHAPES.getJsonObject("postprocess").copy());

  /**
   * The audio classifier {@code tones}: a low, mid or high tone in a one-second clip at 8 kHz, softmax regression on log
   * band energies fitted by {@code engine/src/test/python/make_tones_model.py} (98% on 900 held-out clips).
   */
  static final JsonObject TONES = new JsonObject().put("name", "tones").put("kind", "audio").put("category", "audio")
      .put("description", "Low, mid or high tone in a one-second clip (log band energies, 98% held-out accuracy)")
      .put("use_cases", new JsonArray().add("classification").add("audio"))
      .put("preprocess", new JsonObject().put("sample_rate", 8000).put("seconds", 1))
      .put("postprocess", new JsonObject().put("labels", new JsonArray().add("low").add("mid").add("high"))
          .put("top_k", 3).put("softmax", true));

  /**
   * Writes a bundled sample file ({@code shapes-sample.png}, {@code tones-sample.wav}, {@code shapes-sample.mp4}: 3 s
   * of circles, then 1 s of squares, made by the engine's test utility {@code ShapeVideos}) to {@code dir}
   * (blocking).
   */
  public static Path sample(Path dir, String file) throws IOException {
    Files.createDirectories(dir);
    Path target = dir.resolve(file);
    try (InputStream in = DemoFunctions.class.getClassLoader().getResourceAsStream("demo/" + file)) {
      if (in == null) {
        throw new IOException("demo resource missing from the jar: demo/" + file);
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
    return target;
  }

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
      demos.add(new Demo(SHAPES.copy(), resource("demo/shapes.onnx", uploadsDir)));
      demos.add(new Demo(TONES.copy(), resource("demo/tones.onnx", uploadsDir)));
      demos.add(new Demo(SHAPES_VIDEO.copy(), resource("demo/shapes.onnx", uploadsDir)));
      demos.add(textDemo("models/tiny-gpt/", "models/tiny-gpt/", uploadsDir));
      demos.add(textDemo("models/tiny-embed/", "models/tiny-embed/", uploadsDir));
      demos.add(textDemo("demo/tiny-gpt-terse/", "models/tiny-gpt/", uploadsDir));
      demos.add(textDemo("demo/tiny-embed-cls/", "models/tiny-embed/", uploadsDir));
      return demos;
    }, false).compose(demos -> {
      List<Future<FunctionRecord>> all = new ArrayList<>();
      for (Demo d : demos) {
        all.add(deployOne(vertx, gateway, d));
      }
      return Future.all(all).map(cf -> cf.<FunctionRecord>list());
    });
  }

  /** A demo function: its spec and its model file, or for a text function its bundle files by name. */
  private record Demo(JsonObject spec, Path model, Map<String, Path> bundle) {
    Demo(JsonObject spec, Path model) {
      this(spec, model, null);
    }
  }

  /**
   * A text function: spec.json from {@code dir}, each bundle file from {@code dir} when it has one,
   * else from {@code base} (a variant ships only what differs from the model it reuses).
   */
  private static Demo textDemo(String dir, String base, Path uploadsDir) throws IOException {
    Path specFile = resource(dir + "spec.json", uploadsDir);
    JsonObject spec = new JsonObject(Files.readString(specFile, StandardCharsets.UTF_8));
    Files.delete(specFile);
    Map<String, Path> files = new TreeMap<>();
    ClassLoader loader = DemoFunctions.class.getClassLoader();
    for (String name : Bundle.NAMES) {
      if (loader.getResource(dir + name) != null) {
        files.put(name, resource(dir + name, uploadsDir));
      } else if (loader.getResource(base + name) != null) {
        files.put(name, resource(base + name, uploadsDir));
      }
    }
    return new Demo(spec, null, files);
  }

  /** The hash the demo's model (or bundle manifest) will have once stored. Blocking. */
  private static String sha256(Demo demo) throws IOException {
    if (demo.bundle() == null) {
      return ModelBlobs.sha256(demo.model());
    }
    Map<String, Bundle.Part> parts = new TreeMap<>();
    for (Map.Entry<String, Path> f : demo.bundle().entrySet()) {
      parts.put(f.getKey(), new Bundle.Part(ModelBlobs.sha256(f.getValue()), Files.size(f.getValue())));
    }
    return new Bundle(parts).sha256();
  }

  private static Future<FunctionRecord> deployOne(Vertx vertx, Gateway gateway, Demo demo) {
    FunctionSpec spec = FunctionSpec.fromJson(demo.spec());
    List<Path> uploads = demo.bundle() == null ? List.of(demo.model()) : List.copyOf(demo.bundle().values());
    return vertx.executeBlocking(() -> sha256(demo), false)
        .compose(sha -> gateway.store().latest(spec.name()).compose(existing -> {
          if (existing.isPresent() && existing.get().modelSha256().equals(sha)
              && existing.get().state() != FunctionState.REJECTED) {
            uploads.forEach(p -> vertx.fileSystem().delete(p.toString()));
            return gateway.pipeline().outcome(spec.name(), existing.get().version());
          }
          Future<FunctionRecord> deployed = demo.bundle() == null ? gateway.pipeline().deploy(spec, demo.model(), null)
              : gateway.pipeline().deployBundle(spec, demo.bundle(), null);
          return deployed.compose(rec -> gateway.pipeline().outcome(rec.name(), rec.version()));
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
