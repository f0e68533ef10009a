package io.inferium.engine.cluster;

import io.inferium.functions.Bundle;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.ModelBlobs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model blobs shared by the gateways of one database ({@code --shared-db}). Every few seconds each gateway copies the
 * models it holds that the database lacks into it (in 1 MiB chunks, one transaction per blob), and copies to its own
 * disk the models of ready functions that it lacks (checked against their sha256 before they are used), so a function
 * deployed on one gateway is served by all. A text bundle's files go before its manifest, as at ingest, so a manifest
 * on disk means its files are there. Blobs no function references any more are removed from the database.
 *
 * <p>Until a gateway has copied a model, a call for it there fails as a model this gateway cannot read yet (a 503 the
 * client may retry); the other gateways are unaffected. File work runs on the {@code files} executor, SQL on the pool;
 * nothing blocks an event loop.
 */
public final class SharedModels {

  private static final Logger log = LoggerFactory.getLogger(SharedModels.class);
  static final int CHUNK_BYTES = 1 << 20;

  private final Vertx vertx;
  private final Pool pool;
  private final ModelBlobs blobs;
  private final WorkerExecutor files;
  private final long intervalMs;
  private final Counter pushed;
  private final Counter pulled;
  private final Counter failures;
  private long timer = -1;
  private boolean syncing;
  private volatile boolean stopped;

  public SharedModels(Vertx vertx, Pool pool, ModelBlobs blobs, WorkerExecutor files, long intervalMs,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.pool = pool;
    this.blobs = blobs;
    this.files = files;
    this.intervalMs = intervalMs;
    this.pushed = Counter.builder("inferium.shared.models.pushed").description("Model blobs this gateway stored in the shared database")
        .register(registry);
    this.pulled = Counter.builder("inferium.shared.models.pulled").description("Model blobs this gateway copied from the shared database")
        .register(registry);
    this.failures = Counter.builder("inferium.shared.models.failures")
        .description("Model blob copies to or from the shared database that failed (retried at the next sync)").register(registry);
  }

  /** A first sync (its failures only logged), then one every interval. */
  public Future<Void> start() {
    return sync().otherwiseEmpty().onComplete(v -> {
      if (!stopped) {
        timer = vertx.setPeriodic(intervalMs, id -> {
          if (!syncing) {
            sync();
          }
        });
      }
    });
  }

