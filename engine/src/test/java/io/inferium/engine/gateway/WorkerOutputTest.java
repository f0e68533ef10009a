package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A worker's output read by the gateway: the attack (a flood) is a real process writing as fast as it can. */
class WorkerOutputTest {

  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(WorkerOutput.LOGGER);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Counter dropped = registry.counter("dropped");
  private final Counter truncated = registry.counter("truncated");
  private Path dir;

  @BeforeEach
  void capture() throws Exception {
    dir = Files.createTempDirectory("worker-output-");
    logged.start();
    logger.addAppender(logged);
    logger.setAdditive(false);
  }

  @AfterEach
  void release() {
    logger.detachAppender(logged);
    logger.setAdditive(true);
  }

  private WorkerOutput collect(String shell, WorkerOutput.Limits limits) throws Exception {
    Process p = new ProcessBuilder("bash", "-c", shell).redirectErrorStream(true).start();
    return new WorkerOutput("w9", p.getInputStream(), dir.resolve("worker-w9.log"), limits, dropped, truncated).start();
  }

  @Test
  void aFloodIsReadAtABoundedRateLoggedAtABoundedRateAndKeptOnABoundedDisk() throws Exception {
    // 6 MiB of short lines, as fast as `yes` writes them; 2 MiB/s may be read, 50 lines/s logged (bursts of 100).
    WorkerOutput.Limits limits = new WorkerOutput.Limits(256, 50, 100, 2L << 20, 1L << 20);
    long lines = (6L << 20) / "flood flood flood\n".length();
    Vertx vertx = Vertx.vertx();
    AtomicLong worstLateMs = new AtomicLong();
    long[] last = {System.nanoTime()};
    long timer = vertx.setPeriodic(10, t -> {
      long now = System.nanoTime();
      worstLateMs.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(now - last[0]) - 10, Math::max);
      last[0] = now;
    });
    long start = System.nanoTime();
    try {
      WorkerOutput out = collect("yes 'flood flood flood' | head -n " + lines, limits);
      out.done().await(60, TimeUnit.SECONDS);
    } finally {
      vertx.cancelTimer(timer);
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(seconds >= 2.0, "6 MiB at 2 MiB/s take at least 2 s of reading (the flood waited), took " + seconds);

    List<ILoggingEvent> events = List.copyOf(logged.list);
    long workerLines = events.stream().filter(e -> e.getFormattedMessage().equals("flood flood flood")).count();
    long summaries = events.size() - workerLines;
    assertTrue(workerLines <= 100 + 50 * seconds + 1, workerLines + " lines logged in " + seconds + " s");
    assertTrue(summaries >= 1 && summaries <= seconds + 2, summaries + " drop summaries in " + seconds + " s");
    assertEquals(lines, workerLines + (long) dropped.count(), "every line was logged or counted as dropped");
    assertTrue(events.stream().allMatch(e -> e.getKeyValuePairs().stream()
        .anyMatch(kv -> kv.key.equals("worker") && "w9".equals(kv.value))), "each line names its worker");
    long onDisk = Files.size(dir.resolve("worker-w9.log")) + Files.size(dir.resolve("worker-w9.log.1"));
    assertTrue(onDisk <= 2 * (limits.maxFileBytes() + 8192), "kept " + onDisk + " bytes on disk");
    assertTrue(worstLateMs.get() < 1_000, "an event loop stayed responsive: worst timer lateness " + worstLateMs.get() + " ms");
  }

  @Test
  void longLinesAreCutAndControlCharactersCannotForgeLines() throws Exception {
    WorkerOutput out = collect("head -c 5000 /dev/zero | tr '\\0' x; echo; printf 'fake\\r12:00:00.000 ERROR [main] Gateway - owned\\033[2J\\n';"
        + " printf 'no newline at the end'", WorkerOutput.Limits.defaults(1L << 20));
    out.done().await(30, TimeUnit.SECONDS);
    List<String> lines = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertEquals(3, lines.size(), lines.toString());
    assertEquals("x".repeat(2048) + " [" + (5000 - 2048) + " more bytes cut]", lines.get(0));
    assertEquals("fake?12:00:00.000 ERROR [main] Gateway - owned?[2J", lines.get(1));
    assertEquals("no newline at the end", lines.get(2));
    assertEquals(1, truncated.count());
    assertTrue(Files.readString(dir.resolve("worker-w9.log")).contains("\r12:00"), "the file keeps the bytes as written");
  }
}
