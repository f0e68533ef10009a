package io.inferium.engine.gateway;

import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Collects one worker process's output (stdout and stderr, merged) on a thread of its own, so a worker's
 * output never touches an event loop. Every byte read goes to the worker's file under the data dir, rotated
 * in place past {@link Limits#maxFileBytes} ({@code <file>.1} keeps the previous part), for post-mortems and
 * deploy reports. Each line goes to the gateway's log, at the logger {@value #LOGGER} with the key-value
 * {@code worker}, within bounds a hostile or chatty worker cannot move:
 * <ul>
 *   <li>a line is cut at {@link Limits#maxLineBytes} (counted in {@code truncated});
 *   <li>at most {@link Limits#linesPerSecond} lines a second (bursts of {@link Limits#burstLines}) reach the log;
 *       the rest are dropped and counted in {@code dropped}, and a summary line says how many, at most once a second;
 *   <li>at most {@link Limits#readBytesPerSecond} bytes a second are read at all: past it the reader waits, the
 *       pipe fills and the worker blocks on its own writes, so a flood costs the gateway a bounded share of a core
 *       and a bounded amount of disk, and slows only the worker that floods;
 *   <li>control characters are replaced, so a line cannot rewrite a terminal or forge a line of the gateway's own.
 * </ul>
 */
public final class WorkerOutput {

  /** The logger of workers' lines: operators filter or silence worker output by it. */
  public static final String LOGGER = "inferium.worker";
  private static final Logger log = LoggerFactory.getLogger(LOGGER);
  private static final int READ_CHUNK = 8192;

  /** The bounds on one worker's output. */
  public record Limits(int maxLineBytes, int linesPerSecond, int burstLines, long readBytesPerSecond, long maxFileBytes) {
    public static final int DEFAULT_MAX_LINE_BYTES = 2048;
    public static final int DEFAULT_LINES_PER_SECOND = 100;
    public static final int DEFAULT_BURST_LINES = 500;
    public static final long DEFAULT_READ_BYTES_PER_SECOND = 4L << 20;

    /** The defaults, with the file rotated past {@code maxFileBytes}. */
    public static Limits defaults(long maxFileBytes) {
      return new Limits(DEFAULT_MAX_LINE_BYTES, DEFAULT_LINES_PER_SECOND, DEFAULT_BURST_LINES,
          DEFAULT_READ_BYTES_PER_SECOND, maxFileBytes);
    }
  }

  private final String workerId;
  private final InputStream in;
  private final Path file;
  private final Limits limits;
  private final Counter dropped;
  private final Counter truncated;
  private final Promise<Void> done = Promise.promise();

  private OutputStream out;
  private long fileBytes;
  private final byte[] line;
  private int lineLength;
  private long lineCut;
  private double tokens;
  private long refilledNanos = System.nanoTime();
  private long droppedSinceReport;
  private long lastReportNanos = System.nanoTime();

  public WorkerOutput(String workerId, InputStream in, Path file, Limits limits, Counter dropped, Counter truncated) {
    this.workerId = workerId;
    this.in = in;
    this.file = file;
    this.limits = limits;
    this.dropped = dropped;
    this.truncated = truncated;
    this.line = new byte[limits.maxLineBytes()];
    this.tokens = limits.burstLines();
  }

  /** Starts reading on a daemon thread named after the worker; returns this. */
  public WorkerOutput start() {
    Thread t = new Thread(this::run, "inferium-worker-output-" + workerId);
    t.setDaemon(true);
    t.start();
    return this;
  }

  /** Completes when the worker's output ended (it exited and every byte was handled). */
  public Future<Void> done() {
    return done.future();
  }

  private void run() {
    byte[] buf = new byte[READ_CHUNK];
    long windowStart = System.nanoTime();
    long windowBytes = 0;
    try {
      try {
        openFile();
      } catch (IOException e) {
        log.atWarn().addKeyValue("worker", workerId).log("Worker {}: no output file {}: {}", workerId, file, e.toString());
      }
      int n;
      while ((n = in.read(buf)) > 0) {
        write(buf, n);
        for (int i = 0; i < n; i++) {
          byte b = buf[i];
          if (b == '\n') {
            endLine();
          } else if (lineLength < line.length) {
            line[lineLength++] = b;
          } else {
            lineCut++;
          }
        }
        windowBytes += n;
        if (windowBytes >= limits.readBytesPerSecond()) {
          long left = TimeUnit.SECONDS.toNanos(1) - (System.nanoTime() - windowStart);
          if (left > 0) {
            // Backpressure: the pipe fills and the flooding worker waits, not the gateway.
            TimeUnit.NANOSECONDS.sleep(left);
          }
          windowStart = System.nanoTime();
          windowBytes = 0;
        }
      }
      if (lineLength > 0 || lineCut > 0) {
        endLine();
      }
    } catch (IOException e) {
      log.atDebug().addKeyValue("worker", workerId).log("Output of worker {} ended: {}", workerId, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      reportDrops(true);
      closeQuietly();
      done.tryComplete();
    }
  }

  private void endLine() {
    long cut = lineCut;
    int length = lineLength;
    lineLength = 0;
    lineCut = 0;
    long now = System.nanoTime();
    tokens = Math.min(limits.burstLines(), tokens + (now - refilledNanos) * limits.linesPerSecond() / 1e9);
    refilledNanos = now;
    if (tokens < 1) {
      dropped.increment();
      droppedSinceReport++;
      reportDrops(false);
      return;
    }
    tokens--;
    reportDrops(false);
    String text = printable(line, length);
    if (cut > 0) {
      truncated.increment();
      text = text + " [" + cut + " more bytes cut]";
    }
    log.atLevel(levelOf(text)).addKeyValue("worker", workerId).log("{}", text);
  }

  /** A summary of the lines dropped, at most once a second (and once at the end). */
  private void reportDrops(boolean last) {
    long now = System.nanoTime();
    if (droppedSinceReport == 0 || (!last && now - lastReportNanos < TimeUnit.SECONDS.toNanos(1))) {
      return;
    }
    log.atWarn().addKeyValue("worker", workerId).addKeyValue("dropped_lines", droppedSinceReport)
        .log("Worker {}: {} line(s) of output dropped (over {} lines/s; all of it is in {})", workerId, droppedSinceReport,
            limits.linesPerSecond(), file.getFileName());
    droppedSinceReport = 0;
    lastReportNanos = now;
  }

  /** The worker's own level when its line shows one early (its logback pattern), else INFO. */
  private static Level levelOf(String text) {
    int head = Math.min(text.length(), 48);
    String start = text.substring(0, head);
    if (start.contains(" ERROR ")) {
      return Level.ERROR;
    }
    if (start.contains(" WARN ")) {
      return Level.WARN;
    }
    return Level.INFO;
  }

  /** UTF-8, with control characters (a carriage return, escapes) shown as {@code ?}; tabs kept. */
  static String printable(byte[] bytes, int length) {
    String s = new String(bytes, 0, length, StandardCharsets.UTF_8);
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        if (out == null) {
          out = new StringBuilder(s.length()).append(s, 0, i);
        }
        out.append('?');
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? s : out.toString();
  }

  private void openFile() throws IOException {
    out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    fileBytes = Files.size(file);
  }

  /** Appends to the file; a file that cannot be written (a full disk) is given up, never the reading. */
  private void write(byte[] buf, int n) {
    if (out == null) {
      return;
    }
    try {
      out.write(buf, 0, n);
      fileBytes += n;
      if (fileBytes > limits.maxFileBytes()) {
        out.close();
        Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
        openFile();
      }
    } catch (IOException e) {
      log.atWarn().addKeyValue("worker", workerId).log("Worker {}: its output file {} cannot be written, its lines "
          + "go to the log only: {}", workerId, file, e.toString());
      closeFile();
    }
  }

  private void closeFile() {
    try {
      if (out != null) {
        out.close();
      }
    } catch (IOException ignored) {
      // given up
    }
    out = null;
  }

  private void closeQuietly() {
    closeFile();
    try {
      in.close();
    } catch (IOException ignored) {
      // the worker is gone
    }
  }

  /** The last 4 KiB of a file a process wrote (a worker's log, a dump's output), "" when there is none (blocking). */
  static String tail(Path file) throws IOException {
    if (!Files.exists(file)) {
      return "";
    }
    try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file.toFile(), "r")) {
      long len = raf.length();
      int n = (int) Math.min(4096, len);
      byte[] buf = new byte[n];
      raf.seek(len - n);
      raf.readFully(buf);
      return new String(buf, StandardCharsets.UTF_8);
    }
  }
}
