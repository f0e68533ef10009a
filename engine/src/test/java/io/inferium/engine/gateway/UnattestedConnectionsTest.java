package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.inferium.infra.testing.Eventually;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The bound on connections without an accepted hello, over real sockets: who is pushed out, who is refused. */
class UnattestedConnectionsTest {

  private static final int MAX = 3;

  private Vertx vertx;
  private NetServer server;
  private final UnattestedConnections places = new UnattestedConnections("test");
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  /** What the server did with each connection, in arrival order: its ticket, or null when refused. */
  private final LinkedBlockingQueue<java.util.Optional<UnattestedConnections.Ticket>> admitted = new LinkedBlockingQueue<>();
  private final List<Socket> clients = new ArrayList<>();

  @BeforeEach
  void start() {
    places.metrics(registry);
    vertx = Vertx.vertx();
    server = Eventually.await(vertx.createNetServer().connectHandler(this::onConnect).listen(0, "127.0.0.1"));
  }

  private void onConnect(NetSocket socket) {
    UnattestedConnections.Ticket t = places.admit(socket, MAX);
    if (t == null) {
      socket.close();
    } else {
      socket.closeHandler(v -> t.release());
    }
    admitted.add(java.util.Optional.ofNullable(t));
  }

  @AfterEach
  void stop() throws IOException {
    for (Socket s : clients) {
      s.close();
    }
    Eventually.await(vertx.close());
  }

  private UnattestedConnections.Ticket connect(Socket[] out) throws Exception {
    return connectFrom("127.0.0.1", out);
  }

  /** Connects from {@code local} (any 127.x.y.z address is the loopback on Linux): a peer with its own address. */
  private UnattestedConnections.Ticket connectFrom(String local, Socket[] out) throws Exception {
    Socket s = new Socket(java.net.InetAddress.getByName("127.0.0.1"), server.actualPort(),
        java.net.InetAddress.getByName(local), 0);
    clients.add(s);
    out[0] = s;
    java.util.Optional<UnattestedConnections.Ticket> t = admitted.poll(10, TimeUnit.SECONDS);
    assertNotNull(t, "the server never saw the connection");
    return t.orElse(null);
  }

