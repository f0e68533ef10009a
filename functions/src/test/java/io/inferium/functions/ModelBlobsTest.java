package io.inferium.functions;

import static io.inferium.infra.testing.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.inferium.infra.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(VertxExtension.class)
class ModelBlobsTest {

  @TempDir
  Path dir;

  private WorkerExecutor files;
  private ModelBlobs blobs;
  private Path root;

  @BeforeEach
  void setUp(Vertx vertx) {
    files = vertx.createSharedWorkerExecutor("model-blobs-test", 2);
    root = dir.resolve("blobs");
    blobs = new ModelBlobs(root, files);
  }

  @AfterEach
  void tearDown() throws Exception {
    files.close().await(10, TimeUnit.SECONDS);
  }

  private Path upload(String name, byte[] bytes) throws IOException {
    Path uploads = Files.createDirectories(dir.resolve("uploads"));
    return Files.write(uploads.resolve(name), bytes);
  }

  private static String expectedSha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private List<Path> storedFiles() throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(Files::isRegularFile).toList();
    }
  }

  @Test
  void ingestHashesAndMovesTheUploadIntoTheStore() throws Exception {
    // Larger than the 64 KiB read buffer, so the digest spans several reads.
    byte[] bytes = new byte[200_001];
    new Random(7).nextBytes(bytes);
    Path upload = upload("model.onnx", bytes);

    ModelBlobs.StoredModel stored = await(blobs.ingest(upload));

    String sha = expectedSha256(bytes);
    assertEquals(sha, stored.sha256());
    assertEquals(bytes.length, stored.bytes());
    assertEquals(root.resolve("sha256").resolve(sha.substring(0, 2)).resolve(sha + ".onnx"), stored.path());
    assertArrayEquals(bytes, Files.readAllBytes(stored.path()));
    assertFalse(Files.exists(upload), "the upload was moved, not copied");
    assertEquals(List.of(stored.path()), storedFiles());
  }

  @Test
  void theSameBytesTwiceAreStoredOnceAndTheSecondUploadIsRemoved() throws Exception {
    byte[] bytes = "same model".getBytes();
    ModelBlobs.StoredModel first = await(blobs.ingest(upload("first.onnx", bytes)));
    Path second = upload("second.onnx", bytes);

    ModelBlobs.StoredModel again = await(blobs.ingest(second));

    assertEquals(first, again);
    assertFalse(Files.exists(second));
    assertEquals(List.of(first.path()), storedFiles());
    assertArrayEquals(bytes, Files.readAllBytes(first.path()));
  }

  @Test
  void differentBytesAreDifferentBlobs() throws Exception {
    ModelBlobs.StoredModel a = await(blobs.ingest(upload("a.onnx", new byte[] {1})));
    ModelBlobs.StoredModel b = await(blobs.ingest(upload("b.onnx", new byte[] {2})));

    assertNotEquals(a.sha256(), b.sha256());
    assertEquals(2, storedFiles().size());
  }

  @Test
  void anEmptyFileHasTheWellKnownDigest() throws Exception {
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ModelBlobs.sha256(upload("empty.onnx", new byte[0])));
  }

  @Test
  void ingestOfAMissingUploadFails() throws Exception {
    Future<ModelBlobs.StoredModel> ingest = blobs.ingest(dir.resolve("never-written.onnx"));
    Throwable err = Eventually.failure(ingest);
    assertTrue(err instanceof NoSuchFileException && err.getMessage().contains("never-written.onnx"), err.toString());
  }

  @Test
  void removeDeletesABlobAndToleratesAMissingOne() throws Exception {
    ModelBlobs.StoredModel stored = await(blobs.ingest(upload("m.onnx", new byte[] {42})));

    await(blobs.remove(stored.sha256()));
    assertFalse(Files.exists(stored.path()));
    await(blobs.remove(stored.sha256()));
  }

  @Test
  void pathIsShardedByTheFirstTwoHexDigits() {
    String sha = "ab" + "0123456789abcdef".repeat(3) + "0123456789ab3f";
    assertEquals(root.resolve("sha256/ab/" + sha + ".onnx"), blobs.path(sha));
    assertTrue(ModelBlobs.isSha256Hex("0123456789abcdef".repeat(4)), "every lower-case hex digit");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "../../../../etc/passwd",
      "AB0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCD",
      "g000000000000000000000000000000000000000000000000000000000000000",
      "0000000000000000000000000000000000000000000000000000000000000000/",
      "000000000000000000000000000000000000000000000000000000000000000", "00000000000000000000000000000000000000000000000000000000000000000",
      // each character just outside the two ranges: '/' and ':' around the digits, '`' and 'g' around a-f
      "/000000000000000000000000000000000000000000000000000000000000000",
      "000000000000000000000000000000:000000000000000000000000000000000",
      "000000000000000000000000000000000000000000000000000000000000000`",
      "0000000000000000000000000000000000000000000000000000000000000g00"})
  void pathRejectsAnythingButALowerCaseSha256(String notASha) {
    assertFalse(ModelBlobs.isSha256Hex(notASha));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> blobs.path(notASha));
    assertEquals("not a sha256 hex digest: " + notASha, e.getMessage());
  }

  @Test
  void removeRejectsNonHexToo() throws Exception {
    Throwable err = assertThrows(Exception.class, () -> await(blobs.remove("../x")));
    assertInstanceOf(IllegalArgumentException.class, err);
  }
}
