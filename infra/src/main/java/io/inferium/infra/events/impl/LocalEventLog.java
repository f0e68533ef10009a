package io.inferium.infra.events.impl;

import io.inferium.infra.events.EventLog;
import io.inferium.infra.events.EventLogFullException;
import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The single-machine event log: one directory of segment files per topic under {@code dir}.
 *
 * <p>Durability: appends wait in a bounded queue; one I/O thread writes everything queued and
 * forces it to disk ({@code fsync}) once per batch, then completes those appends (group commit).
 * So an acknowledged event survives a process or machine crash, and a burst costs one fsync. While appends
 * arrive faster than one per half {@link #GATHER_NANOS} (a moving average of their gaps), the thread waits
 * until the oldest queued append is that old (or the expected number have arrived) before it writes, so one
 * fsync covers several requests; appends that come one at a time (one request in flight) never wait.
 *
 * <p>All file work runs on that one thread (a single-thread worker executor), in order; handlers
 * and append results run on the caller's context.
 */
public final class LocalEventLog implements EventLog {

  public static final long DEFAULT_SEGMENT_BYTES = 16L << 20;
  public static final int DEFAULT_MAX_QUEUED = 50_000;
  /** What a topic without any committing group keeps (newest segments). */
  public static final long DEFAULT_UNCONSUMED_RETENTION_BYTES = 256L << 20;
  static final int MAX_BATCH = 500;
  /**
   * How long a group waits after a batch shorter than {@link #MAX_BATCH} before reading again: what a consumer
   * lags behind at most on top of its handler (billing's flush waits for it), for batches several times larger
   * under load (fewer transactions, commits and fsyncs per event). 100 ms: against 20, a streaming gateway's event
   * loop spent a fifth less per token (docs/BENCHMARKS.md "Fourteenth session"), the consumers' rounds being a
   * request's largest fixed cost there. System property {@code inferium.events.lingerMs} (0: read again at once)
   * exists to measure what it saves.
   */
  static final long LINGER_MS = Long.getLong("inferium.events.lingerMs", 100);
  /**
   * The longest an append waits for others to share its fsync (group commit window), in nanoseconds; 0: never
   * waits. Only while appends arrive less than half of it apart on average, so a lone request pays nothing, and
   * counted from the oldest queued append's arrival, so time spent behind the previous fsync counts towards it.
   * System property {@code inferium.events.gatherMicros}.
   */
  static final long GATHER_NANOS = Long.getLong("inferium.events.gatherMicros", 300) * 1_000;
  static final long MIN_BACKOFF_MS = 50;
  static final long MAX_BACKOFF_MS = 2_000;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");
  private static final byte[] LINE_KEY = "{\"k\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LINE_VALUE = ",\"v\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

  private record Pending(String topic, Buffer line, Promise<Void> promise, Context context, long at) {
  }

  private final Vertx vertx;
  private final Path dir;
  private final long segmentBytes;
  private final int maxQueued;
  private final long unconsumedRetentionBytes;
  private final EventLogMeters meters;
  private final WorkerExecutor io;
  private final MeterRegistry registry;
  private final Gauge queuedGauge;
  private final Map<String, LocalTopic> topics = new ConcurrentHashMap<>();
  private final List<LocalSubscription> subscriptions = new CopyOnWriteArrayList<>();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean writing;
  /** Moving average (1/8 weight per append) of the gaps between appends, each gap capped: under the queue's lock. */
  private long gapNanos = 4 * GATHER_NANOS;
  private long lastAppendNanos;
  /** The I/O thread while it waits for more appends to share an fsync, and how many it waits for. */
  private Thread gatherer;
  private int gatherFor;
  private volatile boolean closed;
  private Future<Void> closing;

  public LocalEventLog(Vertx vertx, Path dir, MeterRegistry registry, long segmentBytes, int maxQueued) {
    this(vertx, dir, registry, segmentBytes, maxQueued, DEFAULT_UNCONSUMED_RETENTION_BYTES);
  }

  public LocalEventLog(Vertx vertx, Path dir, MeterRegistry registry, long segmentBytes, int maxQueued,
      long unconsumedRetentionBytes) {
    this.unconsumedRetentionBytes = unconsumedRetentionBytes;
    this.vertx = vertx;
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.maxQueued = maxQueued;
    this.meters = new EventLogMeters(registry, "local");
    this.io = vertx.createSharedWorkerExecutor("inferium-events-" + Integer.toHexString(System.identityHashCode(this)), 1);
    this.queuedGauge = Gauge.builder("inferium.events.queued", this, LocalEventLog::queued)
        .description("Appends waiting to be written to the local event log").register(registry);
    this.registry = registry;
  }

  @Override
  public String description() {
    return "local files under " + dir;
  }

  synchronized int queued() {
    return queue.size();
  }

  private static void checkName(String what, String name) {
    // "." and ".." match the pattern but name a directory that is not the topic's own (dir.resolve("..")).
    if (name == null || !NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException(what + " must match " + NAME.pattern() + " and not be . or .., got '" + name
          + "'");
    }
  }

  /** Runs file work on the I/O thread; callers are on a Vert.x context or a plain thread. */
  <T> Future<T> onIo(java.util.concurrent.Callable<T> work) {
    return io.executeBlocking(work, true);
  }

  LocalTopic topic(String name) throws IOException {
    LocalTopic t = topics.get(name);
    if (t == null) {
      Path d = dir.resolve(name);
      Files.createDirectories(d);
      t = LocalTopic.open(name, d, segmentBytes, unconsumedRetentionBytes);
      topics.put(name, t);
    }
    return t;
  }

  @Override
  public Future<Void> append(String topic, String key, Buffer json) {
    // Every name in topics passed checkName on its way in (an append or a subscribe): only a new one is matched.
    if (topic == null || !topics.containsKey(topic)) {
      checkName("topic", topic);
    }
    if (closed) {
      meters.appendFailed(topic);
      return Future.failedFuture(new IllegalStateException("event log is closed"));
    }
    Buffer line = line(key, json);
    if (line.length() > LocalTopic.MAX_RECORD_BYTES) {
      meters.appendFailed(topic);
      return Future.failedFuture(new IllegalArgumentException("event of " + line.length() + " bytes is over the "
          + LocalTopic.MAX_RECORD_BYTES + "-byte limit"));
    }
    Promise<Void> promise = Promise.promise();
    Context context = vertx.getOrCreateContext();
    long now = System.nanoTime();
    boolean start;
    Thread wake = null;
    synchronized (this) {
      if (queue.size() >= maxQueued) {
        meters.appendFailed(topic);
        return Future.failedFuture(new EventLogFullException(queue.size() + " appends already wait to be written"));
      }
      queue.add(new Pending(topic, line, promise, context, now));
      long gap = Math.min(now - lastAppendNanos, 4 * GATHER_NANOS);
      lastAppendNanos = now;
      gapNanos += (gap - gapNanos) / 8;
      start = !writing;
      writing = true;
      if (gatherer != null && queue.size() >= gatherFor) {
        wake = gatherer;
        gatherer = null;
      }
    }
    if (start) {
      io.executeBlocking(this::writeQueued, true);
    }
    if (wake != null) {
      LockSupport.unpark(wake);
    }
    return promise.future();
  }

  /**
   * On the I/O thread, while appends arrive densely: waits (parked, never past the window counted from the oldest
   * queued append) until as many appends as the recent rate promises for the window are queued.
   */
  private void gather() {
    if (GATHER_NANOS <= 0 || closed) {
      return;
    }
    long deadline;
    synchronized (this) {
      if (queue.isEmpty() || gapNanos * 2 > GATHER_NANOS) {
        return;
      }
      deadline = queue.peekFirst().at() + GATHER_NANOS;
      gatherFor = (int) Math.min(MAX_BATCH, 1 + GATHER_NANOS / Math.max(1, gapNanos));
      if (queue.size() >= gatherFor) {
        return;
      }
      gatherer = Thread.currentThread();
    }
    while (true) {
      long left = deadline - System.nanoTime();
      synchronized (this) {
        if (gatherer == null || left <= 0 || closed) {
          gatherer = null;
          return;
        }
      }
      LockSupport.parkNanos(this, left);
    }
  }

  /** On the I/O thread: writes what is queued, one fsync per topic per round, until the queue is empty. */
  /** The stored line of one event: {@code {"k": key, "v": event}}, the event's bytes as given (not parsed again). */
  public static Buffer line(String key, Buffer json) {
    byte[] k = key == null ? NULL : Json.encode(key).getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer(json.length() + k.length + 12).appendBytes(LINE_KEY).appendBytes(k).appendBytes(LINE_VALUE)
        .appendBuffer(json).appendByte((byte) '}');
  }

  private Void writeQueued() {
    while (true) {
      gather();
      List<Pending> batch;
      synchronized (this) {
        if (queue.isEmpty()) {
          writing = false;
          return null;
        }
        batch = new ArrayList<>(queue);
        queue.clear();
      }
      Map<String, List<Pending>> byTopic = new LinkedHashMap<>();
      for (Pending p : batch) {
        byTopic.computeIfAbsent(p.topic(), k -> new ArrayList<>()).add(p);
      }
      byTopic.forEach((name, pendings) -> {
        Throwable failure = null;
        try {
          topic(name).write(pendings.stream().map(Pending::line).toList());
        } catch (IOException | RuntimeException e) {
          failure = e;
        }
        Throwable f = failure;
        // One task per context for the whole batch (usually all appends came from the one HTTP event loop),
        // not one per append: fewer cross-thread wake-ups under load.
        Map<Context, List<Promise<Void>>> byContext = new LinkedHashMap<>();
        if (f == null) {
          meters.appended(name, pendings.size());
          meters.synced();
        }
        for (Pending p : pendings) {
          if (f != null) {
            meters.appendFailed(name);
          }
          byContext.computeIfAbsent(p.context(), k -> new ArrayList<>()).add(p.promise());
        }
        byContext.forEach((context, promises) -> context.runOnContext(v -> {
          for (Promise<Void> promise : promises) {
            if (f == null) {
              promise.complete();
            } else {
              promise.fail(f);
            }
          }
        }));
        if (failure == null) {
          for (LocalSubscription s : subscriptions) {
            if (s.topic.equals(name)) {
              s.signal();
            }
          }
        }
      });
    }
  }

  @Override
  public Future<EventSubscription> subscribe(String topic, String group,
      Function<List<LogRecord>, Future<Void>> handler) {
    checkName("topic", topic);
    checkName("group", group);
    if (closed) {
      return Future.failedFuture(new IllegalStateException("event log is closed"));
    }
    for (LocalSubscription s : subscriptions) {
      if (s.topic.equals(topic) && s.group.equals(group)) {
        return Future.failedFuture(new IllegalStateException("group " + group + " already consumes " + topic + " here"));
      }
    }
    Context context = vertx.getOrCreateContext();
    LocalSubscription s = new LocalSubscription(this, context, topic, group, handler);
    subscriptions.add(s);
    return onIo(() -> {
      LocalTopic t = topic(topic);
      Long c = t.committed(group);
      return c == null ? 0L : c;
    }).map(committed -> {
      s.start(committed);
      meters.lag(topic, group, s);
      return (EventSubscription) s;
    }).onFailure(err -> subscriptions.remove(s));
  }

  LocalTopic topicIfOpen(String name) {
    return topics.get(name);
  }

  void removed(LocalSubscription s) {
    subscriptions.remove(s);
    meters.unregisterLag(s.topic, s.group);
  }

  EventLogMeters meters() {
    return meters;
  }

  Vertx vertx() {
    return vertx;
  }

  /** Segment files a topic currently keeps (for tests of cleanup). */
  public Future<Integer> segments(String topic) {
    return onIo(() -> topic(topic).segmentCount());
  }

  @Override
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    closed = true;
    registry.remove(queuedGauge);
    List<Future<Void>> stops = new ArrayList<>();
    for (LocalSubscription s : subscriptions) {
      stops.add(s.close());
    }
    closing = Future.join(stops)
        .transform(ar -> onIo(() -> {
          // The queue is written out before the files close: accepted appends are not lost.
          writeQueued();
          for (LocalTopic t : topics.values()) {
            t.close();
          }
          return null;
        }))
        .eventually(() -> io.close())
        .mapEmpty();
    return closing;
  }
}
