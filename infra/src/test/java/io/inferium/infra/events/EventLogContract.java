package io.inferium.infra.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.infra.testing.Eventually;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link EventLog} promises, written once and run against each implementation (and
 * reusable by other modules from infra's test-jar). A subclass says how to open the log it tests;
 * {@link #open} must reach the same stored log each time it is called.
 */
public abstract class EventLogContract {

  protected static final Duration WAIT = Duration.ofSeconds(60);

  protected Vertx vertx;
  protected String topic;
  private final List<EventLog> opened = new ArrayList<>();

  /** Opens (or reopens) the log under test. */
  protected abstract EventLog create(Vertx vertx);

  protected EventLog open() {
    EventLog log = create(vertx);
    opened.add(log);
    return log;
  }

  @BeforeEach
  void setUpVertx() {
    vertx = Vertx.vertx();
    topic = "contract-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @AfterEach
  void tearDownVertx() throws Exception {
    for (EventLog log : opened) {
      log.close().await(30, TimeUnit.SECONDS);
    }
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  protected static <T> T await(Future<T> f) {
    return Eventually.await(f, WAIT);
  }

  /** Polls until {@code done} holds, failing with {@code what} at the deadline. */
  protected static void eventually(String what, BooleanSupplier done) {
    Eventually.until(what, WAIT, done);
  }

  private static JsonObject event(String key, int seq) {
    return new JsonObject().put("id", key + "-" + seq).put("key", key).put("seq", seq);
  }

  private void appendAll(EventLog log, int from, int to, int keys) throws Exception {
    List<Future<Void>> appends = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String key = "k" + (i % keys);
      appends.add(log.append(topic, key, event(key, i)));
    }
    await(Future.all(appends));
  }

  /** Subscribes from inside a fresh context, as a verticle would. */
  private EventSubscription subscribe(EventLog log, String group, Context on,
      Function<List<LogRecord>, Future<Void>> handler) throws Exception {
    return await(Future.<EventSubscription>future(p -> on.runOnContext(v -> log.subscribe(topic, group, handler)
        .onComplete(p))));
  }

  @Test
  void recordsOfOneKeyArriveInAppendOrderOnTheSubscribersContext() throws Exception {
    EventLog log = open();
    appendAll(log, 0, 300, 3);
    Context ctx = vertx.getOrCreateContext();
    List<LogRecord> got = Collections.synchronizedList(new ArrayList<>());
    List<Context> contexts = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = subscribe(log, "g", ctx, records -> {
      contexts.add(Vertx.currentContext());
      got.addAll(records);
      return Future.succeededFuture();
    });
    eventually("300 records", () -> got.size() >= 300);
    Map<String, Integer> last = new HashMap<>();
    synchronized (got) {
      for (LogRecord r : got) {
        int seq = r.value().getInteger("seq");
        Integer before = last.put(r.key(), seq);
        assertTrue(before == null || before < seq, "key " + r.key() + ": " + seq + " after " + before);
        assertEquals(topic, r.topic());
      }
    }
    assertEquals(300, got.size(), "each record once when every handler succeeds");
    contexts.forEach(c -> assertSame(ctx, c, "handlers run on the subscriber's context"));
    await(sub.close());
  }

  @Test
  void aFailedHandlerGetsTheSameRecordsAgainAndThePositionAdvancesOnlyAfterSuccess() throws Exception {
    EventLog log = open();
    appendAll(log, 0, 20, 1);
    AtomicInteger calls = new AtomicInteger();
    List<List<Integer>> deliveries = Collections.synchronizedList(new ArrayList<>());
    List<Integer> stored = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = subscribe(log, "g", vertx.getOrCreateContext(), records -> {
      List<Integer> seqs = records.stream().map(r -> r.value().getInteger("seq")).toList();
      deliveries.add(seqs);
      if (calls.incrementAndGet() <= 2) {
        return Future.failedFuture("storage is down");
      }
      stored.addAll(seqs);
      return Future.succeededFuture();
    });
    eventually("all 20 stored", () -> stored.size() >= 20);
    assertEquals(0, deliveries.get(0).get(0));
    assertEquals(deliveries.get(0).get(0), deliveries.get(1).get(0), "redelivered from the same record");
    assertEquals(deliveries.get(0).get(0), deliveries.get(2).get(0), "redelivered from the same record");
    assertEquals(20, stored.size(), "nothing skipped, nothing stored twice after success");
    await(sub.close());

    // The failures did not move the group: a restart (new subscription) starts after the stored ones.
    appendAll(log, 20, 25, 1);
    List<Integer> after = Collections.synchronizedList(new ArrayList<>());
    EventSubscription again = subscribe(log, "g", vertx.getOrCreateContext(), records -> {
      records.forEach(r -> after.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    });
    eventually("the 5 new ones", () -> after.size() >= 5);
    assertEquals(List.of(20, 21, 22, 23, 24), List.copyOf(after));
    await(again.close());
  }

  @Test
  void afterCloseAndReopenAGroupResumesFromItsCommittedPosition() throws Exception {
    EventLog first = open();
    appendAll(first, 0, 10, 2);
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = subscribe(first, "g", vertx.getOrCreateContext(), records -> {
      records.forEach(r -> seen.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    });
    eventually("10 records", () -> seen.size() >= 10);
    await(sub.close());
    await(first.close());

    EventLog second = open();
    appendAll(second, 10, 15, 2);
    List<Integer> resumed = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub2 = subscribe(second, "g", vertx.getOrCreateContext(), records -> {
      records.forEach(r -> resumed.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    });
    eventually("the 5 appended after reopening", () -> resumed.size() >= 5);
    assertEquals(List.of(10, 11, 12, 13, 14), List.copyOf(resumed).stream().sorted().toList());
    assertEquals(5, resumed.size(), "nothing committed before the restart comes again");
    await(sub2.close());
  }

  @Test
  void twoGroupsConsumeIndependently() throws Exception {
    EventLog log = open();
    appendAll(log, 0, 50, 5);
    List<Integer> a = Collections.synchronizedList(new ArrayList<>());
    List<Integer> b = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger bCalls = new AtomicInteger();
    EventSubscription sa = subscribe(log, "a", vertx.getOrCreateContext(), records -> {
      records.forEach(r -> a.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    });
    EventSubscription sb = subscribe(log, "b", vertx.getOrCreateContext(), records -> {
      if (bCalls.incrementAndGet() == 1) {
        return Future.failedFuture("b is slow to start");
      }
      records.forEach(r -> b.add(r.value().getInteger("seq")));
      return Future.succeededFuture();
    });
    eventually("both groups saw all 50", () -> a.size() >= 50 && b.size() >= 50);
    assertEquals(50, a.size(), "a is unaffected by b's failure");
    assertEquals(50, b.size());
    assertEquals(List.copyOf(a).stream().sorted().toList(), List.copyOf(b).stream().sorted().toList());
    await(sa.close());
    await(sb.close());
  }

  @Test
  void anAcknowledgedAppendIsReadableThroughAnotherInstanceOfTheLog() throws Exception {
    EventLog writer = open();
    await(writer.append(topic, "k", event("k", 1)));
    // A separate instance (its own files handles or connections) reads what the first acknowledged.
    EventLog reader = open();
    List<LogRecord> got = Collections.synchronizedList(new ArrayList<>());
    EventSubscription sub = subscribe(reader, "fresh-group", vertx.getOrCreateContext(), records -> {
      got.addAll(records);
      return Future.succeededFuture();
    });
    eventually("the acknowledged event", () -> !got.isEmpty());
    assertEquals("k-1", got.get(0).value().getString("id"));
    await(sub.close());
  }

  @Test
  void aSlowHandlerGetsOneBoundedBatchAtATime() throws Exception {
    EventLog log = open();
    appendAll(log, 0, 1500, 4);
    AtomicInteger inHandler = new AtomicInteger();
    AtomicInteger maxConcurrent = new AtomicInteger();
    AtomicInteger maxBatch = new AtomicInteger();
    AtomicInteger total = new AtomicInteger();
    EventSubscription sub = subscribe(log, "slow", vertx.getOrCreateContext(), records -> {
      maxConcurrent.accumulateAndGet(inHandler.incrementAndGet(), Math::max);
      maxBatch.accumulateAndGet(records.size(), Math::max);
      return Future.<Void>future(p -> vertx.setTimer(30, id -> {
        inHandler.decrementAndGet();
        total.addAndGet(records.size());
        p.complete();
      }));
    });
    eventually("all 1500 handled", () -> total.get() >= 1500);
    assertEquals(1, maxConcurrent.get(), "no batch is handed out before the previous one is done");
    assertTrue(maxBatch.get() <= 500, "a batch holds at most 500 records, got " + maxBatch.get());
    eventually("lag falls to zero", () -> sub.lag() == 0);
    await(sub.close());
  }
}
