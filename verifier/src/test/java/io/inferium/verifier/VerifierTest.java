package io.inferium.verifier;

import static io.inferium.infra.testing.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.FunctionSpec;
import io.inferium.functions.seal.OutputHash;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.inferium.infra.Database;
import io.inferium.infra.testing.MigratedDatabase;
import io.inferium.verifier.consensus.ConsensusVerifier;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The tensor {@link Verifier} with the real {@link NodeLedger} on PostgreSQL: verdicts, the served
 * answer, audits, what the ledger records (once per task), and a liar's attempts to be served.
 */
class VerifierTest {

  private static final FunctionSpec.Verification REDUNDANT = new FunctionSpec.Verification("redundant", 3, 0.999, 0);
  private static final FunctionSpec.Verification AUDIT = new FunctionSpec.Verification("audit", 1, 0.999, 0.3);

  private static Vertx vertx;
  private static MigratedDatabase db;
  private static Database database;
  private NodeLedger ledger;
  private Verifier<List<Tensor>> verifier;
  private static int task;

  @BeforeAll
  static void openDatabase() {
    db = MigratedDatabase.open();
    vertx = db.vertx();
    database = db.database();
  }

  @AfterAll
  static void closeDatabase() throws Exception {
    if (db != null) {
      db.close();
    }
  }

  @BeforeEach
  void freshLedger() {
    await(database.pool().query("TRUNCATE nodes, node_events, node_reinstatements").execute());
    ledger = new NodeLedger(database.pool(), LedgerSettings.defaults(), new SimpleMeterRegistry());
    for (String n : List.of("n1", "n2", "n3", "n4")) {
      await(ledger.register(n, null));
    }
    verifier = ConsensusVerifier.forTensors(ledger, new Random(7));
  }

  private static List<Tensor> out(float... v) {
    return List.of(Tensors.fp32("y", new long[] {v.length}, v));
  }

  private static Verifier.Run<List<Tensor>> run(String node, float... v) {
    return new Verifier.Run<>(node, out(v));
  }

  private String nextTask() {
    return "t-" + (++task);
  }

  private Map<String, JsonObject> nodes() {
    Map<String, JsonObject> byId = new HashMap<>();
    await(ledger.list()).forEach(n -> byId.put(n.getString("node_id"), n));
    return byId;
  }

  /** (node, kind) of every ledger event of a task, in order. */
  private List<String> events(String taskId) {
    List<String> out = new ArrayList<>();
    for (Row r : await(database.pool().preparedQuery("SELECT node_id, kind FROM node_events WHERE task_id = $1 ORDER BY id")
        .execute(Tuple.of(taskId)))) {
      out.add(r.getString("node_id") + ":" + r.getString("kind"));
    }
    return out;
  }

  @Test
  void threeRunsThatAgreeAreVerifiedAndRewarded() {
    String t = nextTask();
    Verifier.Decision<List<Tensor>> d = verifier.decide(t, REDUNDANT,
        List.of(run("n1", 1, 2, 3), run("n2", 1, 2, 3), run("n3", 1, 2, 3.0000005f)), List.of());
    await(d.recorded());
    assertEquals("verified", d.verdict());
    assertTrue(d.similarity() > 0.999 && d.similarity() <= 1.0, "similarity " + d.similarity());
    assertEquals(List.of("n1", "n2", "n3"), d.agreeing());
    assertEquals(List.of(), d.outliers());
    assertTrue(d.agreeing().contains(d.chosen().nodeId()));
    assertEquals(List.of("n1:reward", "n2:reward", "n3:reward"), events(t));
    nodes().values().stream().filter(n -> !n.getString("node_id").equals("n4"))
        .forEach(n -> assertEquals(1L, n.getLong("verified_tasks"), n.encode()));
  }

