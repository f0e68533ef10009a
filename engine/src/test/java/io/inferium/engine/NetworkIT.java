package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.NetworkProcesses.Gateway;
import io.inferium.infra.KafkaBroker;
import io.inferium.infra.TestDatabase;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 12's must-show: a network of separate procs.processes, each with its own data directory, sharing nothing but
 * URLs. Two gateway procs.processes on one PostgreSQL ({@code --shared-db}) and one real Kafka broker ({@code --kafka}),
 * each with one local worker; three node procs.processes of three operators, each in its own network namespace (where the
 * test runs as root) and each serving <em>both</em> gateways ({@code --gateway A,B}); one node lies on every output.
 * A tensor function under {@code redundant(3)} (distinct operators) takes load from clients of both gateways,
 * each request with its own input and its known sum. Then {@code kill -9} of an honest node, then of a gateway.
 *
 * <p>What is right after the kills: with the liar ejected and an honest node dead, the operators left are the other
 * honest node's and the gateway's own (its local worker), two, so a {@code redundant(3)} call is refused at once
 * with a 503 that says so (docs/NETWORK.md, "Placement"), never answered by fewer operators; the same function asked
 * for {@code redundant(2)} (a request may lower k) runs on the surviving node and the local worker and keeps being
 * served, on the surviving gateway too after the other died: the surviving node still serves it. Each node shows one
 * id and half its credits on each gateway; node pins that match neither one for all nor one per gateway are refused;
 * at the end a SIGTERM drains every link of the surviving node (its link to the dead gateway stops retrying) and it
 * exits 0.
 *
 * <p>Billing: every answered request is billed exactly once. The answers g1 gave are in PostgreSQL within seconds (through
 * Kafka); the last answers of the killed g2 were billed durably in g2's own outbox and are relayed when g2 starts
 * again on its data directory (as after any crash), so the test restarts it; requests whose answer died with g2 may be
 * billed, at most once each.
 */
class NetworkIT {

  private static final Logger log = LoggerFactory.getLogger(NetworkIT.class);
  private static final long STAKE = 20_000_000;
  private static final int CLIENTS_PER_GATEWAY = 2;

  /** One request of the load: which gateway, its input, the k asked, when, and what came back. */
  private record Outcome(int gateway, int input, int k, int phaseSent, int phaseEnded, int status, String requestId,
      String body, String wrong, Integer operators) {}

  private final NetworkProcesses procs = new NetworkProcesses();

