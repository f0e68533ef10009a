package io.inferium.engine.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.failure.NoWorkerAvailable;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The benchmark request window: bounded in flight, answers in order on one context, busy answers retried. */
@ExtendWith(VertxExtension.class)
class RequestWindowTest {

  @Test
  void neverMoreThanTheWindowInFlightAndAnswersInOrder(Vertx vertx, VertxTestContext test) {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    List<Context> contexts = new ArrayList<>();
    vertx.runOnContext(v -> {
      Context mine = vertx.getOrCreateContext();
      RequestWindow.run(vertx, 10, 3, i -> {
        contexts.add(Vertx.currentContext());
        most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        Promise<Integer> p = Promise.promise();
        // Later requests answer sooner, so completion order differs from request order.
        vertx.setTimer(1 + 10 - i, t -> {
          inFlight.decrementAndGet();
          p.complete(i * i);
        });
        return p.future();
      }).onComplete(test.succeeding(answers -> test.verify(() -> {
        assertEquals(List.of(0, 1, 4, 9, 16, 25, 36, 49, 64, 81), answers);
        assertEquals(3, most.get());
        assertTrue(contexts.stream().allMatch(c -> c == mine), "every request goes out on the caller's context");
        test.completeNow();
      })));
    });
  }

  @Test
  void aFailureEndsTheRunAndBusyAnswersAreRetried(Vertx vertx, VertxTestContext test) {
    AtomicInteger tries = new AtomicInteger();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    RequestWindow.whenFree(vertx, () -> tries.incrementAndGet() < 3
            ? Future.<String>failedFuture(new NoWorkerAvailable("busy")) : Future.succeededFuture("ok"), deadline)
        .compose(ok -> {
          test.verify(() -> assertEquals(3, tries.get()));
          return RequestWindow.run(vertx, 5, 2, i -> i == 1 ? Future.failedFuture(new IllegalStateException("row 2"))
              : Future.succeededFuture(i));
        })
        .onComplete(test.failing(err -> test.verify(() -> {
          assertEquals("row 2", err.getMessage());
          test.completeNow();
        })));
  }
}