  @Test
  void seededTextIsComparedByExactTokenIdsAndALiarIsSlashed() {
    Verifier<TextOutput> text = new ConsensusVerifier<>(ledger, io.inferium.verifier.consensus.TokenAgreement.INSTANCE,
        new Random(7));
    TextOutput honest = new TextOutput(List.of(new int[] {5, 6, 7, 8}), List.of("abcd"));
    // One token changed, one token fewer, a choice more, the right ids with other text: each is a disagreement.
    for (TextOutput lie : List.of(new TextOutput(List.of(new int[] {5, 6, 9, 8}), List.of("abcd")),
        new TextOutput(List.of(new int[] {5, 6, 7}), List.of("abc")),
        new TextOutput(List.of(new int[] {5, 6, 7, 8}, new int[] {1}), List.of("abcd", "x")),
        new TextOutput(List.of(new int[] {5, 6, 7, 8}), List.of("ab!d")))) {
      String t = nextTask();
      Verifier.Decision<TextOutput> d = text.decide(t, REDUNDANT, List.of(new Verifier.Run<>("n1", honest),
          new Verifier.Run<>("n2", lie), new Verifier.Run<>("n3", honest)), List.of());
      await(d.recorded());
      assertEquals("verified", d.verdict());
      assertEquals(List.of("n2"), d.outliers());
      assertSame(honest, d.chosen().outputs(), "the majority's tokens are served, never the lie");
      // (the repeated liar is ejected along the way: its later events add an eject)
      assertEquals(List.of("n1:reward", "n3:reward", "n2:slash"), events(t).subList(0, 3));
    }
    // Two runs that disagree have no majority: disputed, nothing served.
    Verifier.Decision<TextOutput> split = text.decide(nextTask(), REDUNDANT, List.of(new Verifier.Run<>("n1", honest),
        new Verifier.Run<>("n2", new TextOutput(List.of(new int[] {1, 2}), List.of("zz")))), List.of());
    assertTrue(split.disputed());
    assertNull(split.chosen());
  }

  @Test
  void anOutlierIsOutvotedSlashedAndCitedWithItsHash() {
    String t = nextTask();
    List<Tensor> lie = out(9, 0, 1);
    Verifier.Decision<List<Tensor>> d = verifier.decide(t, REDUNDANT,
        List.of(run("n1", 1, 2, 3), new Verifier.Run<>("n2", lie), run("n3", 1, 2, 3)), List.of());
    await(d.recorded());
    assertEquals("verified", d.verdict());
    assertEquals(List.of("n1", "n3"), d.agreeing());
    assertEquals(List.of("n2"), d.outliers());
    assertNotEquals("n2", d.chosen().nodeId());
    assertEquals(List.of("n1:reward", "n3:reward", "n2:slash"), events(t));
    JsonObject liar = nodes().get("n2");
    assertEquals(1, liar.getInteger("slashes"));
    assertTrue(liar.getLong("stake_micro_usd") < LedgerSettings.defaults().initialStakeMicroUsd());
    JsonObject evidence = liar.getJsonArray("recent_events").getJsonObject(0).getJsonObject("evidence");
    assertEquals(OutputHash.of(lie), evidence.getString("output_sha256"));
    assertEquals(OutputHash.of(out(1, 2, 3)), evidence.getString("agreeing_output_sha256"));
    assertEquals(t, evidence.getString("task_id"));
  }

  @Test
  void runsThatAllDifferAreDisputedAndNameTheWorkers() {
    String t = nextTask();
    Verifier.Decision<List<Tensor>> d = verifier.decide(t, REDUNDANT,
        List.of(run("n1", 1, 0, 0), run("n2", 0, 1, 0), run("n3", 0, 0, 1)), List.of());
    await(d.recorded());
    assertTrue(d.disputed());
    assertEquals("disputed", d.verdict());
    assertNull(d.chosen(), "a dispute serves nothing");
    assertEquals("verification disputed: the runs on workers [n1, n2, n3] disagree (best similarity 0.000000, "
        + "threshold 0.999)", d.dispute());
    assertEquals(List.of(), events(t), "with no majority nobody is judged");
    nodes().values().forEach(n -> assertEquals(0, n.getInteger("slashes")));
  }

