package io.inferium.functions;

import static io.inferium.infra.testing.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.inferium.functions.tensor.DataType;
import io.inferium.infra.Database;
import io.inferium.infra.testing.MigratedDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link FunctionStore} against a real PostgreSQL with the Flyway migrations applied. */
class FunctionStoreIT {

  private static final String SHA_A = "a".repeat(64);
  private static final String SHA_B = "b".repeat(64);
  private static final String SHA_C = "c".repeat(64);

  private static Vertx vertx;
  private static MigratedDatabase db;
  private static Database database;
  private static FunctionStore store;

  @BeforeAll
  static void openDatabase() {
    db = MigratedDatabase.open();
    vertx = db.vertx();
    database = db.database();
    store = new FunctionStore(database.pool());
  }

  @AfterAll
  static void closeDatabase() throws Exception {
    if (db != null) {
      db.close();
    }
  }

  @BeforeEach
  void emptyTable() {
    await(database.pool().query("TRUNCATE functions").execute());
  }

  /** The failure of a future that must fail. */
  private static Throwable failure(Future<?> future) {
    try {
      Object value = future.await(60, TimeUnit.SECONDS);
      return fail("expected a failure, got " + value);
    } catch (Exception e) {
      return e;
    }
  }

  private static FunctionSpec spec(String name) {
    return FunctionSpec.fromJson(new JsonObject().put("name", name));
  }

  private static FunctionRecord create(FunctionSpec spec, String sha) {
    return await(store.create(spec, sha, 1234, "tenant-1"));
  }

  private static FunctionRecord create(String name, String sha) {
    return create(spec(name), sha);
  }

  private static List<String> names(List<FunctionRecord> records) {
    return records.stream().map(FunctionRecord::name).toList();
  }

  @Test
  void createWithoutVersionTakesTheNextInteger() {
    FunctionRecord first = create("adder", SHA_A);
    assertEquals(1, first.version());
    assertEquals(2, create("adder", SHA_A).version());
    assertEquals(3, create("adder", SHA_B).version());
    assertEquals(1, create("other", SHA_A).version(), "versions count per name");

    assertEquals("adder/1", first.ref());
    assertEquals(FunctionState.VERIFYING, first.state());
    assertEquals(SHA_A, first.modelSha256());
    assertEquals(1234, first.modelBytes());
    assertEquals("tenant-1", first.owner());
    assertNull(first.signature());
    assertEquals(new JsonObject(), first.report());
    assertTrue(first.createdAt() != null && first.updatedAt() != null);
    assertEquals(List.of(3, 2, 1), await(store.versions("adder")).stream().map(FunctionRecord::version).toList());
  }

  @Test
  void explicitDuplicateVersionIsAConflictNamingIt() {
    assertEquals(7, create(spec("adder").withVersion(7), SHA_A).version());

    Throwable err = failure(store.create(spec("adder").withVersion(7), SHA_B, 1, null));

    FunctionConflictException conflict = assertInstanceOf(FunctionConflictException.class, err);
    assertEquals("function adder already has version 7", conflict.getMessage());
    assertEquals(SHA_A, await(store.version("adder", 7)).orElseThrow().modelSha256(), "the first one is kept");
    assertEquals(8, create("adder", SHA_B).version(), "an implicit version follows the highest");
  }

