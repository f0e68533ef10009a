package io.inferium.node;

import io.inferium.functions.ModelBlobs;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A remote node's models, by content: {@code <dir>/<sha256>}, fetched from the gateway in ranges (a fetch
 * cut short resumes from the bytes of {@code <sha256>.part} already on disk), checked against the sha256
 * before it is kept, and bounded by a size cap: least recently used blobs go first. A blob is never
 * named by anything but its hash, so the gateway's disk layout never reaches the node.
 */
final class BlobCache {

  /** Bytes asked for per FETCH. */
  static final int CHUNK_BYTES = 4 << 20;

  /** Fetches {@code length} bytes of {@code sha256} from {@code offset}; returns them and the blob's total size. */
  interface Source {
    Range fetch(String sha256, long offset, int length) throws IOException;
  }

  record Range(byte[] data, long total) {}

  private final Path dir;
  private final long capBytes;
  private final Source source;
  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  BlobCache(Path dir, long capBytes, Source source) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.capBytes = capBytes;
    this.source = source;
  }

  long capBytes() {
    return capBytes;
  }

  /**
   * A directory of the node's own for laying text bundles out (on the cache's file system, so files are
   * hard-linked, not copied); emptied of what an earlier run left. Its name is not a sha256, so the LRU
   * never counts or deletes it.
   */
  Path bundleRoot() throws IOException {
    Path root = dir.resolve("bundles");
    if (Files.isDirectory(root)) {
      try (Stream<Path> walk = Files.walk(root)) {
        walk.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(root)).forEach(p -> p.toFile().delete());
      }
    }
    return Files.createDirectories(root);
  }

  private final java.util.concurrent.atomic.AtomicLong hits = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong misses = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong fetchedBytes = new java.util.concurrent.atomic.AtomicLong();

  /** Since the node started: loads served from the cache, loads that had to fetch, bytes fetched (heartbeat fields). */
  io.vertx.core.json.JsonObject counters() {
    return new io.vertx.core.json.JsonObject().put("cache_hits", hits.get()).put("cache_misses", misses.get())
        .put("fetched_bytes", fetchedBytes.get());
  }

  /** The local file of {@code sha256}, fetched first when missing. Blocking. */
  Path obtain(String sha256) throws IOException {
    return obtain(sha256, source);
  }

  /**
   * The local file of {@code sha256}, fetched through {@code source} when missing (a node with several
   * gateways fetches over the link whose gateway sent the LOAD: a gateway serves only what it assigned).
   * Blocking; one fetch per blob at a time, whichever link asks.
   */
  Path obtain(String sha256, Source source) throws IOException {
    if (!ModelBlobs.isSha256Hex(sha256)) {
      throw new IOException("not a sha256: " + sha256);
    }
    synchronized (locks.computeIfAbsent(sha256, k -> new Object())) {
      Path file = dir.resolve(sha256);
      if (Files.isRegularFile(file)) {
        hits.incrementAndGet();
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
        return file;
      }
      misses.incrementAndGet();
      Path part = dir.resolve(sha256 + ".part");
      long have = Files.isRegularFile(part) ? Files.size(part) : 0;
      long total = -1;
      try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
        while (total < 0 || have < total) {
          Range r = source.fetch(sha256, have, CHUNK_BYTES);
          if (r.total() < 0 || r.total() > capBytes) {
            throw new IOException("blob " + sha256 + " of " + r.total() + " bytes does not fit the cache of " + capBytes + " bytes");
          }
          if (r.data().length == 0 && have < r.total()) {
            throw new IOException("the gateway sent no bytes of " + sha256 + " at offset " + have);
          }
          total = r.total();
          if (have + r.data().length > total) {
            throw new IOException("the gateway sent more of " + sha256 + " than its size");
          }
          out.write(r.data());
          have += r.data().length;
          fetchedBytes.addAndGet(r.data().length);
        }
      }
      String actual = ModelBlobs.sha256(part);
      if (!actual.equals(sha256)) {
        Files.deleteIfExists(part);
        throw new IOException("the blob fetched as " + sha256 + " hashes to " + actual + "; discarded");
      }
      makeRoom(total, sha256);
      Files.move(part, file, StandardCopyOption.ATOMIC_MOVE);
      return file;
    }
  }

  /** Deletes least recently used blobs until {@code incoming} more bytes fit under the cap. */
  private void makeRoom(long incoming, String keep) throws IOException {
    List<Path> blobs = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> ModelBlobs.isSha256Hex(p.getFileName().toString()) && !p.getFileName().toString().equals(keep)).forEach(blobs::add);
    }
    long used = 0;
    for (Path p : blobs) {
      used += Files.size(p);
    }
    blobs.sort(Comparator.comparing(p -> {
      try {
        return Files.getLastModifiedTime(p);
      } catch (IOException e) {
        return FileTime.fromMillis(0);
      }
    }));
    for (Path p : blobs) {
      if (used + incoming <= capBytes) {
        break;
      }
      used -= Files.size(p);
      Files.deleteIfExists(p); // a loaded session keeps its bytes; only the next load fetches it again
    }
  }
}