  @Test
  void oneRunThatAnsweredIsUnverifiedAndNoneIsTheFirstFailure() {
    String t = nextTask();
    IllegalStateException lost = new IllegalStateException("worker n2 lost");
    Verifier.Decision<List<Tensor>> d = verifier.decide(t, REDUNDANT, List.of(run("n1", 4, 5)),
        List.of(new Verifier.Failure("n2", lost), new Verifier.Failure("n3", new IllegalStateException("timeout"))));
    await(d.recorded());
    assertEquals("unverified", d.verdict());
    assertEquals("n1", d.chosen().nodeId());
    assertEquals(1.0, d.similarity());
    assertEquals(List.of(), events(t));

    Verifier.Decision<List<Tensor>> none = verifier.decide(nextTask(), REDUNDANT, List.of(),
        List.of(new Verifier.Failure("n2", lost)));
    assertTrue(none.failed());
    assertNull(none.verdict());
    assertSame(lost, none.failure(), "the first failure is passed on, so a lost worker is retried");
  }

  @Test
  void recordingTheSameTaskAgainChangesNothing() {
    String t = nextTask();
    List<Verifier.Run<List<Tensor>>> runs = List.of(run("n1", 1, 2, 3), run("n2", 7, 7, 7), run("n3", 1, 2, 3));
    await(verifier.decide(t, REDUNDANT, runs, List.of()).recorded());
    Map<String, JsonObject> once = nodes();
    await(verifier.decide(t, REDUNDANT, runs, List.of()).recorded());
    assertEquals(List.of("n1:reward", "n3:reward", "n2:slash"), events(t), "recorded once");
    Map<String, JsonObject> twice = nodes();
    for (String n : List.of("n1", "n2", "n3")) {
      assertEquals(once.get(n).getDouble("reputation"), twice.get(n).getDouble("reputation"), n);
      assertEquals(once.get(n).getLong("stake_micro_usd"), twice.get(n).getLong("stake_micro_usd"), n);
    }
    // Another task with the same runs is judged again.
    String other = nextTask();
    await(verifier.decide(other, REDUNDANT, runs, List.of()).recorded());
    assertEquals(2, nodes().get("n2").getInteger("slashes"));
  }

  /**
   * A liar answers first (fast) with garbage, or garbage that tries to break the comparison (NaN), or
   * shows up twice to fake a majority: the agreeing honest answer is always the one served.
   */
  @Test
  void aFastLiarIsNeverTheServedAnswer() {
    for (int seed = 0; seed < 200; seed++) {
      Verifier<List<Tensor>> v = ConsensusVerifier.forTensors(ledger, new Random(seed));
      Verifier.Decision<List<Tensor>> garbage = v.decide(nextTask(), REDUNDANT,
          List.of(run("n4", 1e9f, -1e9f, 0), run("n1", 1, 2, 3), run("n2", 1, 2, 3)), List.of());
      await(garbage.recorded());
      assertEquals(List.of("n4"), garbage.outliers());
      assertNotEquals("n4", garbage.chosen().nodeId(), "seed " + seed);
      Verifier.Decision<List<Tensor>> nan = v.decide(nextTask(), REDUNDANT,
          List.of(run("n4", Float.NaN, Float.NaN, Float.NaN), run("n1", 1, 2, 3), run("n2", 1, 2, 3)), List.of());
      await(nan.recorded());
      assertNotEquals("n4", nan.chosen().nodeId(), "NaN agrees with nothing; seed " + seed);
    }
    Verifier.Decision<List<Tensor>> twice = verifier.decide(nextTask(), REDUNDANT,
        List.of(run("n4", 6, 6, 6), run("n4", 6, 6, 6), run("n1", 1, 2, 3)), List.of());
    await(twice.recorded());
    assertTrue(twice.disputed(), "one node, one vote: " + twice);
    assertEquals("verification disputed: the runs on workers [n4, n1] disagree (best similarity 0.333333, "
        + "threshold 0.999)", twice.dispute());
  }

