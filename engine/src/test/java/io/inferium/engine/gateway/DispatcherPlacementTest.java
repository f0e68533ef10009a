package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.Placement;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Placement in dispatch: requirements filter nodes, redundant copies span operators, faster nodes win ties. */
class DispatcherPlacementTest {

  private static final String SHA = "a".repeat(64);

  private static FakeWorker worker(String operator, int cores, long memoryGib, Long gpuGib) {
    FakeWorker w = new FakeWorker(4);
    w.operator = operator;
    w.capabilities = new JsonObject().put("cores", cores).put("memory_bytes", memoryGib << 30)
        .put("gpu", gpuGib == null ? "none" : new JsonObject().put("name", "test").put("memory_bytes", gpuGib << 30));
    return w;
  }

  private final FakeWorker local = worker(Worker.LOCAL_OPERATOR, 2, 4, null);
  private final FakeWorker gpuNode = worker("op-1", 8, 16, 16L);
  private final FakeWorker smallNode = worker("op-1", 2, 1, null);
  private final List<FakeWorker> all = List.of(local, gpuNode, smallNode);

  private Dispatcher networked() {
    return new Dispatcher(() -> all, id -> false).networked(id -> Double.NaN);
  }

  @Test
  void requirementsFilterNodesAndNameWhatIsMissing() {
    Dispatcher d = networked();
    for (int i = 0; i < 10; i++) {
      assertSame(gpuNode, d.pick(SHA, new Placement(null, true, 0, true)));
      assertSame(gpuNode, d.pick(SHA, new Placement("mid", false, 0, true)));
      assertTrue(d.pick(SHA, new Placement("low", false, 2048, true)) != smallNode, "1 GiB is below 2048 MB");
    }
    Placement high = new Placement("high", false, 0, true);
    assertNull(d.pick(SHA, high));
    String why = d.unplaceable(high, 1);
    assertTrue(why.contains("requires {\"tier\":\"high\"}") && why.contains("3 eligible") && why.contains("tier low")
        && why.contains("tier mid"), why);
    assertNull(d.unplaceable(new Placement(null, true, 0, true), 1));
    // Busy is not impossible: a full GPU node means wait, not 503.
    for (int i = 0; i < 4; i++) {
      gpuNode.reserve();
    }
    assertNull(d.pick(SHA, new Placement(null, true, 0, true)));
    assertNull(d.unplaceable(new Placement(null, true, 0, true), 1));
  }

  @Test
  void auditorsAreDrawnAmongBusyAndFreeWorkersAlikeSoFreeingFastDoesNotMakeANodeAuditMore() {
    FakeWorker server = new FakeWorker(4);
    FakeWorker free = new FakeWorker(4);
    FakeWorker busy1 = new FakeWorker(4);
    FakeWorker busy2 = new FakeWorker(4);
    busy1.inFlight().limit(0);
    busy2.inFlight().limit(0);
    assertTrue(busy1.saturated() && busy2.saturated() && !free.saturated());
    Dispatcher d = new Dispatcher(() -> List.of(server, free, busy1, busy2), id -> false);
    java.util.Map<String, Integer> drawn = new java.util.HashMap<>();
    int draws = 600;
    for (int i = 0; i < draws; i++) {
      List<Worker> two = d.drawAuditors(2, Set.of(server.workerId()), Set.of(), Placement.ANY);
      assertEquals(2, two.size());
      assertEquals(2, two.stream().map(Worker::workerId).distinct().count(), "two distinct workers");
      two.forEach(w -> drawn.merge(w.workerId(), 1, Integer::sum));
    }
    // Each of the three is drawn for 2 of 3 audits (400 of 600; one standard deviation is 11.5).
    for (FakeWorker w : List.of(free, busy1, busy2)) {
      int n = drawn.getOrDefault(w.workerId(), 0);
      assertTrue(n > 330 && n < 470, "drawn " + n + " times of " + draws + ": " + drawn);
    }
    assertTrue(!drawn.containsKey(server.workerId()), "never the server");
  }

