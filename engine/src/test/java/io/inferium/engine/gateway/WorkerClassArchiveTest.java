package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The workers' class archive: a worker may only name classes (its own or JDK-generated ones), never supply them; each worker is told to map the
 * archive or to capture a list, one capture at a time; and a real {@code java -Xshare:dump} makes an archive a JVM
 * maps and loads the node's classes from.
 */
class WorkerClassArchiveTest {

  private static final List<String> OPTIONS = List.of("-Xss8m", "-Xmx256m", "-XX:+UseSerialGC");

  @TempDir
  Path dir;

  @Test
  void onlyClassNamesAndLambdaLinesOfAListAreKept() throws Exception {
    Path list = Files.writeString(dir.resolve("classes.lst"), String.join("\n",
        "# NOTE: Do not modify this file.",
        "java/lang/Object id: 0",
        "org/slf4j/LoggerFactory",
        "org/slf4j/LoggerFactory id: 7",
        "@lambda-proxy java/lang/Runnable run ()Ljava/lang/Runnable; ()V 6 x ()V",
        // A class of a custom loader, read from a file the line names: the worker could write that file.
        "evil/Injected id: 9 super: 0 source: /tmp/evil.jar",
        "evil/Other id: x",
        "../../etc/passwd",
        "java/lang/String extra",
        "io/inferium/node/NodeMain$1",
        "@lambda-form-invoker [LF_RESOLVE] java.lang.invoke.DirectMethodHandle$Holder invokeStatic L7_L",
        "@lambda-proxy evil/X run ()Ljava/lang/Runnable; ()V REF_invokeStatic evil/X m ()V ()V source: /tmp/evil.jar",
        "@some-future-tag java/lang/Object"), StandardCharsets.ISO_8859_1);
    assertEquals(List.of("java/lang/Object", "org/slf4j/LoggerFactory", "@lambda-proxy java/lang/Runnable run "
        + "()Ljava/lang/Runnable; ()V 6 x ()V", "io/inferium/node/NodeMain$1",
        "@lambda-form-invoker [LF_RESOLVE] java.lang.invoke.DirectMethodHandle$Holder invokeStatic L7_L"),
        WorkerClassArchive.classNames(list));
  }

  @Test
  void anOversizedListIsRefused() throws Exception {
    Path list = dir.resolve("huge.lst");
    Files.write(list, new byte[(int) WorkerClassArchive.MAX_LIST_BYTES + 1]);
    assertThrows(IOException.class, () -> WorkerClassArchive.classNames(list));
  }

  @Test
  void oneWorkerCapturesAtATimeAndALostCaptureIsRetriedABoundedNumberOfTimes() throws Exception {
    WorkerClassArchive archive = WorkerClassArchive.open(dir.resolve("cds"), node(slf4j()), OPTIONS);
    WorkerClassArchive.Plan first = archive.plan(dir.resolve("w1"));
    assertEquals(dir.resolve("w1/classes.lst"), first.classList());
    assertEquals(List.of("-XX:DumpLoadedClassList=" + dir.resolve("w1/classes.lst")), first.jvmOptions());
    assertNull(first.archive());
    assertEquals(WorkerClassArchive.Plan.NONE, archive.plan(dir.resolve("w2")), "a second capture while one runs");
    for (int i = 1; i < WorkerClassArchive.MAX_CAPTURES; i++) {
      archive.abandon();
      assertNotNull(archive.plan(dir.resolve("w" + (i + 2))).classList());
    }
    archive.abandon();
    assertEquals(WorkerClassArchive.Plan.NONE, archive.plan(dir.resolve("late")), "tries are bounded");
    assertEquals(WorkerClassArchive.Plan.NONE, WorkerClassArchive.off().plan(dir.resolve("w1")));
  }

  @Test
  void theKeyFollowsTheClassPathsFilesAndTheJvmOptions() throws Exception {
    Path jar = Files.writeString(dir.resolve("node.jar"), "v1");
    String key = WorkerClassArchive.key(List.of(jar.toString()), OPTIONS);
    assertEquals(key, WorkerClassArchive.key(List.of(jar.toString()), OPTIONS));
    assertNotEquals(key, WorkerClassArchive.key(List.of(jar.toString()), List.of("-Xmx2g")));
    Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
    assertNotEquals(key, WorkerClassArchive.key(List.of(jar.toString()), OPTIONS), "a rebuilt jar gets a new archive");
  }

  /** The whole path with a real JDK: capture list → dump → a JVM that maps the archive loads the class from it. */
  @Test
  void aCapturedListBecomesAnArchiveTheJvmLoadsClassesFrom() throws Exception {
    Path jar = slf4j();
    Path cds = dir.resolve("cds");
    WorkerClassArchive archive = WorkerClassArchive.open(cds, node(jar), OPTIONS);
    WorkerClassArchive.Plan capture = archive.plan(Files.createDirectories(dir.resolve("w1")));
    Files.writeString(capture.classList(), "java/lang/Object id: 0\norg/slf4j/LoggerFactory id: 1\n"
        + "org/slf4j/Logger id: 2\nevil/Injected id: 3 super: 0 source: " + jar + "\n"
        + "@lambda-form-invoker [LF_RESOLVE] java.lang.invoke.DirectMethodHandle$Holder invokeStatic LL_L\n");

    assertTrue(archive.capture(capture.classList()), "the dump failed; see the log");
    Path made = archive.archive();
    assertNotNull(made);
    assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(made)));
    try (var left = Files.list(cds)) {
      assertEquals(List.of(made), left.toList(), "only the archive stays: no list, log or partial file");
    }
    WorkerClassArchive.Plan later = archive.plan(dir.resolve("w2"));
    assertEquals(made, later.archive());
    assertNull(later.classList());
    // Another gateway sharing the directory finds it.
    assertEquals(made, WorkerClassArchive.open(cds, node(jar), OPTIONS).plan(dir.resolve("w3")).archive());

    // Removed (by an operator, or as stale by another build's gateway): workers start without it, and the next
    // spawn may capture again.
    Path aside = Files.move(made, dir.resolve("aside.jsa"));
    WorkerClassArchive.Plan afterRemoval = archive.plan(dir.resolve("w4"));
    assertNull(afterRemoval.archive());
    assertEquals(dir.resolve("w4/classes.lst"), afterRemoval.classList());
    assertNull(archive.archive());
    Files.move(aside, made); // made again
    assertEquals(made, archive.plan(dir.resolve("w5")).archive());

    Path probe = Files.writeString(dir.resolve("Probe.java"),
        "public class Probe { public static void main(String[] a) { System.out.println(org.slf4j.LoggerFactory.class); } }");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(OPTIONS);
    cmd.addAll(later.jvmOptions());
    cmd.addAll(List.of("-Xshare:on", "-Xlog:class+load=info", "-cp", jar.toString(), probe.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.lines().anyMatch(l -> l.contains("org.slf4j.LoggerFactory source: shared objects file")), out);
    assertFalse(out.contains("evil.Injected"), out);
  }

  private static NodeCode node(Path jar) {
    return new NodeCode(jar.toString(), List.of(jar.toString()), "not-checked-here");
  }

  private static Path slf4j() throws Exception {
    return Path.of(org.slf4j.LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }
}
