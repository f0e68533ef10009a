package io.inferium.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's model cache against a fake gateway that serves ranges of blobs it holds (and can lie or stop). */
class BlobCacheTest {

  @TempDir
  Path dir;

  /** Blobs by sha256, served in ranges; records every request's offset. */
  private static final class Gateway implements BlobCache.Source {
    final Map<String, byte[]> blobs = new HashMap<>();
    final List<Long> offsets = new ArrayList<>();
    int failAfter = Integer.MAX_VALUE;
    int maxRange = Integer.MAX_VALUE;

    String put(byte[] data) throws Exception {
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
      blobs.put(sha, data);
      return sha;
    }

    @Override
    public BlobCache.Range fetch(String sha256, long offset, int length) throws IOException {
      if (failAfter-- <= 0) {
        throw new IOException("connection lost");
      }
      offsets.add(offset);
      byte[] b = blobs.get(sha256);
      int n = (int) Math.min(Math.min(length, maxRange), b.length - offset);
      return new BlobCache.Range(Arrays.copyOfRange(b, (int) offset, (int) offset + n), b.length);
    }
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void aFetchCutShortResumesFromWhatIsOnDisk() throws Exception {
    Gateway gw = new Gateway();
    byte[] data = bytes(10_000, 1);
    String sha = gw.put(data);
    gw.maxRange = 3_000;
    gw.failAfter = 2;
    BlobCache cache = new BlobCache(dir, 1 << 20, gw);
    assertThrows(IOException.class, () -> cache.obtain(sha));
    assertEquals(6_000, Files.size(dir.resolve(sha + ".part")));
    gw.failAfter = Integer.MAX_VALUE;
    Path file = cache.obtain(sha);
    assertArrayEquals(data, Files.readAllBytes(file));
    assertEquals(List.of(0L, 3_000L, 6_000L, 9_000L), gw.offsets, "resumed at 6000, not from the start");
    gw.offsets.clear();
    assertEquals(file, cache.obtain(sha));
    assertTrue(gw.offsets.isEmpty(), "a cached blob is not fetched again");
  }

  @Test
  void bytesThatDoNotHashToTheirNameAreDiscarded() throws Exception {
    Gateway gw = new Gateway();
    String sha = gw.put(bytes(1_000, 2));
    gw.blobs.put(sha, bytes(1_000, 3)); // the gateway (or a path between) serves other bytes under that name
    BlobCache cache = new BlobCache(dir, 1 << 20, gw);
    IOException e = assertThrows(IOException.class, () -> cache.obtain(sha));
    assertTrue(e.getMessage().contains("hashes to"), e.getMessage());
    assertFalse(Files.exists(dir.resolve(sha)));
    assertFalse(Files.exists(dir.resolve(sha + ".part")));
  }

  @Test
  void theLeastRecentlyUsedBlobMakesRoomAndNothingExceedsTheCap() throws Exception {
    Gateway gw = new Gateway();
    String a = gw.put(bytes(400, 4));
    String b = gw.put(bytes(400, 5));
    String c = gw.put(bytes(400, 6));
    String huge = gw.put(bytes(2_000, 7));
    BlobCache cache = new BlobCache(dir, 1_000, gw);
    cache.obtain(a);
    Files.setLastModifiedTime(dir.resolve(a), FileTime.fromMillis(1_000));
    cache.obtain(b);
    Files.setLastModifiedTime(dir.resolve(b), FileTime.fromMillis(2_000));
    cache.obtain(a); // used again: now the most recent
    cache.obtain(c);
    assertTrue(Files.exists(dir.resolve(a)));
    assertFalse(Files.exists(dir.resolve(b)), "b was the least recently used");
    assertTrue(Files.exists(dir.resolve(c)));
    assertThrows(IOException.class, () -> cache.obtain(huge));
  }

  @Test
  void onlyHashesNameBlobs() throws Exception {
    BlobCache cache = new BlobCache(dir, 1 << 20, new Gateway());
    for (String bad : List.of("../../etc/passwd", "/etc/passwd", "ABC", "a".repeat(63), "A".repeat(64))) {
      assertThrows(IOException.class, () -> cache.obtain(bad), bad);
    }
  }
}
