package io.inferium.functions;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Model files stored by content: {@code <root>/sha256/<first two hex>/<sha256>.onnx}. The same bytes
 * deployed twice are stored once. Hashing and moving run on the given bounded executor, never on an
 * event loop.
 */
public final class ModelBlobs {

  private final Path root;
  private final WorkerExecutor files;

  public ModelBlobs(Path root, WorkerExecutor files) {
    this.root = root;
    this.files = files;
  }

  /** A stored model. */
  public record StoredModel(String sha256, long bytes, Path path) {}

  /** Hashes a freshly uploaded file and moves it into the store (or drops it if already stored). */
  public Future<StoredModel> ingest(Path upload) {
    return files.executeBlocking(() -> {
      String sha = sha256(upload);
      long size = Files.size(upload);
      Path target = path(sha);
      Files.createDirectories(target.getParent());
      if (Files.exists(target)) {
        Files.deleteIfExists(upload);
        // Fresh again: a sweep of unreferenced files spares recent ones, and this one is about to be referenced anew.
        Files.setLastModifiedTime(target, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
      } else {
        try {
          Files.move(upload, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          Path tmp = target.resolveSibling(sha + ".partial");
          Files.copy(upload, tmp, StandardCopyOption.REPLACE_EXISTING);
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
          Files.deleteIfExists(upload);
        }
      }
      // Readable by sandboxed workers, which run under uids of their own (uploads and temp files arrive 0600).
      Files.setPosixFilePermissions(target, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      return new StoredModel(sha, size, target);
    }, false);
  }

  /**
   * Stores a text function's files and their manifest (see {@link Bundle}); the result names the
   * manifest, whose hash identifies the whole bundle. {@code uploads} maps {@link Bundle#NAMES} to files.
   */
  public Future<StoredModel> ingestBundle(java.util.Map<String, Path> uploads) {
    java.util.Map<String, Future<StoredModel>> parts = new java.util.TreeMap<>();
    uploads.forEach((name, file) -> parts.put(name, ingest(file)));
    return Future.all(List.copyOf(parts.values())).compose(all -> {
      java.util.Map<String, Bundle.Part> named = new java.util.TreeMap<>();
      parts.forEach((name, f) -> named.put(name, new Bundle.Part(f.result().sha256(), f.result().bytes())));
      Bundle bundle = new Bundle(named);
      return files.executeBlocking(() -> {
        Files.createDirectories(root);
        Path tmp = Files.createTempFile(root, "bundle", ".json");
        Files.writeString(tmp, bundle.toJson());
        return tmp;
      }, false).compose(this::ingest)
          .map(manifest -> new StoredModel(manifest.sha256(), bundle.totalBytes(), manifest.path()));
    });
  }

  /**
   * Whether {@code s} is a SHA-256 digest as blobs are named: exactly 64 lower-case hex digits. A loop, not a regular
   * expression: every worker call resolves its model's path through it.
   */
  public static boolean isSha256Hex(String s) {
    if (s == null || s.length() != 64) {
      return false;
    }
    for (int i = 0; i < 64; i++) {
      char c = s.charAt(i);
      if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) {
        return false;
      }
    }
    return true;
  }

  /** Where the model with this hash lives (whether or not it exists). */
  public Path path(String sha256) {
    if (!isSha256Hex(sha256)) {
      throw new IllegalArgumentException("not a sha256 hex digest: " + sha256);
    }
    return root.resolve("sha256").resolve(sha256.substring(0, 2)).resolve(sha256 + ".onnx");
  }

  /** A stored file: its hash, where it is, when it was last written or ingested again. */
  public record StoredFile(String sha256, Path path, java.time.Instant modified) {}

  /** Every stored file (models, text bundles' manifests and files). Blocking: call it off the event loop. */
  public List<StoredFile> storedFiles() throws IOException {
    Path dir = root.resolve("sha256");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<StoredFile> out = new java.util.ArrayList<>();
    try (java.util.stream.Stream<Path> walk = Files.walk(dir, 2)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        String name = p.getFileName().toString();
        if (name.endsWith(".onnx") && isSha256Hex(name.substring(0, name.length() - ".onnx".length()))
            && Files.isRegularFile(p)) {
          out.add(new StoredFile(name.substring(0, 64), p, Files.getLastModifiedTime(p).toInstant()));
        }
      }
    }
    return out;
  }

  public Future<Void> remove(String sha256) {
    return files.executeBlocking(() -> {
      Files.deleteIfExists(path(sha256));
      return null;
    }, false);
  }

  /** SHA-256 of a file as lower-case hex. Blocking: call it off the event loop. */
  public static String sha256(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        digest.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
