package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerLogsTest {

  @Test
  void aWriterThatKeepsAppendingGoesOnAtTheStartOfTheTruncatedFile() throws Exception {
    Path file = Files.createTempDirectory("worker-logs-").resolve("worker-w1.log");
    // Like a worker's redirected stdout: opened once in append mode and never reopened.
    try (OutputStream out = new FileOutputStream(file.toFile(), true)) {
      out.write("old line\n".repeat(200).getBytes(StandardCharsets.UTF_8));
      out.flush();
      assertFalse(WorkerLogs.rotateIfLarger(file, 10_000), "under the limit nothing moves");
      assertTrue(WorkerLogs.rotateIfLarger(file, 1_000));
      out.write("new line\n".getBytes(StandardCharsets.UTF_8));
    }
    assertEquals("new line\n", Files.readString(file), "no hole of zeros where the old content was");
    assertEquals("old line\n".repeat(200), Files.readString(file.resolveSibling("worker-w1.log.1")));
  }

  @Test
  void theLimitComesFromTheEnvironmentAndABadOneIsNamed() {
    assertEquals(WorkerLogs.DEFAULT_MAX_BYTES, WorkerLogs.maxBytes(Map.of()));
    assertEquals(2L << 20, WorkerLogs.maxBytes(Map.of(WorkerLogs.MAX_MB_ENV, "2")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WorkerLogs.maxBytes(Map.of(WorkerLogs.MAX_MB_ENV, "-3")));
    assertTrue(e.getMessage().contains("INFERIUM_WORKER_LOG_MB"), e.getMessage());
  }
}