  /** Another output kind plugs in as an Agreement: here exact text, as a text verifier might start. */
  @Test
  void anotherOutputKindPlugsInThroughItsAgreement() {
    Agreement<String> exactText = new Agreement<>() {
      @Override
      public double similarity(String a, String b) {
        return a.equals(b) ? 1 : Double.NaN;
      }

      @Override
      public String hash(String outputs) {
        return Integer.toHexString(outputs.hashCode());
      }
    };
    Verifier<String> text = new ConsensusVerifier<>(ledger, exactText, new Random(1));
    String t = nextTask();
    Verifier.Decision<String> d = text.decide(t, REDUNDANT, List.of(new Verifier.Run<>("n1", "Paris"),
        new Verifier.Run<>("n2", "Lyon"), new Verifier.Run<>("n3", "Paris")), List.of());
    await(d.recorded());
    assertEquals("verified", d.verdict());
    assertEquals("Paris", d.chosen().outputs());
    assertEquals(List.of("n2"), d.outliers(), "a NaN similarity is disagreement, never agreement");
    assertEquals(List.of("n1:reward", "n3:reward", "n2:slash"), events(t));
  }

  private Verifier.Runs<List<Tensor>> auditors(AtomicReference<Set<String>> excluded, List<Future<Verifier.Run<List<Tensor>>>> runs) {
    return (k, exclude) -> {
      assertEquals(Verifier.AUDITORS, k);
      excluded.set(exclude);
      return runs;
    };
  }

  @Test
  void anAuditThatAgreesIsClean() {
    AtomicReference<Set<String>> excluded = new AtomicReference<>();
    String t = nextTask() + "/audit";
    Verifier.Audit a = await(verifier.audit(t, AUDIT, run("n1", 1, 2, 3),
        auditors(excluded, List.of(Future.succeededFuture(run("n2", 1, 2, 3)), Future.succeededFuture(run("n3", 1, 2, 3))))));
    await(a.recorded());
    assertEquals(Verifier.Audit.Outcome.CLEAN, a.outcome());
    assertEquals("clean", a.outcome().wire());
    assertEquals(Set.of("n1"), excluded.get(), "the first worker never audits itself");
    assertEquals(List.of("n1", "n2", "n3"), a.nodes());
    assertEquals(List.of("n1:reward", "n2:reward", "n3:reward"), events(t));
  }

  @Test
  void anAuditOutvotingTheFirstWorkerCatchesAndSlashesIt() {
    String t = nextTask() + "/audit";
    Verifier.Audit a = await(verifier.audit(t, AUDIT, run("n1", 5, 5, 5), auditors(new AtomicReference<>(),
        List.of(Future.succeededFuture(run("n2", 1, 2, 3)), Future.succeededFuture(run("n3", 1, 2, 3))))));
    await(a.recorded());
    assertEquals(Verifier.Audit.Outcome.CAUGHT, a.outcome());
    assertEquals(List.of("n2", "n3"), a.outvotedBy());
    assertEquals(List.of("n2:reward", "n3:reward", "n1:slash"), events(t));
    assertEquals(1, nodes().get("n1").getInteger("slashes"));
  }

  @Test
  void anAuditWithoutAMajorityOrAuditorsIsInconclusive() {
    String disagree = nextTask() + "/audit";
    Verifier.Audit split = await(verifier.audit(disagree, AUDIT, run("n1", 1, 0, 0), auditors(new AtomicReference<>(),
        List.of(Future.succeededFuture(run("n2", 0, 1, 0)), Future.succeededFuture(run("n3", 0, 0, 1))))));
    await(split.recorded());
    assertEquals(Verifier.Audit.Outcome.INCONCLUSIVE, split.outcome());
    assertEquals(List.of(), events(disagree));

    String lost = nextTask() + "/audit";
    Verifier.Audit gone = await(verifier.audit(lost, AUDIT, run("n1", 1, 2, 3), auditors(new AtomicReference<>(),
        List.of(Future.failedFuture(new IllegalStateException("n2 lost")), Future.failedFuture("timed out")))));
    assertEquals(Verifier.Audit.Outcome.INCONCLUSIVE, gone.outcome(), "one answer alone proves nothing");
    assertEquals(List.of("n1"), gone.nodes());
    assertEquals(List.of(), events(lost));
    nodes().values().forEach(n -> assertEquals(0, n.getInteger("slashes")));
  }

