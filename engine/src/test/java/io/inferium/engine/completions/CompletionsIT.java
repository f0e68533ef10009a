package io.inferium.engine.completions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.CompletionEvent;
import io.inferium.infra.Database;
import io.inferium.infra.testing.MigratedDatabase;
import io.inferium.infra.events.EventLog;
import io.inferium.scoring.UsageMeter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompletionsIT {

  @TempDir
  Path dir;

  private static CompletionEvent event(String id, long charge) {
    return CompletionEvent.builder(id, "f", 1, "dev", "ab12").tenant("acme").endpoint("v2.infer", "request")
        .worker("w-1").charge(1, 1500, charge).build();
  }

  @Test
  void emitCompletesWhenTheEventIsDurableAndSaysUnbilledWhenItCannotBeWritten() throws Exception {
    try (MigratedDatabase db = MigratedDatabase.open()) {
      Vertx vertx = db.vertx();
      Database database = db.database();
      EventLog events = EventLog.local(vertx, dir.resolve("events"), new SimpleMeterRegistry());
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      UsageMeter meter = new UsageMeter(vertx, database.pool(), events, registry);
      Completions completions = new Completions(vertx, events, meter, registry);
      meter.start().await(10, TimeUnit.SECONDS);
      assertTrue(completions.emit(event("durable", 5)).await(10, TimeUnit.SECONDS), "durable in the log");
      meter.flush().await(10, TimeUnit.SECONDS);
      assertEquals(5.0, registry.counter("inferium.billed.micro.usd", "function", "f").count());
      // Large content is hashed off the event loop, and the append continues on the caller's context.
      java.util.List<Boolean> onWorker = new java.util.concurrent.CopyOnWriteArrayList<>();
      Digests big = new Digests(Completions.INLINE_DIGEST_BYTES + 1, () -> {
        onWorker.add(io.vertx.core.Context.isOnWorkerThread());
        return "in";
      }, () -> "out");
      io.vertx.core.Context ctx = vertx.getOrCreateContext();
      io.vertx.core.Promise<Boolean> sameContext = io.vertx.core.Promise.promise();
      ctx.runOnContext(v -> completions.emit(CompletionEvent.builder("big", "f", 1, "dev", "ab12").tenant("acme")
          .endpoint("v2.infer", "request").charge(1, 1, 1), big)
          .onComplete(ar -> sameContext.complete(ar.succeeded() && ar.result() && vertx.getOrCreateContext() == ctx)));
      assertTrue(sameContext.future().await(10, TimeUnit.SECONDS), "billed, and back on the caller's context");
      assertEquals(java.util.List.of(true), onWorker);
      java.util.List<io.vertx.core.json.JsonObject> appended = new java.util.concurrent.CopyOnWriteArrayList<>();
      var peek = events.subscribe(EventLog.COMPLETIONS, "peek", records -> {
        records.forEach(r -> appended.add(r.value()));
        return io.vertx.core.Future.succeededFuture();
      }).await(10, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (appended.stream().noneMatch(e -> "big".equals(e.getString("id")))) {
        assertTrue(System.nanoTime() < deadline, "the event 'big' was not appended");
        Thread.sleep(20);
      }
      CompletionEvent read = CompletionEvent.fromJson(appended.stream().filter(e -> "big".equals(e.getString("id")))
          .findFirst().orElseThrow());
      assertEquals("in", read.inputSha256());
      assertEquals("out", read.outputSha256());
      peek.close().await(10, TimeUnit.SECONDS);
      meter.flush().await(10, TimeUnit.SECONDS);
      meter.stop().await(10, TimeUnit.SECONDS);
      // A log that cannot take the event (closed here; full or failing disk alike): unbilled, counted, nothing kept.
      events.close().await(10, TimeUnit.SECONDS);
      assertFalse(completions.emit(event("lost", 7)).await(10, TimeUnit.SECONDS));
      assertEquals(1.0, registry.counter("inferium.usage.unbilled").count());
      assertEquals(0, meter.pendingCount(), "no event waits in memory for a retry");
      var acme = meter.summary("acme", false, Instant.now().minusSeconds(60), Instant.now().plusSeconds(60), "function")
          .await(10, TimeUnit.SECONDS);
      assertEquals(2, acme.getLong("requests"), "durable and big, not lost");
      assertEquals(6, acme.getLong("charge_micro_usd"));
    }
  }
}
