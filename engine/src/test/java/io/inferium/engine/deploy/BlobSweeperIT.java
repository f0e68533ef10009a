package io.inferium.engine.deploy;

import static io.inferium.infra.testing.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.ModelBlobs;
import io.inferium.infra.testing.MigratedDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link BlobSweeper} against a real PostgreSQL and a real model store on disk. */
class BlobSweeperIT {

  @TempDir
  Path dir;

  private ModelBlobs.StoredModel stored(ModelBlobs blobs, String name, String content) throws Exception {
    Path f = Files.writeString(dir.resolve(name), content);
    return await(blobs.ingest(f));
  }

  private static void age(Path p) throws Exception {
    Files.setLastModifiedTime(p, FileTime.from(Instant.now().minusSeconds(3600)));
  }

  @Test
  void filesNoVersionReferencesGoOnceOldAndEverythingReferencedOrFreshStays() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      WorkerExecutor files = db.vertx().createSharedWorkerExecutor("sweep-test", 2);
      ModelBlobs blobs = new ModelBlobs(dir.resolve("models"), files);
      FunctionStore store = new FunctionStore(db.pool());
      List<String> unloaded = new CopyOnWriteArrayList<>();
      BlobSweeper sweeper = new BlobSweeper(db.vertx(), db.pool(), blobs, files, sha -> {
        unloaded.add(sha);
        return Future.succeededFuture();
      }, () -> false, new BlobSweeper.Settings(60_000, 60_000), new SimpleMeterRegistry());

      ModelBlobs.StoredModel served = stored(blobs, "served.onnx", "a tensor model");
      await(store.create(FunctionSpec.fromJson(new JsonObject().put("name", "served")), served.sha256(), 1, null));
      ModelBlobs.StoredModel orphan = stored(blobs, "orphan.onnx", "left behind");
      ModelBlobs.StoredModel fresh = stored(blobs, "fresh.onnx", "an upload whose version is not recorded yet");
      Path model = Files.writeString(dir.resolve("model.onnx"), "a text model");
      Path tokenizer = Files.writeString(dir.resolve("tokenizer.json"), "{\"a tokenizer\": true}");
      String modelSha = ModelBlobs.sha256(model);
      String tokenizerSha = ModelBlobs.sha256(tokenizer);
      ModelBlobs.StoredModel bundle = await(blobs.ingestBundle(Map.of("model.onnx", model, "tokenizer.json", tokenizer)));
      await(store.create(FunctionSpec.fromJson(new JsonObject().put("name", "chat").put("kind", "text-generation")),
          bundle.sha256(), 1, null));
      for (String sha : List.of(served.sha256(), orphan.sha256(), bundle.sha256(), modelSha, tokenizerSha)) {
        age(blobs.path(sha));
      }

      // Only the old file nothing names goes; the fresh one may be an upload on its way in.
      assertEquals(List.of(orphan.sha256()), await(sweeper.sweep()));
      assertEquals(List.of(orphan.sha256()), unloaded, "unloaded from the workers before its file went");
      assertFalse(Files.exists(blobs.path(orphan.sha256())));
      for (String sha : List.of(served.sha256(), fresh.sha256(), bundle.sha256(), modelSha, tokenizerSha)) {
        assertTrue(Files.exists(blobs.path(sha)), sha);
      }

      // The text function deleted: its manifest and the files only it named go with it.
      await(store.delete("chat", null));
      assertEquals(java.util.Set.of(bundle.sha256(), modelSha, tokenizerSha), java.util.Set.copyOf(await(sweeper.sweep())));
      assertTrue(Files.exists(blobs.path(served.sha256())));

      // The tensor function deleted and the same bytes deployed again before the sweep: stored again, they stay.
      await(store.delete("served", null));
      stored(blobs, "again.onnx", "a tensor model");
      assertEquals(List.of(), await(sweeper.sweep()));
      assertTrue(Files.exists(blobs.path(served.sha256())));
      files.close();
    }
  }
}
