package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerLogsTest {

  @Test
  void theLimitComesFromTheEnvironmentAndABadOneIsNamed() {
    assertEquals(WorkerLogs.DEFAULT_MAX_BYTES, WorkerLogs.maxBytes(Map.of()));
    assertEquals(2L << 20, WorkerLogs.maxBytes(Map.of(WorkerLogs.MAX_MB_ENV, "2")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WorkerLogs.maxBytes(Map.of(WorkerLogs.MAX_MB_ENV, "-3")));
    assertTrue(e.getMessage().contains("INFERIUM_WORKER_LOG_MB"), e.getMessage());
  }
}
