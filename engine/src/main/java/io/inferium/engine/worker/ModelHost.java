package io.inferium.engine.worker;

import io.inferium.functions.ModelBlobs;
import io.inferium.functions.runtime.LoadedModel;
import io.inferium.functions.runtime.ModelRunException;
import io.inferium.functions.runtime.OnnxRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models a worker has loaded, by sha256. Loading hashes the file itself, so what the worker
 * attests is what it actually read, not what it was told.
 */
final class ModelHost {

  /** A load's outcome: the attested hash and the session. */
  record Loaded(String sha256, LoadedModel model, long loadMs) {}

  private final OnnxRunner runner;
  private final Map<String, Loaded> models = new ConcurrentHashMap<>();

  ModelHost(OnnxRunner runner) {
    this.runner = runner;
  }

  Loaded load(String expectedSha256, Path path) throws IOException, ModelRunException {
    synchronized (lockFor(expectedSha256)) {
      Loaded existing = models.get(expectedSha256);
      if (existing != null) {
        return new Loaded(existing.sha256(), existing.model(), 0);
      }
      long start = System.nanoTime();
      String actual = ModelBlobs.sha256(path);
      LoadedModel model = runner.load(path);
      Loaded loaded = new Loaded(actual, model, (System.nanoTime() - start) / 1_000_000);
      if (actual.equals(expectedSha256)) {
        models.put(expectedSha256, loaded);
      } else {
        model.close();
      }
      return loaded;
    }
  }

  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  private Object lockFor(String sha) {
    return locks.computeIfAbsent(sha, k -> new Object());
  }

  LoadedModel get(String sha256) {
    Loaded l = models.get(sha256);
    return l == null ? null : l.model();
  }

  boolean unload(String sha256) {
    Loaded l = models.remove(sha256);
    if (l != null) {
      l.model().close();
      return true;
    }
    return false;
  }

  List<String> loaded() {
    return List.copyOf(models.keySet());
  }
}