  @Test
  void anAuditWithNoSpareWorkerIsSkipped() {
    String t = nextTask() + "/audit";
    Verifier.Audit a = await(verifier.audit(t, AUDIT, run("n1", 1, 2, 3), auditors(new AtomicReference<>(), List.of())));
    assertEquals(Verifier.Audit.Outcome.SKIPPED, a.outcome());
    assertEquals("skipped", a.outcome().wire());
    assertEquals(List.of(), events(t));
  }

  @Test
  void anAuditWhoseAuditorsAllGaveUpWaitingIsSkippedAndOneThatGotOneIsJudgedOnTwo() {
    String none = nextTask() + "/audit";
    Verifier.Audit a = await(verifier.audit(none, AUDIT, run("n1", 1, 2, 3), auditors(new AtomicReference<>(),
        List.of(Future.failedFuture(new Verifier.NoAuditor("busy")), Future.failedFuture(new Verifier.NoAuditor("busy"))))));
    assertEquals(Verifier.Audit.Outcome.SKIPPED, a.outcome(), "no auditor ever ran: nothing was judged");
    assertEquals(List.of(), a.nodes());
    assertEquals(List.of(), events(none));

    String one = nextTask() + "/audit";
    Verifier.Audit b = await(verifier.audit(one, AUDIT, run("n1", 1, 2, 3), auditors(new AtomicReference<>(),
        List.of(Future.succeededFuture(run("n2", 1, 2, 3)), Future.failedFuture(new Verifier.NoAuditor("busy"))))));
    await(b.recorded());
    assertEquals(Verifier.Audit.Outcome.CLEAN, b.outcome());
    assertEquals(List.of("n1", "n2"), b.nodes());

    String lostAndBusy = nextTask() + "/audit";
    Verifier.Audit c = await(verifier.audit(lostAndBusy, AUDIT, run("n1", 1, 2, 3), auditors(new AtomicReference<>(),
        List.of(Future.failedFuture(new IllegalStateException("n2 lost")), Future.failedFuture(new Verifier.NoAuditor("busy"))))));
    assertEquals(Verifier.Audit.Outcome.INCONCLUSIVE, c.outcome(), "an auditor ran and was lost: not a skip");
  }

  @Test
  void planRunsRedundantBatchesOnKWorkersAndAuditsAtTheSampledRate() {
    assertEquals(new Verifier.Plan(3, false, 0), verifier.plan(REDUNDANT));
    assertEquals(new Verifier.Plan(1, false, 0), verifier.plan(FunctionSpec.Verification.NONE));
    int trials = 10_000;
    int due = 0;
    for (int i = 0; i < trials; i++) {
      Verifier.Plan p = verifier.plan(AUDIT);
      assertEquals(1, p.workers());
      if (p.auditDue()) {
        due++;
        assertEquals(Verifier.AUDITORS, p.auditors());
      } else {
        assertEquals(0, p.auditors());
      }
    }
    // p = 0.3 over 10,000 draws: the standard deviation is 0.0046, so 0.28..0.32 is more than 4 of them.
    double rate = due / (double) trials;
    assertTrue(rate > 0.28 && rate < 0.32, "audit rate " + rate);
    FunctionSpec.Verification never = new FunctionSpec.Verification("audit", 1, 0.999, 0.0);
    FunctionSpec.Verification always = new FunctionSpec.Verification("audit", 1, 0.999, 1.0);
    for (int i = 0; i < 1000; i++) {
      assertFalse(verifier.plan(never).auditDue());
      assertTrue(verifier.plan(always).auditDue());
    }
  }
}
