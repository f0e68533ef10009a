package io.inferium.node;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.inferium.functions.Bundle;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.generation.EmbeddingModel;
import io.inferium.functions.generation.TextModel;
import io.inferium.functions.runtime.OnnxRunner;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The text functions a worker has loaded: generation engines (each with its own decode thread) and
 * embedding models, by bundle sha256. Loading checks every file of the bundle against its manifest,
 * so the attested manifest hash covers the tokenizer and configuration too.
 */
final class TextHost {

  /** A load's outcome: the attested manifest hash, and facts about the model for the gateway. */
  record Loaded(String sha256, long loadMs, JsonObject info) {}

  private final OnnxRunner runner;
  private final Map<String, GenerationEngine> generators = new ConcurrentHashMap<>();
  private final Map<String, EmbeddingModel> embedders = new ConcurrentHashMap<>();
  private final Map<String, Path> dirs = new ConcurrentHashMap<>();
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  /** Where bundles are laid out; null: the system's temporary directory (a spawned worker's files are the gateway's). */
  private volatile Path layoutRoot;

  TextHost(OnnxRunner runner) {
    this.runner = runner;
  }

  /** Lays bundles out under {@code root} with hard links (a remote node: its cache may evict a file after the load). */
  void layOutUnder(Path root) {
    this.layoutRoot = root;
  }

  static boolean isText(String kind) {
    return FunctionKind.TEXT_GENERATION.wire().equals(kind) || FunctionKind.EMBEDDING.wire().equals(kind);
  }

  /**
   * Loads a bundle described by the LOAD frame's meta: {@code path} (the manifest), {@code files}
   * (name → path of each part), {@code kind}, {@code max_running_sequences}, {@code max_tokens_per_step}.
   */
  Loaded load(JsonObject meta, GenerationEngine.Sink sink) throws IOException, OrtException {
    String expected = meta.getString("sha256");
    synchronized (locks.computeIfAbsent(expected, k -> new Object())) {
      if (generators.containsKey(expected) || embedders.containsKey(expected)) {
        return new Loaded(expected, 0, info(expected));
      }
      long start = System.nanoTime();
      Path manifest = Path.of(meta.getString("path"));
      String actual = ModelBlobs.sha256(manifest);
      if (!actual.equals(expected)) {
        return new Loaded(actual, 0, new JsonObject());
      }
      Bundle bundle = Bundle.read(manifest);
      JsonObject files = meta.getJsonObject("files", new JsonObject());
      Path root = layoutRoot;
      Path dir = root == null ? Files.createTempDirectory("inferium-text-") : Files.createTempDirectory(root, "text-");
      try {
        for (Map.Entry<String, Bundle.Part> part : bundle.files().entrySet()) {
          String given = files.getString(part.getKey());
          if (given == null) {
            throw new IOException("the gateway did not say where bundle file " + part.getKey() + " is");
          }
          Path file = Path.of(given);
          String sha = ModelBlobs.sha256(file);
          if (!sha.equals(part.getValue().sha256())) {
            throw new IOException("bundle file " + part.getKey() + " has sha256 " + sha + ", the manifest says "
                + part.getValue().sha256());
          }
          // The name is the manifest's, which Bundle.read holds to a fixed allow-list: never a path.
          Path target = dir.resolve(part.getKey());
          if (root == null) {
            Files.createSymbolicLink(target, file.toAbsolutePath());
          } else {
            Files.createLink(target, file);
          }
        }
        try (OrtSession.SessionOptions options = runner.sessionOptions()) {
          if (FunctionKind.EMBEDDING.wire().equals(meta.getString("kind"))) {
            embedders.put(expected, EmbeddingModel.load(runner.environment(), dir, options));
          } else {
            TextModel model = TextModel.load(runner.environment(), dir, options);
            generators.put(expected, new GenerationEngine(expected, model, meta.getInteger("max_running_sequences", 16),
                meta.getInteger("max_tokens_per_step", 512), sink));
          }
        }
      } catch (IOException | OrtException | RuntimeException e) {
        deleteTree(dir);
        throw e;
      }
      dirs.put(expected, dir);
      return new Loaded(expected, (System.nanoTime() - start) / 1_000_000, info(expected));
    }
  }

  private JsonObject info(String sha) {
    GenerationEngine g = generators.get(sha);
    if (g != null) {
      return new JsonObject().put("kind", FunctionKind.TEXT_GENERATION.wire()).put("max_context", g.model().maxContext())
          .put("vocab_size", g.model().tokenizer().vocabSize()).put("generation_config", g.model().generationConfig());
    }
    EmbeddingModel e = embedders.get(sha);
    return e == null ? new JsonObject() : new JsonObject().put("kind", FunctionKind.EMBEDDING.wire())
        .put("vocab_size", e.tokenizer().vocabSize());
  }

  GenerationEngine generator(String sha) {
    return generators.get(sha);
  }

  EmbeddingModel embedder(String sha) {
    return embedders.get(sha);
  }

  /** Cancels a generation wherever it runs; false if no engine knows it. */
  boolean cancel(long requestId) {
    boolean any = false;
    for (GenerationEngine g : generators.values()) {
      any |= g.cancel(requestId);
    }
    return any;
  }

  /** Drops a text function: its running generations end as cancelled, then its session closes. */
  boolean unload(String sha) {
    GenerationEngine g = generators.remove(sha);
    EmbeddingModel e = embedders.remove(sha);
    if (g != null) {
      g.close();
    }
    if (e != null) {
      try {
        e.close();
      } catch (Exception closeFailed) {
        // the session is gone either way; nothing else holds it
      }
    }
    Path dir = dirs.remove(sha);
    if (dir != null) {
      deleteTree(dir);
    }
    return g != null || e != null;
  }

  List<String> loaded() {
    return Stream.concat(generators.keySet().stream(), embedders.keySet().stream()).toList();
  }

  /** Decode steps and sampled tokens since this worker started, over all its text functions (loaded now). */
  long decodeSteps() {
    return generators.values().stream().mapToLong(GenerationEngine::steps).sum();
  }

  long decodeTokens() {
    return generators.values().stream().mapToLong(GenerationEngine::tokens).sum();
  }

  int running() {
    return generators.values().stream().mapToInt(GenerationEngine::active).sum();
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory left behind is harmless
    }
  }
}
