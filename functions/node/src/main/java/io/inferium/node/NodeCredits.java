package io.inferium.node;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A remote node's side of pulling work: the credits it advertises (how many calls it takes at once), the
 * calls it holds now and the most it ever held at once (so an operator, or a test, can see the gateway kept
 * to the credits), and whether it drains (then it advertises 0 and says so, and leaves once the gateway has
 * taken back everything it sent).
 */
final class NodeCredits {

  private final int credits;
  private final Set<Long> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger peak = new AtomicInteger();
  private final CountDownLatch drain = new CountDownLatch(1);

  NodeCredits(int credits) {
    this.credits = Math.max(0, credits);
  }

  int credits() {
    return credits;
  }

  /** A request arrived: a call (a batch, an embedding, a score, a generation) counts until it is answered. */
  void received(Frame frame) {
    FrameType t = frame.type();
    if (t == FrameType.INFER || t == FrameType.EMBED || t == FrameType.SCORE || t == FrameType.GENERATE) {
      open.add(frame.correlationId());
      peak.accumulateAndGet(open.size(), Math::max);
    }
  }

  /** A frame went to the gateway: a RESULT or ERROR answers its call. */
  void sent(Frame frame) {
    if (frame.type() == FrameType.RESULT || frame.type() == FrameType.ERROR) {
      open.remove(frame.correlationId());
    }
  }

  /** The connection ended: the next one's ids start again. */
  void connectionEnded() {
    open.clear();
  }

  int open() {
    return open.size();
  }

  /** Starts draining; true the first time. */
  boolean drain() {
    boolean first = drain.getCount() > 0;
    drain.countDown();
    return first;
  }

  boolean draining() {
    return drain.getCount() == 0;
  }

  /** Waits up to {@code ms} (a reconnect backoff) unless the node drains meanwhile; true if it drains. */
  boolean awaitDrain(long ms) throws InterruptedException {
    return drain.await(ms, TimeUnit.MILLISECONDS);
  }

  /** The heartbeat's fields: credits now (0 while draining), draining, calls held, the most held at once. */
  JsonObject heartbeat() {
    return new JsonObject().put("credits", draining() ? 0 : credits).put("draining", draining())
        .put("calls_open", open.size()).put("peak_calls", peak.get());
  }
}