  @Test
  void threeOperatorsNodesServeTwoGatewaysThroughANodeKillAndAGatewayKill() throws Exception {
    long started = System.nanoTime();
    Path root = Files.createTempDirectory("inferium-network-");
    ExecutorService clients = Executors.newFixedThreadPool(2 * CLIENTS_PER_GATEWAY);
    try (KafkaBroker kafka = KafkaBroker.start(); TestDatabase db = TestDatabase.create();
        NetNamespaces net = NetNamespaces.create(3)) {
      if (net.fallbackReason() != null) {
        log.warn("NetworkIT runs its nodes on loopback: {}", net.fallbackReason());
      }
      Process p1 = procs.startGateway("g1", "gateway.log", root, db, kafka);
      Process p2 = procs.startGateway("g2", "gateway.log", root, db, kafka);
      Gateway g1 = NetworkProcesses.awaitGateway("g1", "gateway.log", p1, root);
      Gateway g2 = NetworkProcesses.awaitGateway("g2", "gateway.log", p2, root);
      List<Gateway> gateways = List.of(g1, g2);

      // The function is verified on g1 while the nodes start; g2 takes the model from the database.
      JsonObject spec = new JsonObject().put("name", "net-add").put("batching", new JsonObject().put("max_batch_size", 1))
          .put("verification", new JsonObject().put("policy", "redundant").put("k", 3));
      procs.deploy(g1, spec);

      for (int i = 0; i < 3; i++) {
        JsonObject key = NetworkProcesses.json(procs.send(g1, "POST", "/api/operator-keys", new JsonObject().put("name", "op-" + i).encode()), 201);
        procs.startNode(root.resolve("node-" + i), net.slot(i), key.getString("secret"), gateways, i == 2 ? "noise:1.0" : null);
      }
      List<String> nodes = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        nodes.add(NetworkProcesses.nodeId(root.resolve("node-" + i), procs.nodeProcesses.get(i)));
      }
      mark(started, "gateways up, function deploying, nodes started");
      // Pins that match neither one for all nor one per gateway are refused before anything connects.
      Process bad = new ProcessBuilder(NetworkProcesses.nodeCommand(root.resolve("bad"), "127.0.0.1:1,127.0.0.1:2", "aa,bb,cc",
          root.resolve("node-0").resolve("operator.key"))).redirectErrorStream(true).start();
      String badOut = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(bad.waitFor(60, TimeUnit.SECONDS));
      assertEquals(2, bad.exitValue(), badOut);
      assertTrue(badOut.contains("3 fingerprints for 2 gateways"), badOut);
      String honest1 = nodes.get(0);
      String honest2 = nodes.get(1);
      String liar = nodes.get(2);
      for (String n : nodes) {
        for (Gateway g : gateways) {
          JsonObject v = Eventually.value(n + " connected to " + g.name(), Duration.ofSeconds(120), () -> procs.nodeView(g, n),
              x -> "connected".equals(x.getString("connection")));
          // One node id on both gateways; its 4 credits split 2 + 2, so it never holds more than 4 calls in all.
          assertEquals(2, v.getJsonObject("credits").getInteger("advertised"), v.encode());
        }
        NetworkProcesses.json(procs.send(g1, "POST", "/api/nodes/" + n + "/stake", new JsonObject().put("amount_micro_usd", STAKE).encode()), 200);
      }
      for (String n : nodes) {
        // Staked on g1; g2 reads the ledger row within seconds.
        Eventually.value(n + " eligible on g2", Duration.ofSeconds(30), () -> procs.nodeView(g2, n),
            v -> Boolean.TRUE.equals(v.getBoolean("eligible")));
      }
      mark(started, "nodes connected to both gateways and staked");
      JsonObject version = Eventually.value("net-add verified", Duration.ofSeconds(120),
          () -> NetworkProcesses.json(procs.send(g1, "GET", "/api/functions/net-add/versions/1", null), 200), v -> !"verifying".equals(v.getString("state")));
      assertEquals("ready", version.getString("state"), version.encodePrettily());
      ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
      for (int gi = 0; gi < 2; gi++) {
        // g2 serves it once its copy of the model arrived from the database. These answers count like the load's.
        Gateway g = gateways.get(gi);
        int input = 1_000_000 + gi;
        HttpResponse<String> r = Eventually.value("net-add served by " + g.name(), Duration.ofSeconds(60),
            () -> infer(g, input, 2), x -> x.statusCode() == 200);
        outcomes.add(new Outcome(gi, input, 2, 0, 0, 200, r.headers().firstValue("X-Inferium-Request-Id").orElse(null), r.body(),
            checkSum(input, r.body()), new JsonObject(r.body()).getJsonObject("parameters", new JsonObject()).getInteger("operators")));
      }

      mark(started, "net-add served by both gateways");
      // Load from both gateways: every request its own input; odd ones ask redundant(2), even ones the function's (3).
      AtomicInteger phase = new AtomicInteger();
      AtomicInteger inputs = new AtomicInteger();
      AtomicBoolean stop = new AtomicBoolean();
      List<java.util.concurrent.Future<?>> loops = new ArrayList<>();
      for (int c = 0; c < 2 * CLIENTS_PER_GATEWAY; c++) {
        Gateway g = gateways.get(c % 2);
        int gi = c % 2;
        loops.add(clients.submit(() -> {
          while (!stop.get()) {
            int input = inputs.incrementAndGet();
            int k = input % 2 == 0 ? 3 : 2;
            int sent = phase.get();
            Outcome o;
            try {
              HttpResponse<String> r = infer(g, input, k);
              JsonObject params = r.statusCode() == 200 ? new JsonObject(r.body()).getJsonObject("parameters", new JsonObject())
                  : new JsonObject();
              o = new Outcome(gi, input, k, sent, phase.get(), r.statusCode(), r.headers().firstValue("X-Inferium-Request-Id")
                  .orElse(null), r.body(), r.statusCode() == 200 ? checkSum(input, r.body()) : null, params.getInteger("operators"));
            } catch (Exception e) {
              o = new Outcome(gi, input, k, sent, phase.get(), 0, null, e.toString(), null, null);
              Thread.sleep(100); // the gateway is gone: do not spin
            }
            outcomes.add(o);
          }
          return null;
        }));
      }

      // Phase 0: all up. The liar is outvoted under redundant(3), slashed and ejected; both gateways see it.
      for (Gateway g : gateways) {
        Eventually.value("the liar ejected on " + g.name(), Duration.ofSeconds(90), () -> procs.nodeView(g, liar),
            v -> "ejected".equals(v.getString("state")));
      }
      Eventually.until("redundant(3) answers on both gateways", Duration.ofSeconds(60), () -> count(outcomes,
          o -> o.status() == 200 && o.k() == 3 && o.gateway() == 0) >= 3 && count(outcomes, o -> o.status() == 200
          && o.k() == 3 && o.gateway() == 1) >= 3);

      mark(started, "liar ejected");
      // Phase 1: kill -9 an honest node. Both gateways lose its link.
      Process h1 = procs.nodeProcesses.get(0);
      phase.set(1);
      h1.destroyForcibly();
      assertTrue(h1.waitFor(30, TimeUnit.SECONDS));
      for (Gateway g : gateways) {
        Eventually.value(g.name() + " sees the killed node gone", Duration.ofSeconds(30), () -> procs.nodeView(g, honest1),
            v -> !"connected".equals(v.getString("connection")));
      }
      int answeredBefore = count(outcomes, o -> o.status() == 200 && o.k() == 2 && o.phaseSent() == 1);
      Eventually.until("redundant(2) still served on both gateways without the killed node", Duration.ofSeconds(60),
          () -> count(outcomes, o -> o.status() == 200 && o.k() == 2 && o.phaseSent() == 1 && o.gateway() == 0) >= 3
              && count(outcomes, o -> o.status() == 200 && o.k() == 2 && o.phaseSent() == 1 && o.gateway() == 1) >= 3);
      assertTrue(count(outcomes, o -> o.status() == 200 && o.k() == 2 && o.phaseSent() == 1) > answeredBefore);

      mark(started, "node killed, redundant(2) still served");
      // Phase 2: kill -9 gateway 2 under that load. Gateway 1 keeps serving, through the surviving node.
      phase.set(2);
      p2.destroyForcibly();
      assertTrue(p2.waitFor(30, TimeUnit.SECONDS));
      // g2's last answers were billed durably in its own outbox (acknowledged once fsynced on its disk) and may not have
      // reached Kafka before the kill: they are relayed when it starts again on its data directory, like after any crash.
      Process g2Again = procs.startGateway("g2", "gateway-restart.log", root, db, kafka);
      Eventually.until("g1 serves redundant(2) after g2 died", Duration.ofSeconds(60), () -> count(outcomes,
          o -> o.status() == 200 && o.k() == 2 && o.phaseSent() == 2 && o.gateway() == 0) >= 5);
      Eventually.until("g1 refuses redundant(3) after g2 died", Duration.ofSeconds(60), () -> count(outcomes,
          o -> o.k() == 3 && o.phaseSent() == 2 && o.gateway() == 0) >= 2);
      stop.set(true);
      for (var loop : loops) {
        loop.get(60, TimeUnit.SECONDS);
      }
      mark(started, "gateway killed, g1 still serving");
      // SIGTERM drains every link of the surviving node: g1 lets it go, the link to the dead g2 stops retrying, exit 0.
      Process h2 = procs.nodeProcesses.get(1);
      h2.destroy();
      assertTrue(h2.waitFor(60, TimeUnit.SECONDS), "the surviving node drains and exits");
      assertEquals(0, h2.exitValue(), Files.readString(root.resolve("node-1").resolve("node.log")));
      assertEquals("drained", procs.nodeView(g1, honest2).getString("last_disconnect"));

      List<Outcome> all = new ArrayList<>(outcomes);
      // Every answered request is correct, and none answered twice (a request id names one answer).
      List<Outcome> answered = all.stream().filter(o -> o.status() == 200).toList();
      assertTrue(answered.size() >= 20, "answered: " + answered.size());
      assertEquals(List.of(), answered.stream().filter(o -> o.wrong() != null).map(Outcome::wrong).toList(), "wrong answers");
      Set<String> ids = new HashSet<>();
      for (Outcome o : answered) {
        assertTrue(o.requestId() != null && ids.add(o.requestId()), "request id answered twice or missing: " + o);
      }
      // redundant(3) answers came from three operators; redundant(2) from two. After the node kill no redundant(3)
      // call was answered by fewer: each was refused with a 503 naming the shortage.
      for (Outcome o : answered) {
        assertEquals(o.k(), o.operators(), "operators that ran " + o);
      }
      List<Outcome> late3 = all.stream().filter(o -> o.k() == 3 && o.phaseSent() == 2 && o.gateway() == 0).toList();
      assertFalse(late3.isEmpty());
      for (Outcome o : late3) {
        assertEquals(503, o.status(), o.toString());
        assertTrue(o.body().contains("3 different operators") && o.body().contains("2 operators have eligible nodes"), o.body());
      }
      // The surviving node served g1 after g2 died: redundant(2) over distinct operators needs a node besides g1's own
      // worker, and the only eligible one is the surviving honest node.
      assertTrue(all.stream().anyMatch(o -> o.status() == 200 && o.k() == 2 && o.phaseSent() == 2 && o.gateway() == 0));

      // The liar: slashed and ejected, in the shared ledger; the honest nodes are not slashed.
      JsonObject liarView = procs.nodeView(g1, liar);
      assertEquals("ejected", liarView.getString("state"), liarView.encode());
      assertTrue(liarView.getInteger("slashes") >= 1, liarView.encode());
      assertTrue(liarView.getLong("stake_micro_usd") < STAKE, liarView.encode());
      assertFalse(liarView.getBoolean("eligible"), liarView.encode());
      for (String h : List.of(honest1, honest2)) {
        JsonObject v = procs.nodeView(g1, h);
        assertEquals(0, v.getInteger("slashes"), v.encode());
        assertEquals("active", v.getString("state"), v.encode());
      }

      // Billing: every answered request once; besides those only requests whose answer died with g2 (a client of g2 saw
      // the connection fail), each at most once. g1's Kafka consumer takes over what g2 had not consumed.
      Set<String> answeredIds = new HashSet<>(ids);
      Set<String> byG1 = new HashSet<>(answered.stream().filter(o -> o.gateway() == 0).map(Outcome::requestId).toList());
      Eventually.value("usage of g1's answers stored", Duration.ofSeconds(60), () -> usageRows(db),
          rows -> rows.keySet().containsAll(byG1));
      NetworkProcesses.awaitGateway("g2", "gateway-restart.log", g2Again, root);
      Map<String, Integer> stored;
      try {
        stored = Eventually.value("usage of every answered request stored", Duration.ofSeconds(60), () -> usageRows(db),
            rows -> rows.keySet().containsAll(answeredIds));
      } catch (AssertionError e) {
        Set<String> have = usageRows(db).keySet();
        throw new AssertionError("answered but not billed: " + answered.stream().filter(o -> !have.contains(o.requestId()))
            .map(o -> "g" + (o.gateway() + 1) + "/phase " + o.phaseSent() + "-" + o.phaseEnded() + "/" + o.requestId()).toList(), e);
      }
      stored.forEach((id, n) -> assertEquals(1, n, "usage rows of " + id));
      Set<String> extra = new HashSet<>(stored.keySet());
      extra.removeAll(answeredIds);
      long lostWithG2 = all.stream().filter(o -> o.gateway() == 1 && o.status() == 0).count();
      assertTrue(extra.size() <= Math.min(lostWithG2, CLIENTS_PER_GATEWAY), "billed without an answer: " + extra.size()
          + " (answers lost with g2: " + lostWithG2 + ")");
      log.info("NetworkIT: {} requests, {} answered ({} redundant(3)), {} refused 503, {} lost with g2, {} billed without an "
          + "answer; namespaces: {}; {} s", all.size(), answered.size(), count(all, o -> o.status() == 200 && o.k() == 3),
          count(all, o -> o.status() == 503), lostWithG2, extra.size(), net.fallbackReason() == null ? "yes" : "no (loopback)",
          TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
    } finally {
      clients.shutdownNow();
      for (Process p : procs.processes) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
      try (var paths = Files.walk(root)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void mark(long started, String what) {
    log.info("NetworkIT at {} s: {}", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), what);
  }

  private static int count(java.util.Collection<Outcome> outcomes, java.util.function.Predicate<Outcome> which) {
    return (int) outcomes.stream().filter(which).count();
  }

  /** a = [i, i + .25, i + .5, i + .75], b = [1, 2, 3, 4]: the sum is known for every input. */
  private HttpResponse<String> infer(Gateway g, int input, int k) throws Exception {
    JsonObject request = new JsonObject().put("inputs", new JsonArray()
        .add(tensor("a", input, input + 0.25, input + 0.5, input + 0.75)).add(tensor("b", 1, 2, 3, 4)));
    if (k != 3) {
      request.put("parameters", new JsonObject().put("verification", new JsonObject().put("policy", "redundant").put("k", k)));
    }
    return procs.send(g, "POST", "/v2/models/net-add/infer", request.encode());
  }

  private static JsonObject tensor(String name, double... values) {
    JsonArray data = new JsonArray();
    for (double v : values) {
      data.add(v);
    }
    return new JsonObject().put("name", name).put("shape", new JsonArray().add(1).add(4)).put("datatype", "FP32")
        .put("data", data);
  }

  /** Null when {@code body} holds the right sum for {@code input}, else what is wrong. */
  private static String checkSum(int input, String body) {
    JsonObject sum = new JsonObject(body).getJsonArray("outputs").stream().map(JsonObject.class::cast)
        .filter(o -> "sum".equals(o.getString("name"))).findFirst().orElse(null);
    if (sum == null) {
      return "no sum for " + input + ": " + body;
    }
    for (int j = 0; j < 4; j++) {
      double expected = (float) (input + 0.25 * j) + (j + 1);
      if (Math.abs(sum.getJsonArray("data").getDouble(j) - expected) > 1e-3) {
        return "wrong sum for " + input + ": " + sum.encode();
      }
    }
    return null;
  }

  /** Usage rows of net-add in the shared database, by request id. */
  private static Map<String, Integer> usageRows(TestDatabase db) throws Exception {
    URI uri = URI.create(db.url());
    Map<String, Integer> rows = new HashMap<>();
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath(),
        uri.getUserInfo(), "");
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT id, count(*) FROM usage_events WHERE function_name = 'net-add' GROUP BY id")) {
      while (r.next()) {
        rows.put(r.getString(1), r.getInt(2));
      }
    }
    return rows;
  }
}
