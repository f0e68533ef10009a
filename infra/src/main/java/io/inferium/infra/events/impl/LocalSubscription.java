package io.inferium.infra.events.impl;

import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A group reading one local topic: reads a batch on the I/O thread, hands it to the handler on the
 * subscriber's context, commits after the handler's future succeeds, then reads on. Only one batch
 * is ever in memory, so a slow handler simply leaves records on disk.
 */
final class LocalSubscription implements EventSubscription {

  private static final Logger log = LoggerFactory.getLogger(LocalSubscription.class);

  final String topic;
  final String group;
  private final LocalEventLog owner;
  private final Context context;
  private final Function<List<LogRecord>, Future<Void>> handler;
  // Everything below is touched only on the subscriber's context.
  private long committedOffset;
  private volatile long committedForLag;
  private LocalTopic.Cursor cursor;
  private boolean started;
  private boolean busy;
  /** A short batch was just handled: reads wait {@link LocalEventLog#LINGER_MS} so the next batch is larger. */
  private boolean lingering;
  private boolean closed;
  private long signals;
  private long backoffMs;
  private Promise<Void> idle;

  LocalSubscription(LocalEventLog owner, Context context, String topic, String group,
      Function<List<LogRecord>, Future<Void>> handler) {
    this.owner = owner;
    this.context = context;
    this.topic = topic;
    this.group = group;
    this.handler = handler;
  }

  void start(long committed) {
    context.runOnContext(v -> {
      committedOffset = committed;
      committedForLag = committed;
      started = true;
      pump();
    });
  }

  /** Called from the I/O thread after an append to this topic. */
  void signal() {
    context.runOnContext(v -> {
      signals++;
      pump();
    });
  }

  @Override
  public long lag() {
    LocalTopic t = owner.topicIfOpen(topic);
    return t == null ? 0 : Math.max(0, t.nextOffset() - committedForLag);
  }

  private void pump() {
    // A signal from an append can arrive before the committed position is known: wait for start().
    if (!started || busy || lingering || closed) {
      return;
    }
    busy = true;
    long seenSignals = signals;
    LocalTopic.Cursor from = cursor;
    long committed = committedOffset;
    owner.onIo(() -> {
      LocalTopic t = owner.topic(topic);
      LocalTopic.Cursor c = from != null ? from : t.locate(committed);
      List<LogRecord> records = new ArrayList<>();
      LocalTopic.Cursor next = t.read(c, LocalEventLog.MAX_BATCH, records, true);
      return new Object[] {records, next};
    }).onComplete(ar -> {
      if (ar.failed()) {
        retryLater(ar.cause());
        return;
      }
      @SuppressWarnings("unchecked")
      List<LogRecord> records = (List<LogRecord>) ar.result()[0];
      LocalTopic.Cursor next = (LocalTopic.Cursor) ar.result()[1];
      if (records.isEmpty()) {
        cursor = next;
        done();
        if (signals != seenSignals) {
          pump();
        }
        return;
      }
      long last = records.get(records.size() - 1).offset();
      Future<Void> handled;
      try {
        handled = handler.apply(records);
      } catch (RuntimeException e) {
        handled = Future.failedFuture(e);
      }
      handled
          .compose(v -> owner.onIo(() -> {
            owner.topic(topic).commit(group, last + 1);
            return null;
          }))
          .onComplete(done -> context.runOnContext(x -> {
            if (done.failed()) {
              retryLater(done.cause());
              return;
            }
            committedOffset = last + 1;
            committedForLag = last + 1;
            cursor = next;
            backoffMs = 0;
            done();
            if (records.size() >= LocalEventLog.MAX_BATCH || LocalEventLog.LINGER_MS <= 0) {
              pump();
            } else {
              // Caught up: each batch costs its handler a round (a database transaction for billing) and the log
              // an fsynced commit, so under steady load let records gather for a moment instead of taking a
              // few at a time. Appends while lingering are picked up when it ends (their signals are counted).
              lingering = true;
              owner.vertx().setTimer(LocalEventLog.LINGER_MS, id -> context.runOnContext(v -> {
                lingering = false;
                pump();
              }));
            }
          }));
    });
  }

  /** Rewinds to the committed position and tries again after a growing delay. */
  private void retryLater(Throwable cause) {
    cursor = null;
    backoffMs = backoffMs == 0 ? LocalEventLog.MIN_BACKOFF_MS : Math.min(backoffMs * 2, LocalEventLog.MAX_BACKOFF_MS);
    owner.meters().redelivery(topic, group);
    log.debug("{}/{}: batch from offset {} will be redelivered in {} ms: {}", topic, group, committedOffset, backoffMs,
        cause.toString());
    done();
    if (!closed) {
      owner.vertx().setTimer(backoffMs, id -> context.runOnContext(v -> pump()));
    }
  }

  private void done() {
    busy = false;
    if (idle != null) {
      idle.complete();
      idle = null;
    }
  }

  @Override
  public Future<Void> close() {
    Promise<Void> p = Promise.promise();
    context.runOnContext(v -> {
      if (closed) {
        p.complete();
        return;
      }
      closed = true;
      owner.removed(this);
      if (busy) {
        idle = p;
      } else {
        p.complete();
      }
    });
    return p.future();
  }
}
