package io.inferium.engine.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.net.NetSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of a port (the worker port, the node port) that have no accepted hello yet, held to a bound.
 *
 * <p>A connection that arrives with the bound reached makes room by closing a connection that has not sent its hello:
 * the oldest one from the address that holds the most such places (the newcomer's own counting). A worker or node
 * sends its hello as soon as it is connected (a node, as soon as it reads the challenge), so an attacker who keeps the
 * bound filled with silent connections, reopening each one the hello timeout closes, no longer locks replacement
 * workers, sandboxes or nodes out of the port: each of them pushes out one of the attacker's connections. On the node
 * port, where peers come from many addresses, a flood from one address only churns its own connections and leaves
 * other addresses' waiting ones alone. The newcomer is refused only when every place is held by a connection whose
 * hello is being judged, which takes milliseconds.
 *
 * <p>Every connection closed before its hello (pushed out, refused, silent past the hello timeout, an oversized first
 * frame: {@link Ticket#close}) is logged at most once a second per port, with the number of others since the last
 * line: a flood of connections does not become a flood of log lines. With {@link #metrics} each is also counted
 * ({@code inferium_port_closed_before_hello_total} by port and reason), beside a gauge of the places held
 * ({@code inferium_port_unattested_connections}).
 *
 * <p>Thread-safe: connections arrive on any event loop. A place is given back exactly once ({@link Ticket#release}):
 * when the hello is accepted, when the gateway closes the connection (then, not when Netty reports the close later,
 * since the peer may already have seen the close and connected again), or when the peer closes it.
 */
final class UnattestedConnections {

  private static final Logger log = LoggerFactory.getLogger(UnattestedConnections.class);
  private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** Why a connection was closed before its hello: the {@code reason} of the close counter. */
  static final List<String> REASONS = List.of("pushed_out", "refused", "hello_timeout",
      "oversized_hello");

  private final String port;
  /** The close counters by reason, once {@link #metrics} is called. */
  private volatile Map<String, Counter> closes = Map.of();
  private final ConcurrentLinkedDeque<Ticket> waiting = new ConcurrentLinkedDeque<>();
  private final AtomicInteger count = new AtomicInteger();
  private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
  private final AtomicLong unlogged = new AtomicLong();

  /** @param port the port's name in metrics ("worker", "node"; log lines say "worker-port") */
  UnattestedConnections(String port) {
    this.port = port;
  }

  /** Exports the gauge and counts closes before a hello to {@code registry}. */
  void metrics(MeterRegistry registry) {
    Gauge.builder("inferium.port.unattested.connections", count, AtomicInteger::get)
        .description("Connections to a port that have no accepted hello yet").tag("port", port).register(registry);
    Map<String, Counter> byReason = new HashMap<>();
    for (String reason : REASONS) {
      byReason.put(reason, Counter.builder("inferium.port.closed.before.hello")
          .description("Connections closed before their hello was accepted, by port and reason")
          .tags("port", port, "reason", reason).register(registry));
    }
    closes = Map.copyOf(byReason);
  }

  private void counted(String reason) {
    Counter c = closes.get(reason);
    if (c != null) {
      c.increment();
    }
  }

  /** One connection's place, from its arrival until its hello is accepted or it is closed. */
  final class Ticket {
    private final NetSocket socket;
    private final String host;
    private final AtomicBoolean counted = new AtomicBoolean(true);
    private volatile boolean spoke;

    private Ticket(NetSocket socket) {
      this.socket = socket;
      this.host = socket.remoteAddress() == null ? "" : socket.remoteAddress().host();
    }

    /** Its hello has arrived whole and is being judged: it is no longer pushed out to make room. */
    void spoke() {
      spoke = true;
    }

    /**
     * Closes the connection before its hello, saying why (rate-limited) and counting it under {@code reason}, and
     * gives its place back.
     */
    void close(String reason, String why) {
      if (release()) { // else it was pushed out (and logged) already
        counted(reason);
        warn("Closing", socket, why);
      }
      socket.close();
    }

    /** Gives the place back; true for the call that did (later calls do nothing). */
    boolean release() {
      if (!counted.compareAndSet(true, false)) {
        return false;
      }
      count.decrementAndGet();
      waiting.remove(this);
      return true;
    }
  }

  /**
   * Counts {@code socket} against {@code max}, pushing out a silent connection when the bound is reached (see the
   * class). Null when there was no room: {@code socket} is closed.
   */
  Ticket admit(NetSocket socket, int max) {
    Ticket t = new Ticket(socket);
    waiting.addLast(t);
    if (count.incrementAndGet() > max && !pushOutOneSilent(t, max)) {
      t.release();
      counted("refused");
      warn("Refusing", socket, "all " + max + " places are held by connections whose hello is being judged");
      socket.close();
      return null;
    }
    return t;
  }

  private boolean pushOutOneSilent(Ticket newcomer, int max) {
    while (true) {
      // Silent places per address; the victim is the oldest silent connection (the deque is in arrival order) of an
      // address holding the most, so among single connections from distinct addresses the oldest one goes.
      Map<String, Integer> silent = new HashMap<>();
      for (Ticket t : waiting) {
        if (!t.spoke && t.counted.get()) {
          silent.merge(t.host, 1, Integer::sum);
        }
      }
      int most = silent.values().stream().mapToInt(Integer::intValue).max().orElse(0);
      Ticket victim = null;
      for (Ticket t : waiting) {
        if (t != newcomer && !t.spoke && t.counted.get() && silent.getOrDefault(t.host, 0) == most) {
          victim = t;
          break;
        }
      }
      if (victim == null) {
        return false;
      }
      if (victim.release()) { // else another event loop took it first: look again
        counted("pushed_out");
        warn("Closing", victim.socket, max + " connections had not said hello when one more arrived, and this one was "
            + "the oldest silent one from the address holding the most places");
        victim.socket.close();
        return true;
      }
    }
  }

  /** Logs "{verb} a {port} connection from {address}: {why}" unless this port logged one less than a second ago. */
  private void warn(String verb, NetSocket socket, String why) {
    long now = System.nanoTime();
    long last = lastLogNanos.get();
    if (now - last < LOG_EVERY_NANOS || !lastLogNanos.compareAndSet(last, now)) {
      unlogged.incrementAndGet();
      return;
    }
    long others = unlogged.getAndSet(0);
    log.warn("{} a {}-port connection from {}: {}{}", verb, port, socket.remoteAddress(), why,
        others == 0 ? "" : " (and " + others + " more closed or refused before their hello since the last such line)");
  }

  /** Connections counted now. */
  int size() {
    return count.get();
  }
}
