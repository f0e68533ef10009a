package io.inferium.functions.seal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * SHA-256 of the code a process runs: the jar that holds a class or, when running from a build
 * directory, every file under that directory in a fixed order. Gateway and worker compute it
 * independently (the gateway over the node code it spawns); a worker whose checksum differs is not given work.
 */
public final class CodeChecksum {

  private CodeChecksum() {}

  public static String of(Class<?> anchor) {
    try {
      return of(Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI()));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The checksum of a jar, or of every file under a class directory: what {@link #of(Class)} computes for its location. */
  public static String of(Path location) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      if (Files.isDirectory(location)) {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(location)) {
          files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
          digest.update(location.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
          update(digest, f);
        }
      } else {
        update(digest, location);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void update(MessageDigest digest, Path file) throws IOException {
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        digest.update(buf, 0, n);
      }
    }
  }
}
