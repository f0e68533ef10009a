package io.inferium.node;

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
 * attests is what it actually read, not what it was told. Sessions are reference-counted: an unload
 * while runs are in progress closes the session only when the last of them ends (closing a session
 * under a running inference would crash the runtime).
 */
final class ModelHost {

  /** A load's outcome: the attested hash and the session. */
  record Loaded(String sha256, LoadedModel model, long loadMs) {}

  /** A session and the runs using it. */
  private static final class Entry {
    final Loaded loaded;
    int users;
    boolean unloaded;

    Entry(Loaded loaded) {
      this.loaded = loaded;
    }
  }

  /** A session borrowed for one run; {@link #close()} gives it back. */
  final class Lease implements AutoCloseable {
    private final Entry entry;

    private Lease(Entry entry) {
      this.entry = entry;
    }

    LoadedModel model() {
      return entry.loaded.model();
    }

    @Override
    public void close() {
      synchronized (ModelHost.this) {
        entry.users--;
        if (entry.unloaded && entry.users == 0) {
          entry.loaded.model().close();
        }
      }
    }
  }

  private final OnnxRunner runner;
  private final Map<String, Entry> models = new ConcurrentHashMap<>();
  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  ModelHost(OnnxRunner runner) {
    this.runner = runner;
  }

  Loaded load(String expectedSha256, Path path) throws IOException, ModelRunException {
    synchronized (locks.computeIfAbsent(expectedSha256, k -> new Object())) {
      Entry existing = models.get(expectedSha256);
      if (existing != null) {
        return new Loaded(existing.loaded.sha256(), existing.loaded.model(), 0);
      }
      long start = System.nanoTime();
      String actual = ModelBlobs.sha256(path);
      LoadedModel model = runner.load(path);
      Loaded loaded = new Loaded(actual, model, (System.nanoTime() - start) / 1_000_000);
      if (actual.equals(expectedSha256)) {
        models.put(expectedSha256, new Entry(loaded));
      } else {
        model.close();
      }
      return loaded;
    }
  }

  /** Borrows the session for one run, or null when the model is not loaded. */
  synchronized Lease acquire(String sha256) {
    Entry e = models.get(sha256);
    if (e == null) {
      return null;
    }
    e.users++;
    return new Lease(e);
  }

  /** Forgets the model; its session closes now, or when the last run using it ends. */
  synchronized boolean unload(String sha256) {
    Entry e = models.remove(sha256);
    if (e == null) {
      return false;
    }
    e.unloaded = true;
    if (e.users == 0) {
      e.loaded.model().close();
    }
    return true;
  }

  List<String> loaded() {
    return List.copyOf(models.keySet());
  }
}