  @Test
  void auditorsAreNeverOfTheServersOperatorNorOfOneAnotherAndMeetTheRequires() {
    // op-1 has two nodes: one served, the other must not audit it (two of op-1's votes against an honest auditor
    // would get the honest one slashed).
    FakeWorker op1b = worker("op-1", 8, 16, 16L);
    FakeWorker op2 = worker("op-2", 8, 16, 16L);
    FakeWorker op3 = worker("op-3", 2, 1, null);
    List<FakeWorker> nodes = List.of(local, gpuNode, smallNode, op1b, op2, op3);
    Dispatcher d = new Dispatcher(() -> nodes, id -> false).networked(id -> Double.NaN);
    Set<String> served = Set.of(gpuNode.workerId());
    for (int i = 0; i < 30; i++) {
      List<Worker> two = d.drawAuditors(2, served, d.operatorsOf(served), Placement.ANY);
      assertEquals(2, two.size());
      Set<String> operators = two.stream().map(Worker::operator).collect(Collectors.toSet());
      assertEquals(2, operators.size(), "two operators: " + operators);
      assertTrue(!operators.contains("op-1"), "never the server's operator: " + operators);
    }
    // With requires (a GPU): op-1's second GPU node is excluded, op-2 is the only auditor left.
    Placement gpu = new Placement(null, true, 0, true);
    for (int i = 0; i < 10; i++) {
      assertEquals(List.of(op2), d.drawAuditors(2, served, d.operatorsOf(served), gpu));
    }
    // A later round also avoids the operators of the workers already used.
    Set<String> used = Set.of(gpuNode.workerId(), op2.workerId());
    Set<String> avoid = d.operatorsOf(used);
    for (int i = 0; i < 10; i++) {
      List<Worker> more = d.drawAuditors(2, used, avoid, Placement.ANY);
      assertEquals(Set.of(Worker.LOCAL_OPERATOR, "op-3"), more.stream().map(Worker::operator).collect(Collectors.toSet()));
    }
    // A function that allows one operator's nodes together, and a gateway without a node port: distinct nodes only.
    Placement sameOk = new Placement(null, false, 0, false);
    assertEquals(2, d.drawAuditors(2, served, d.operatorsOf(served), sameOk).size());
    Dispatcher single = new Dispatcher(() -> nodes, id -> false);
    assertEquals(5, single.drawAuditors(5, served, single.operatorsOf(served), Placement.ANY).size());
  }

  @Test
  void redundantCopiesSpanOperatorsUnlessTheFunctionAllowsOtherwise() {
    Dispatcher d = networked();
    for (int i = 0; i < 20; i++) {
      List<Worker> two = d.pickDistinct(2, Set.of(), Placement.ANY);
      assertEquals(2, two.size());
      assertEquals(Set.of(Worker.LOCAL_OPERATOR, "op-1"), two.stream().map(Worker::operator).collect(Collectors.toSet()));
    }
    assertEquals(List.of(), d.pickDistinct(3, Set.of(), Placement.ANY));
    String why = d.unplaceable(Placement.ANY, 3);
    assertTrue(why.contains("3 different operators") && why.contains("2 operators") && why.contains("distinct_operators"),
        why);
    Placement sameOk = new Placement(null, false, 0, false);
    assertNull(d.unplaceable(sameOk, 3));
    assertEquals(3, d.pickDistinct(3, Set.of(), sameOk).size());
    // Requirements and operators together: only the GPU node meets it, one operator.
    assertTrue(d.unplaceable(new Placement(null, true, 0, true), 2).contains("meeting requires"));
    // A gateway without a node port has only its own workers: distinct nodes, as before.
    Dispatcher single = new Dispatcher(() -> all, id -> false);
    assertNull(single.unplaceable(Placement.ANY, 3));
    assertEquals(3, single.pickDistinct(3, Set.of(), Placement.ANY).size());
  }

  @Test
  void amongEqualsTheFasterAndBetterReputedNodeIsPreferred() {
    FakeWorker fast = worker("op-1", 2, 4, null);
    FakeWorker slow = worker("op-2", 2, 4, null);
    fast.latencyMicros = 2_000;
    slow.latencyMicros = 200_000;
    Dispatcher d = new Dispatcher(() -> List.of(slow, fast), id -> false).networked(id -> Double.NaN);
    for (int i = 0; i < 10; i++) {
      assertSame(fast, d.pick(SHA, Placement.ANY));
    }
    // Within the same doubling they tie and rotate.
    slow.latencyMicros = 1_500;
    Set<Worker> seen = new java.util.HashSet<>();
    for (int i = 0; i < 10; i++) {
      seen.add(d.pick(SHA, Placement.ANY));
    }
    assertEquals(2, seen.size());
    // Reputation breaks a latency tie.
    Dispatcher byReputation = new Dispatcher(() -> List.of(slow, fast), id -> false)
        .networked(id -> id.equals(slow.workerId()) ? 0.95 : 0.5);
    for (int i = 0; i < 10; i++) {
      assertSame(slow, byReputation.pick(SHA, Placement.ANY));
    }
  }
}