  private double closed(String reason) {
    var c = registry.find("inferium.port.closed.before.hello").tags("port", "test", "reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  private double gauge() {
    return registry.get("inferium.port.unattested.connections").tags("port", "test").gauge().value();
  }

  private static boolean closedWithin(Socket s, int ms) throws IOException {
    s.setSoTimeout(ms);
    try {
      return s.getInputStream().read() < 0;
    } catch (SocketTimeoutException open) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  @Test
  void aNewcomerAtTheBoundPushesOutTheOldestSilentConnectionAndSkipsTheOnesBeingJudged() throws Exception {
    Socket[][] s = new Socket[MAX + 1][1];
    UnattestedConnections.Ticket[] t = new UnattestedConnections.Ticket[MAX + 1];
    for (int i = 0; i < MAX; i++) {
      t[i] = connect(s[i]);
      assertNotNull(t[i]);
    }
    assertEquals(MAX, places.size());
    t[0].spoke(); // its hello is being judged: not pushed out
    t[MAX] = connect(s[MAX]);
    assertNotNull(t[MAX], "the newcomer was refused though a silent connection could make room");
    assertTrue(closedWithin(s[1][0], 5_000), "the oldest silent connection (the second) was not closed");
    assertFalse(closedWithin(s[0][0], 50), "a connection whose hello is being judged was pushed out");
    assertFalse(closedWithin(s[2][0], 50), "a younger silent connection was pushed out");
    assertFalse(closedWithin(s[MAX][0], 50), "the newcomer was closed");
    assertFalse(t[1].release(), "the pushed-out connection's place was given back twice");
    assertEquals(MAX, places.size());
    assertEquals(1.0, closed("pushed_out"));
    assertEquals(0.0, closed("refused"));
    assertEquals(MAX, gauge());
  }

  @Test
  void aNewcomerIsRefusedWhenEveryPlaceIsBeingJudgedAndEachPlaceIsGivenBackOnce() throws Exception {
    Socket[][] s = new Socket[MAX + 1][1];
    List<UnattestedConnections.Ticket> tickets = new ArrayList<>();
    for (int i = 0; i < MAX; i++) {
      UnattestedConnections.Ticket t = connect(s[i]);
      t.spoke();
      tickets.add(t);
    }
    assertNull(connect(s[MAX]), "a newcomer got a place while every place was being judged");
    assertTrue(closedWithin(s[MAX][0], 5_000), "the refused newcomer stayed open");
    for (int i = 0; i < MAX; i++) {
      assertFalse(closedWithin(s[i][0], 50), "connection " + i + " was pushed out while its hello was judged");
    }
    assertEquals(MAX, places.size());
    assertEquals(1.0, closed("refused"));
    assertEquals(0.0, closed("pushed_out"));
    assertTrue(tickets.get(0).release(), "an accepted hello gives its place back");
    assertFalse(tickets.get(0).release());
    assertEquals(MAX - 1, places.size());
    // With a place free, the next one is admitted without pushing anyone out.
    Socket[] next = new Socket[1];
    assertNotNull(connect(next));
    for (int i = 0; i < MAX; i++) {
      assertFalse(closedWithin(s[i][0], 50), "connection " + i + " was pushed out though a place was free");
    }
    assertEquals(MAX, places.size());
  }

  @Test
  void aFloodOfPushOutsIsLoggedAtMostOnceASecondWithACount() throws Exception {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(UnattestedConnections.class);
    logged.start();
    logger.addAppender(logged);
    try {
      Socket[] s = new Socket[1];
      for (int i = 0; i < MAX + 5; i++) {
        assertNotNull(connect(s)); // from the fourth on, each pushes out the oldest: five push-outs
      }
      assertEquals(1, logged.list.size(), "five push-outs within a second: " + logged.list);
      assertEquals(5.0, closed("pushed_out"), "every push-out is counted, logged or not");
      Thread.sleep(1_100);
      assertNotNull(connect(s));
      assertEquals(2, logged.list.size(), logged.list.toString());
      String second = logged.list.get(1).getFormattedMessage();
      assertTrue(second.contains("(and 4 more closed or refused before their hello since the last such line)"), second);
    } finally {
      logger.detachAppender(logged);
    }
  }

  @Test
  void aFloodFromOneAddressPushesOutItsOwnConnectionsNotAnotherAddresss() throws Exception {
    Socket[] node = new Socket[1];
    assertNotNull(connectFrom("127.0.0.3", node)); // a node that connected first, still reading its challenge
    Socket[][] flood = new Socket[4][1];
    assertNotNull(connectFrom("127.0.0.2", flood[0]));
    assertNotNull(connectFrom("127.0.0.2", flood[1]));
    // Full. The flooding address holds two places, the node one: the flood's oldest goes, not the node (the oldest).
    assertNotNull(connectFrom("127.0.0.2", flood[2]));
    assertTrue(closedWithin(flood[0][0], 5_000), "the flooding address's oldest was not pushed out");
    assertFalse(closedWithin(node[0], 50), "the other address's connection was pushed out by the flood");
    assertNotNull(connectFrom("127.0.0.2", flood[3]));
    assertTrue(closedWithin(flood[1][0], 5_000));
    assertFalse(closedWithin(node[0], 50), "the other address's connection was pushed out by the flood");
    // A third address arriving: the flood still holds the most places and gives one up.
    Socket[] other = new Socket[1];
    assertNotNull(connectFrom("127.0.0.4", other));
    assertTrue(closedWithin(flood[2][0], 5_000));
    assertFalse(closedWithin(node[0], 50));
    assertFalse(closedWithin(flood[3][0], 50));
    assertEquals(MAX, places.size());
  }

  @Test
  void aCloseBeforeTheHelloIsCountedByReasonOnce() throws Exception {
    Socket[] s = new Socket[1];
    UnattestedConnections.Ticket t = connect(s);
    assertEquals(1.0, gauge());
    t.close("hello_timeout", "no accepted hello within 5000 ms");
    t.close("hello_timeout", "no accepted hello within 5000 ms"); // a second close counts nothing
    assertTrue(closedWithin(s[0], 5_000), "the connection stayed open");
    assertEquals(1.0, closed("hello_timeout"));
    assertEquals(0, places.size());
    assertEquals(0.0, gauge());
  }
}
