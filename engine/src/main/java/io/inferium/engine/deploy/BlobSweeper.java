package io.inferium.engine.deploy;

import io.inferium.functions.Bundle;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.ModelBlobs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Pool;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes model files that no function version references any more: a text function's model and tokenizer when its
 * last version is deleted (the delete route removes only the bundle's manifest, since another bundle may share its
 * files), and on a gateway sharing its database with others ({@code --shared-db}), the copies of models deleted
 * through another gateway. A file is referenced when a version of any state names it, or names a bundle whose
 * manifest lists it.
 *
 * <p>Only files older than {@link Settings#graceMs()} go: an upload is stored before its version is recorded, and a
 * bundle's files arrive before its manifest, so a fresh unreferenced file is one on its way in. Storing bytes already
 * held makes the file fresh again, and the age is read again just before each removal. A removed model is first
 * unloaded from the workers that hold it.
 */
public final class BlobSweeper {

  private static final Logger log = LoggerFactory.getLogger(BlobSweeper.class);

  /** How often to sweep, and how old an unreferenced file must be to go. */
  public record Settings(long intervalMs, long graceMs) {
    public static final Settings DEFAULTS = new Settings(60_000, 600_000);

    public Settings {
      if (intervalMs <= 0 || graceMs < 0) {
        throw new IllegalArgumentException("blob sweep: interval must be positive and grace not negative");
      }
    }
  }

  private final Vertx vertx;
  private final Pool pool;
  private final ModelBlobs blobs;
  private final WorkerExecutor files;
  private final Function<String, Future<Void>> unload;
  private final java.util.function.BooleanSupplier busy;
  private final Settings settings;
  private final Counter removed;
  private long timer = -1;
  private boolean sweeping;

  /**
   * {@code unload} takes a model off every worker that holds it (before its file goes); while {@code busy} says so
   * (models being copied in from a shared database, a bundle's files ahead of its manifest), no sweep starts.
   */
  public BlobSweeper(Vertx vertx, Pool pool, ModelBlobs blobs, WorkerExecutor files, Function<String, Future<Void>> unload,
      java.util.function.BooleanSupplier busy, Settings settings, MeterRegistry registry) {
    this.vertx = vertx;
    this.pool = pool;
    this.blobs = blobs;
    this.files = files;
    this.unload = unload;
    this.busy = busy;
    this.settings = settings;
    this.removed = Counter.builder("inferium.models.swept")
        .description("Model files removed because no function version references them").register(registry);
  }

  /** Sweeps every interval (the first one an interval after start). */
  public void start() {
    timer = vertx.setPeriodic(settings.intervalMs(), id -> {
      if (!sweeping && !busy.getAsBoolean()) {
        sweep().onFailure(err -> log.warn("Model sweep failed (again in {} ms): {}", settings.intervalMs(), err.toString()));
      }
    });
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** One sweep; the hashes of the files it removed. */
  public Future<List<String>> sweep() {
    sweeping = true;
    return pool.query("SELECT model_sha256, bool_or(kind IN ('" + FunctionKind.TEXT_GENERATION.wire() + "', '"
            + FunctionKind.EMBEDDING.wire() + "')) AS bundle FROM functions GROUP BY model_sha256").execute()
        .compose(rows -> {
          Set<String> roots = new HashSet<>();
          Set<String> bundles = new HashSet<>();
          rows.forEach(r -> {
            roots.add(r.getString(0));
            if (Boolean.TRUE.equals(r.getBoolean(1))) {
              bundles.add(r.getString(0));
            }
          });
          return files.executeBlocking(() -> unreferenced(roots, bundles), false);
        })
        .compose(this::removeEach)
        .onComplete(ar -> sweeping = false);
  }

  /** The stored files older than the grace that neither a version nor a referenced bundle's manifest names. Blocking. */
  private List<String> unreferenced(Set<String> roots, Set<String> bundles) throws java.io.IOException {
    Set<String> referenced = new HashSet<>(roots);
    for (String b : bundles) {
      if (Files.exists(blobs.path(b))) {
        try {
          Bundle.read(blobs.path(b)).files().values().forEach(part -> referenced.add(part.sha256()));
        } catch (java.io.IOException | RuntimeException e) {
          // A manifest that does not read cannot say which files are its own: keep every file this sweep.
          log.warn("Model sweep skipped: bundle manifest {} does not read: {}", b, e.toString());
          return List.of();
        }
      }
    }
    Instant cutoff = Instant.now().minus(Duration.ofMillis(settings.graceMs()));
    List<String> out = new ArrayList<>();
    for (ModelBlobs.StoredFile f : blobs.storedFiles()) {
      if (!referenced.contains(f.sha256()) && f.modified().isBefore(cutoff)) {
        out.add(f.sha256());
      }
    }
    return out;
  }

  private Future<List<String>> removeEach(List<String> shas) {
    List<String> gone = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String sha : shas) {
      chain = chain.compose(v -> unload.apply(sha).otherwiseEmpty())
          .compose(v -> files.executeBlocking(() -> {
            // Still old? A deploy of the same bytes since the listing made it fresh, and it stays.
            java.nio.file.Path p = blobs.path(sha);
            if (Files.exists(p) && Files.getLastModifiedTime(p).toInstant()
                .isBefore(Instant.now().minus(Duration.ofMillis(settings.graceMs())))) {
              Files.delete(p);
              return true;
            }
            return false;
          }, false))
          .map(deleted -> {
            if (deleted) {
              gone.add(sha);
              removed.increment();
              log.info("Model file {} removed: no function version references it", sha);
            }
            return null;
          });
    }
    return chain.map(v -> gone);
  }
}
