package io.inferium.infra.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.events.impl.LocalEventLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalEventLogTest extends EventLogContract {

  @TempDir
  Path dir;

  @Override
  protected EventLog create(Vertx vertx) {
    return EventLog.local(vertx, dir, new SimpleMeterRegistry());
  }

  @Test
  void aStoredLineIsTheKeyAndTheEventsOwnBytesReadableAsBefore() {
    JsonObject event = new JsonObject().put("id", "e\"1").put("data", new JsonObject().put("n", 3).put("s", "\u00e9\n"));
    for (String key : new String[] {"plain-key", "a \"quoted\" \\ key\u2028", null}) {
      io.vertx.core.buffer.Buffer line = LocalEventLog.line(key, event.toBuffer());
      assertEquals(new JsonObject().put("k", key).put("v", event), new JsonObject(line), String.valueOf(key));
      assertEquals(new JsonObject().put("k", key).put("v", event).encode(), line.toString(), "the same bytes as before");
    }
  }

  @Test
  void aTopicOrGroupThatIsNoPlainFileNameIsRefusedBeforeAndAfterOthersExist() {
    EventLog log = open();
    String[] bad = {"a/b", "..", ".", "", "x".repeat(201), null};
    for (String name : bad) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> log.append(name, "k", new JsonObject()), String.valueOf(name));
      assertTrue(e.getMessage().startsWith("topic must match"), e.getMessage());
    }
    // Appends to a known topic skip the pattern: a new name is still matched once one exists.
    await(log.append(topic, "k", new JsonObject().put("seq", 1)));
    await(log.append(topic, "k", new JsonObject().put("seq", 2)));
    for (String name : bad) {
      org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> log.append(name, "k", new JsonObject()), String.valueOf(name));
      org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> log.subscribe(topic, name, records -> Future.succeededFuture()), String.valueOf(name));
    }
    assertTrue(Files.isDirectory(dir.resolve(topic)));
    assertEquals(List.of(topic), List.of(dir.toFile().list()), "only the one topic's directory");
  }

  @Test
  void fullyConsumedSegmentsAreDeletedAndATornLastLineIsDropped() throws Exception {
    LocalEventLog log = new LocalEventLog(vertx, dir, new SimpleMeterRegistry(), 1024, 1000);
    for (int i = 0; i < 100; i++) {
      // One at a time: a segment rotates between write batches, and each append is its own batch here.
      await(log.append(topic, "k", new JsonObject().put("seq", i)));
    }
    assertTrue(await(log.segments(topic)) >= 2, "small segments rotate");
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = await(log.subscribe(topic, "g", records -> {
      records.forEach(r -> seen.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    }));
    eventually("100 records", () -> seen.size() >= 100);
    eventually("consumed segments removed", () -> {
      try {
        return await(log.segments(topic)) == 1;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await(sub.close());
    await(log.close());

    // A crash mid-write leaves half a line at the end: it is cut off, later appends follow on.
    Path last;
    try (var files = Files.list(dir.resolve(topic))) {
      last = files.filter(p -> p.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
    }
    Files.writeString(last, "{\"k\":\"k\",\"v\":{\"seq\":", StandardOpenOption.APPEND);
    EventLog reopened = open();
    await(reopened.append(topic, "k", new JsonObject().put("seq", 100)));
    List<Integer> after = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub2 = await(reopened.subscribe(topic, "g", records -> {
      records.forEach(r -> after.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    }));
    eventually("the record appended after recovery", () -> !after.isEmpty());
    assertEquals(List.of(100), List.copyOf(after));
    await(sub2.close());
  }

  @Test
  void anOffsetFileTornByACrashMeansRedeliveryNotAFailedOpen() throws Exception {
    EventLog first = open();
    for (int i = 0; i < 5; i++) {
      await(first.append(topic, "k", new JsonObject().put("seq", i)));
    }
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = await(first.subscribe(topic, "g", records -> {
      records.forEach(r -> seen.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    }));
    eventually("5 records", () -> seen.size() >= 5);
    await(sub.close());
    await(first.close());
    Path offset = dir.resolve(topic).resolve("groups").resolve("g.offset");
    assertEquals("00000000000000000005 00000000000000000005", Files.readString(offset),
        "the position, fixed width, twice, forced at close");

    // Commits between two forces may be lost in a crash: a half-written file, or one whose two copies disagree
    // (a torn write that mixed an old and a new position) is no commit, and the group (idempotent on the event
    // id, as every consumer must be) reads again from the oldest record, never past one it did not handle.
    Files.writeString(offset, "00000000000000000009 00000000000000000005");
    EventLog reopened = open();
    List<Integer> again = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub2 = await(reopened.subscribe(topic, "g", records -> {
      records.forEach(r -> again.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    }));
    eventually("all 5 again", () -> again.size() >= 5);
    assertEquals(List.of(0, 1, 2, 3, 4), List.copyOf(again));
    await(sub2.close());
    await(reopened.close());

    // A position written before this format (decimal, any width) still counts.
    Files.writeString(offset, "3\n");
    EventLog older = open();
    List<Integer> resumed = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub3 = await(older.subscribe(topic, "g", records -> {
      records.forEach(r -> resumed.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    }));
    eventually("records 3 and 4", () -> resumed.size() >= 2);
    assertEquals(List.of(3, 4), List.copyOf(resumed));
    await(sub3.close());
  }

  @Test
  void aTopicNoGroupConsumesKeepsOnlyItsRetention() throws Exception {
    LocalEventLog log = new LocalEventLog(vertx, dir, new SimpleMeterRegistry(), 512, 1000, 2048);
    for (int i = 0; i < 300; i++) {
      await(log.append(topic, "k", new JsonObject().put("seq", i)));
    }
    long bytes;
    try (var files = Files.list(dir.resolve(topic))) {
      bytes = files.filter(p -> p.toString().endsWith(".log")).mapToLong(p -> p.toFile().length()).sum();
    }
    assertTrue(bytes <= 2048 + 512 + 64, "about 2 KiB kept of ~7 KiB written, got " + bytes);
    // What is kept is the newest: a new group starts at the oldest kept record and reads to the end.
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = await(log.subscribe(topic, "late", records -> {
      records.forEach(r -> seen.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    }));
    eventually("the newest record", () -> seen.contains(299));
    assertTrue(seen.get(0) > 0, "the oldest records were dropped");
    for (int i = 1; i < seen.size(); i++) {
      assertEquals(seen.get(i - 1) + 1, seen.get(i), "kept records are contiguous");
    }
    await(sub.close());
    await(log.close());
  }

  @Test
  void appendsBeyondTheQueueBoundFailFast() throws Exception {
    LocalEventLog log = new LocalEventLog(vertx, dir, new SimpleMeterRegistry(), 1 << 20, 10);
    List<Future<Void>> appends = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      appends.add(log.append(topic, "k", new JsonObject().put("seq", i)));
    }
    Future.join(appends).otherwiseEmpty().await(30, TimeUnit.SECONDS);
    long refused = appends.stream().filter(Future::failed).count();
    assertTrue(refused > 0, "a burst of 200 against a queue of 10 is partly refused");
    appends.stream().filter(Future::failed)
        .forEach(f -> assertInstanceOf(EventLogFullException.class, f.cause()));
    await(log.close());
  }

  @Test
  void groupsReadingTheSameRecordsShareOneParse() throws Exception {
    EventLog log = open();
    for (int i = 0; i < 50; i++) {
      await(log.append(topic, "k" + i, new JsonObject().put("seq", i)));
    }
    List<LogRecord> first = Collections.synchronizedList(new ArrayList<>());
    List<LogRecord> second = Collections.synchronizedList(new ArrayList<>());
    EventSubscription a = await(log.subscribe(topic, "a", records -> {
      first.addAll(records);
      return Future.succeededFuture();
    }));
    eventually("group a reads 50", () -> first.size() >= 50);
    EventSubscription b = await(log.subscribe(topic, "b", records -> {
      second.addAll(records);
      return Future.succeededFuture();
    }));
    eventually("group b reads 50", () -> second.size() >= 50);
    for (int i = 0; i < 50; i++) {
      assertEquals(i, second.get(i).value().getInteger("seq"));
      assertEquals("k" + i, second.get(i).key());
      assertSame(first.get(i), second.get(i), "record " + i + " was parsed once for both groups");
    }
    await(a.close());
    await(b.close());
  }

  @Test
  void aCrashImageWithZerosWrittenAheadAndATornLineKeepsOnlyWholeRecords() throws Exception {
    LocalEventLog log = new LocalEventLog(vertx, dir, new SimpleMeterRegistry(), 1 << 20, 1000);
    for (int i = 0; i < 5; i++) {
      await(log.append(topic, "k", new JsonObject().put("seq", i)));
    }
    Path segment = dir.resolve(topic).resolve(String.format("%020d.log", 0));
    byte[] records = Files.readAllBytes(segment);
    int end = 0;
    while (end < records.length && records[end] != 0) {
      end++;
    }
    assertEquals(5, new String(records, 0, end).split("\n").length, "five records, then zeros");
    assertTrue(records.length > end + 4096, "blocks written ahead of the records: " + records.length + " bytes for " + end);

    // The image a machine crash could leave while the log is open (this one is never closed): the records, the zeros
    // written ahead, a torn line in them, and stale bytes further on (a later page that reached the disk before an
    // earlier one). Only whole lines before the first zero count, and nothing stale may follow a later record.
    Path crashed = dir.resolveSibling(dir.getFileName() + "-crashed");
    Files.createDirectories(crashed.resolve(topic));
    byte[] image = records.clone();
    byte[] torn = "{\"k\":\"k\",\"v\":{\"seq\":9".getBytes();
    System.arraycopy(torn, 0, image, end, torn.length);
    byte[] stale = "0}}\n{\"k\":\"k\",\"v\":{\"seq\":77}}\n".getBytes();
    System.arraycopy(stale, 0, image, end + 2048, stale.length);
    Files.write(crashed.resolve(topic).resolve(segment.getFileName()), image);
    LocalEventLog reopened = new LocalEventLog(vertx, crashed, new SimpleMeterRegistry(), 1 << 20, 1000);
    try {
      await(reopened.append(topic, "k", new JsonObject().put("seq", 5)));
      List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
      EventSubscription sub = await(reopened.subscribe(topic, "g", batch -> {
        batch.forEach(r -> seen.add(r.value().getInteger("seq")));
        return Future.succeededFuture();
      }));
      eventually("six records", () -> seen.size() >= 6);
      await(sub.close());
      assertEquals(List.of(0, 1, 2, 3, 4, 5), List.copyOf(seen));
    } finally {
      await(reopened.close());
    }
    // Closed cleanly, the segment holds exactly its records.
    List<String> lines = Files.readAllLines(crashed.resolve(topic).resolve(segment.getFileName()));
    assertEquals(6, lines.size(), "no zeros or stale bytes after a clean close: " + lines);
  }

  @Test
  void appendsArrivingDenselyShareFsyncsAndALoneAppendIsWrittenAlone() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    LocalEventLog log = new LocalEventLog(vertx, dir, registry, 1 << 20, 10_000);
    // One at a time, each awaited: nothing else arrives to share its fsync, so each is its own write.
    for (int i = 0; i < 20; i++) {
      await(log.append(topic, "k", new JsonObject().put("seq", i)));
    }
    assertEquals(20.0, registry.get("inferium.events.syncs").counter().count(), "one fsync per lone append");

    // 400 appends about 20 µs apart from one thread (far closer than an fsync takes, on any disk or tmpfs):
    // they gather into shared writes, and every one completes, in order.
    List<Future<Void>> appends = new ArrayList<>();
    for (int i = 20; i < 420; i++) {
      appends.add(log.append(topic, "k", new JsonObject().put("seq", i)));
      long until = System.nanoTime() + 20_000;
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
    }
    await(Future.all(appends));
    double syncs = registry.get("inferium.events.syncs").counter().count() - 20;
    assertTrue(syncs <= 200, "400 dense appends took " + syncs + " fsyncs");
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = await(log.subscribe(topic, "g", batch -> {
      batch.forEach(r -> seen.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    }));
    eventually("420 records", () -> seen.size() >= 420);
    await(sub.close());
    for (int i = 0; i < 420; i++) {
      assertEquals(i, seen.get(i));
    }
    await(log.close());
  }
}