  public Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return Future.succeededFuture();
  }

  /** Whether a sync (which may be copying a bundle's files ahead of its manifest) is under way. */
  public boolean syncing() {
    return syncing;
  }

  /** One pass: push what the database lacks, pull what this disk lacks, drop unreferenced blobs. */
  public Future<Void> sync() {
    syncing = true;
    return pool.query("SELECT f.model_sha256, bool_or(f.state = 'ready') AS ready, bool_or(f.kind IN ('"
            + FunctionKind.TEXT_GENERATION.wire() + "', '" + FunctionKind.EMBEDDING.wire() + "')) AS bundle, "
            + "bool_or(s.sha256 IS NOT NULL) AS shared FROM functions f LEFT JOIN shared_models s ON s.sha256 = f.model_sha256 "
            + "GROUP BY f.model_sha256").execute()
        .compose(rows -> {
          List<Row> roots = new ArrayList<>();
          rows.forEach(roots::add);
          return files.executeBlocking(() -> {
            java.util.Set<String> local = new java.util.HashSet<>();
            for (Row r : roots) {
              if (Files.exists(blobs.path(r.getString("model_sha256")))) {
                local.add(r.getString("model_sha256"));
              }
            }
            return local;
          }, false).compose(local -> each(roots, local, 0));
        })
        .compose(v -> pool.query("WITH gone AS (DELETE FROM shared_models s WHERE NOT EXISTS (SELECT 1 FROM functions f "
            + "WHERE f.model_sha256 = ANY(s.roots)) RETURNING sha256) DELETE FROM shared_model_chunks c USING gone "
            + "WHERE c.sha256 = gone.sha256").execute().<Void>mapEmpty())
        .onFailure(err -> log.warn("Shared models: sync failed: {}", err.toString()))
        .onComplete(ar -> syncing = false);
  }

  private Future<Void> each(List<Row> roots, java.util.Set<String> local, int i) {
    if (i == roots.size() || stopped) {
      return Future.succeededFuture();
    }
    Row r = roots.get(i);
    String root = r.getString("model_sha256");
    boolean bundle = Boolean.TRUE.equals(r.getBoolean("bundle"));
    Future<Void> step;
    if (local.contains(root)) {
      step = Boolean.TRUE.equals(r.getBoolean("shared")) ? Future.succeededFuture() : pushRoot(root, bundle);
    } else if (Boolean.TRUE.equals(r.getBoolean("ready")) && Boolean.TRUE.equals(r.getBoolean("shared"))) {
      step = pullRoot(root, bundle);
    } else {
      step = Future.succeededFuture(); // still verifying elsewhere, or not stored yet: the next pass
    }
    return step.recover(err -> {
      failures.increment();
      log.warn("Shared models: model {}: {}", root, err.toString());
      return Future.succeededFuture();
    }).compose(v -> each(roots, local, i + 1));
  }

  private Future<Void> pushRoot(String root, boolean bundle) {
    Future<List<String>> parts = !bundle ? Future.succeededFuture(List.of()) : files.executeBlocking(() ->
        Bundle.read(blobs.path(root)).files().values().stream().map(Bundle.Part::sha256).toList(), false);
    return parts.compose(list -> pushAll(list, root, 0)).compose(v -> push(root, root));
  }

  private Future<Void> pushAll(List<String> shas, String root, int i) {
    return i == shas.size() ? Future.succeededFuture() : push(shas.get(i), root).compose(v -> pushAll(shas, root, i + 1));
  }

  /** Stores one blob under {@code root}: adds the root when the blob is there, else writes it whole in one transaction. */
  private Future<Void> push(String sha, String root) {
    return pool.preparedQuery("UPDATE shared_models SET roots = array_append(roots, $2) WHERE sha256 = $1 "
            + "AND NOT ($2 = ANY(roots))").execute(Tuple.of(sha, root))
        .compose(updated -> pool.preparedQuery("SELECT 1 FROM shared_models WHERE sha256 = $1").execute(Tuple.of(sha)))
        .compose(present -> present.rowCount() > 0 ? Future.succeededFuture() : pushBytes(sha, root));
  }

  private Future<Void> pushBytes(String sha, String root) {
    Path file = blobs.path(sha);
    return files.executeBlocking(() -> Files.size(file), false).compose(size -> {
      int chunks = (int) ((size + CHUNK_BYTES - 1) / CHUNK_BYTES);
      return pool.withTransaction(conn -> writeChunks(conn, sha, file, 0, chunks)
          .compose(v -> conn.preparedQuery("INSERT INTO shared_models (sha256, bytes, chunks, roots) VALUES ($1, $2, $3, $4) "
              + "ON CONFLICT (sha256) DO NOTHING").execute(Tuple.of(sha, size, chunks, new String[] {root}))));
    }).onSuccess(v -> {
      pushed.increment();
      log.info("Shared models: stored {} in the database", sha);
    }).mapEmpty();
  }

  private Future<Void> writeChunks(SqlConnection conn, String sha, Path file, int idx, int chunks) {
    if (idx == chunks) {
      return Future.succeededFuture();
    }
    return files.executeBlocking(() -> {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, ch.size() - (long) idx * CHUNK_BYTES));
        while (buf.hasRemaining() && ch.read(buf, (long) idx * CHUNK_BYTES + buf.position()) > 0) {
          // read until the chunk is full
        }
        return Buffer.buffer(buf.array());
      }
    }, false).compose(data -> conn.preparedQuery("INSERT INTO shared_model_chunks (sha256, idx, data) VALUES ($1, $2, $3) "
            + "ON CONFLICT DO NOTHING").execute(Tuple.of(sha, idx, data)))
        .compose(v -> writeChunks(conn, sha, file, idx + 1, chunks));
  }

  /** Copies a root (and, for a bundle, its files first) to this disk. */
  private Future<Void> pullRoot(String root, boolean bundle) {
    Path manifest = blobs.path(root);
    if (!bundle) {
      return pull(root, manifest);
    }
    // A manifest on disk promises its files: it is read aside, its files fetched, and only then put in place.
    Path held = manifest.resolveSibling(root + ".held");
    return pull(root, held)
        .compose(v -> files.executeBlocking(() -> Bundle.read(held), false))
        .compose(b -> pullAll(b.files().values().stream().map(Bundle.Part::sha256).toList(), 0))
        .compose(v -> files.executeBlocking(() -> Files.move(held, manifest, StandardCopyOption.ATOMIC_MOVE), false))
        .<Void>mapEmpty()
        .recover(err -> files.executeBlocking(() -> Files.deleteIfExists(held), false).transform(x -> Future.failedFuture(err)));
  }

  private Future<Void> pullAll(List<String> shas, int i) {
    return i == shas.size() ? Future.succeededFuture()
        : files.executeBlocking(() -> Files.exists(blobs.path(shas.get(i))), false)
            .compose(present -> present ? Future.<Void>succeededFuture() : pull(shas.get(i), blobs.path(shas.get(i))))
            .compose(v -> pullAll(shas, i + 1));
  }

  /** Copies one blob to {@code target}: chunks into a partial file, its sha256 checked, then moved into place. */
  private Future<Void> pull(String sha, Path target) {
    Path partial = target.resolveSibling(sha + ".shared-partial");
    return pool.preparedQuery("SELECT chunks FROM shared_models WHERE sha256 = $1").execute(Tuple.of(sha))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            return Future.failedFuture(new IOException("blob " + sha + " is not in the shared database yet"));
          }
          int chunks = rows.iterator().next().getInteger("chunks");
          return files.executeBlocking(() -> {
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(partial);
            Files.createFile(partial);
            return null;
          }, false).compose(v -> readChunks(sha, partial, 0, chunks));
        })
        .compose(v -> files.executeBlocking(() -> {
          String got = ModelBlobs.sha256(partial);
          if (!got.equals(sha)) {
            Files.deleteIfExists(partial);
            throw new IOException("blob " + sha + " read from the shared database hashes to " + got + "; not used");
          }
          Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-r--r--"));
          Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          return null;
        }, false))
        .onSuccess(v -> {
          pulled.increment();
          log.info("Shared models: copied {} from the database", sha);
        })
        .mapEmpty();
  }

  private Future<Void> readChunks(String sha, Path partial, int idx, int chunks) {
    if (idx == chunks) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery("SELECT data FROM shared_model_chunks WHERE sha256 = $1 AND idx = $2").execute(Tuple.of(sha, idx))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            return Future.failedFuture(new IOException("blob " + sha + ": chunk " + idx + " of " + chunks + " is missing"));
          }
          Buffer data = rows.iterator().next().getBuffer("data");
          return files.executeBlocking(() -> {
            Files.write(partial, data.getBytes(), StandardOpenOption.APPEND);
            return null;
          }, false);
        })
        .compose(v -> readChunks(sha, partial, idx + 1, chunks));
  }
}