  @Test
  void concurrentCreatesOfOneNameAllSucceedWithDistinctVersions() {
    // Several rounds, because one round of simultaneous creates does not always collide.
    for (int round = 0; round < 10; round++) {
      String name = "popular-" + round;
      List<Future<FunctionRecord>> creates = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        creates.add(store.create(spec(name), SHA_A, i, null));
      }
      await(Future.all(creates));

      List<Integer> versions = creates.stream().map(f -> f.result().version()).sorted().toList();
      assertEquals(List.of(1, 2, 3, 4, 5), versions, name);
    }
  }

  @Test
  void latestIsTheHighestVersionAndLatestReadyTheHighestReadyOne() {
    create("iris", SHA_A);
    create("iris", SHA_B);
    create("iris", SHA_C);
    assertEquals(Optional.empty(), await(store.latestReady("iris")), "nothing is ready yet");

    ModelSignature signature = new ModelSignature(
        List.of(new TensorSpec("features", DataType.FP32, new long[] {-1, 4})),
        List.of(new TensorSpec("label", DataType.INT64, new long[] {-1})));
    JsonObject report = new JsonObject().put("checks", new JsonArray()).put("load_ms", 12);
    await(store.finishVerification("iris", 1, FunctionState.READY, null, report, signature));
    await(store.finishVerification("iris", 2, FunctionState.READY, null, report, signature));
    await(store.finishVerification("iris", 3, FunctionState.REJECTED, "smoke_run failed", report, null));

    FunctionRecord latest = await(store.latest("iris")).orElseThrow();
    assertEquals(3, latest.version());
    assertEquals(FunctionState.REJECTED, latest.state());
    assertEquals("smoke_run failed", latest.stateReason());
    assertNull(latest.signature());

    FunctionRecord ready = await(store.latestReady("iris")).orElseThrow();
    assertEquals(2, ready.version());
    assertEquals(FunctionState.READY, ready.state());
    assertEquals(signature, ready.signature());
    assertEquals(report, ready.report());
    assertFalse(ready.updatedAt().isBefore(ready.createdAt()));

    assertEquals(Optional.empty(), await(store.latest("nobody")));
    assertEquals(Optional.empty(), await(store.version("iris", 4)));
  }

  @Test
  void aKnownFunctionKeepsBeingServedWhileTheDatabaseCannotBeRead() throws Exception {
    // A store whose entries expire at once, so every read below asks the database again.
    FunctionStore quick = new FunctionStore(database.pool(), TimeUnit.MILLISECONDS.toNanos(1));
    ModelSignature signature = new ModelSignature(
        List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 4})), List.of(new TensorSpec("y", DataType.FP32, new long[] {-1})));
    create("iris", SHA_A);
    await(store.finishVerification("iris", 1, FunctionState.READY, null, new JsonObject(), signature));
    assertEquals(1, await(quick.latestReady("iris")).orElseThrow().version());
    assertEquals(1, await(quick.version("iris", 1)).orElseThrow().version());

    // Every read of the table fails from here on, as with a database that is down.
    await(database.pool().query("ALTER TABLE functions RENAME TO functions_away").execute());
    try {
      for (int i = 0; i < 5; i++) {
        Thread.sleep(5);
        assertEquals(1, await(quick.latestReady("iris")).orElseThrow().version(), "a known function is served stale");
        assertEquals(1, await(quick.version("iris", 1)).orElseThrow().version());
      }
      assertTrue(failure(quick.latestReady("rose")).getMessage().contains("functions"),
          "a function never read has nothing to fall back on: the database's error");
    } finally {
      await(database.pool().query("ALTER TABLE functions_away RENAME TO functions").execute());
    }

    // Readable again: a newer ready version, made elsewhere, is seen (after at most one more stale answer).
    create("iris", SHA_B);
    await(store.finishVerification("iris", 2, FunctionState.READY, null, new JsonObject(), signature));
    io.inferium.infra.testing.Eventually.until("the new version to be read", java.time.Duration.ofSeconds(10),
        () -> await(quick.latestReady("iris")).orElseThrow().version() == 2);
  }

  @Test
  void searchMatchesNameDescriptionAndUseCasesCaseInsensitively() {
    create(FunctionSpec.fromJson(new JsonObject().put("name", "iris").put("kind", "classifier")
        .put("category", "tabular").put("description", "Predicts the Species of a flower")), SHA_A);
    create(FunctionSpec.fromJson(new JsonObject().put("name", "embedder").put("kind", "embedding")
        .put("category", "text").put("use_cases", new JsonArray().add("Semantic search").add("clustering"))), SHA_B);
    create(FunctionSpec.fromJson(new JsonObject().put("name", "adder").put("category", "tabular")), SHA_C);

    assertEquals(List.of("iris"), names(await(store.search("IRI", null, null))), "by name");
    assertEquals(List.of("iris"), names(await(store.search("species", null, null))), "by description");
    assertEquals(List.of("embedder"), names(await(store.search("semantic SEARCH", null, null))), "by use case");
    assertEquals(List.of("adder", "embedder", "iris"), names(await(store.search(null, null, null))));
    assertEquals(List.of("adder", "embedder", "iris"), names(await(store.search("  ", null, null))), "blank q");
    assertEquals(List.of("embedder"), names(await(store.search(null, "embedding", null))), "by kind");
    assertEquals(List.of("adder", "iris"), names(await(store.search(null, null, "tabular"))), "by category");
    assertEquals(List.of("adder"), names(await(store.search(null, "tensor", "tabular"))), "kind and category");
    assertEquals(List.of(), names(await(store.search("species", "tensor", null))), "q and kind");
  }

  @Test
  void searchReturnsOnlyTheLatestVersionOfEachName() {
    create("adder", SHA_A);
    create("adder", SHA_B);

    List<FunctionRecord> found = await(store.search("adder", null, null));

    assertEquals(1, found.size());
    assertEquals(2, found.get(0).version());
  }

  @Test
  void likeMetacharactersInQueryAreLiteral() {
    create("a_b", SHA_A);
    create("a-b", SHA_A);
    create(FunctionSpec.fromJson(new JsonObject().put("name", "discount").put("description", "takes 50% off")), SHA_B);
    create(FunctionSpec.fromJson(new JsonObject().put("name", "half").put("description", "takes 50 percent off")), SHA_B);
    create(FunctionSpec.fromJson(new JsonObject().put("name", "path").put("description", "C:\\models")), SHA_C);

    assertEquals(List.of("a_b"), names(await(store.search("a_b", null, null))), "_ is not a wildcard");
    assertEquals(List.of("discount"), names(await(store.search("50%", null, null))), "% is not a wildcard");
    assertEquals(List.of("discount"), names(await(store.search("%", null, null))));
    assertEquals(List.of("path"), names(await(store.search("C:\\m", null, null))), "a backslash is literal");
  }

  @Test
  void deletingOneVersionReportsTheModelsNoVersionUsesAnyMore() {
    create("a", SHA_A);
    create("a", SHA_B);
    create("b", SHA_A);

    FunctionStore.Deleted second = await(store.delete("a", 2));
    assertEquals(new FunctionStore.Deleted(1, List.of(SHA_B)), second);
    assertEquals(List.of(1), await(store.versions("a")).stream().map(FunctionRecord::version).toList());

    FunctionStore.Deleted restOfA = await(store.delete("a", null));
    assertEquals(new FunctionStore.Deleted(1, List.of()), restOfA, "b still uses model A");

    FunctionStore.Deleted b = await(store.delete("b", null));
    assertEquals(new FunctionStore.Deleted(1, List.of(SHA_A)), b, "the last user of model A is gone");
  }

  @Test
  void deletingAllVersionsReportsASharedModelOnce() {
    create("a", SHA_A);
    create("a", SHA_A);
    create("a", SHA_B);
    create("b", SHA_C);

    FunctionStore.Deleted all = await(store.delete("a", null));

    assertEquals(3, all.versions());
    assertEquals(List.of(SHA_A, SHA_B), all.orphanedModels().stream().sorted().toList());
    assertEquals(List.of(), await(store.versions("a")));
    assertEquals(1, await(store.versions("b")).size(), "other names are untouched");
  }

  @Test
  void deletingNothingReportsNothing() {
    create("a", SHA_A);

    assertEquals(new FunctionStore.Deleted(0, List.of()), await(store.delete("a", 5)));
    assertEquals(new FunctionStore.Deleted(0, List.of()), await(store.delete("missing", null)));
    assertEquals(1, await(store.versions("a")).size());
  }

  @Test
  void verifyingListsOnlyVersionsStillBeingVerified() {
    create("a", SHA_A);
    create("a", SHA_A);
    create("b", SHA_B);
    create("c", SHA_C);
    await(store.finishVerification("a", 1, FunctionState.READY, null, new JsonObject(), null));
    await(store.finishVerification("b", 1, FunctionState.REJECTED, "bad", new JsonObject(), null));

    List<String> verifying = await(store.verifying()).stream().map(FunctionRecord::ref).sorted().toList();

    assertEquals(List.of("a/2", "c/1"), verifying);
  }
}
