package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sandbox mounts what the worker's class path needs, including jars a launcher jar's manifest lists. */
class WorkerSandboxClassPathTest {

  @TempDir
  Path dir;

  @Test
  void aLauncherJarBringsTheLibrariesItsManifestLists() throws Exception {
    Path lib = Files.createDirectories(dir.resolve("lib"));
    Path a = Files.writeString(lib.resolve("a.jar"), "not read");
    Path b = Files.writeString(lib.resolve("b.jar"), "not read");
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, "lib/a.jar lib/b.jar lib/missing.jar");
    Path launcher = dir.resolve("launcher.jar");
    try (OutputStream out = Files.newOutputStream(launcher); JarOutputStream jar = new JarOutputStream(out, manifest)) {
      jar.flush();
    }
    Path classes = Files.createDirectories(dir.resolve("classes"));
    List<String> mounted = WorkerSandbox.classPath(launcher + File.pathSeparator + classes + File.pathSeparator
        + dir.resolve("gone.jar"));
    assertEquals(List.of(launcher.toString(), a.toString(), b.toString(), classes.toString()), mounted,
        "listed libraries follow their jar; missing entries are left out");
  }
}
