package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.Deployment;
import io.inferium.chain.NodeStake;
import io.inferium.chain.contracts.InferiumToken;
import io.inferium.chain.contracts.NodeRegistry;
import io.inferium.chain.testing.Anvil;
import io.inferium.engine.cli.Main;
import io.inferium.engine.gateway.NodeCode;
import io.inferium.engine.gateway.NodePortSettings;
import io.inferium.engine.receipts.ReceiptSettings;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.inferium.verifier.LedgerSettings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Numeric;
import picocli.CommandLine;

/**
 * On-chain stake is the truth for remote nodes when a chain is configured (issue 13): three real node processes of
 * one operator connect to a gateway with no local workers; none works until its key is registered and staked in
 * NodeRegistry on a real Anvil; one taken below the minimum (a pending unstake) stops working until topped up. Then a
 * function verified by redundant execution on all three: the node that lies (its outputs perturbed) is outvoted,
 * slashed and ejected by the verifier, and the slash is sent to the registry with its evidence hash: its on-chain
 * stake falls by exactly the ledger's slash, the Slashed and Ejected events are there, and it is off work.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChainStakeIT {

  private static final BigInteger INF = BigInteger.TEN.pow(18);
  private static final BigInteger MIN_STAKE = INF.multiply(BigInteger.valueOf(1000)); // chain deploy's default
  private static final long SLASH_MICRO_USD = 50_000;

  private Path dir;
  private DeployedChain chain;
  private Anvil anvil;
  private Deployment deployment;
  private Credentials deployer;
  private TestGateway gw;
  private final List<Process> processes = new ArrayList<>();
  private final java.time.Instant started = java.time.Instant.now().minusSeconds(60);
  /** What the first test left: the operator key, its three nodes (the liar last) and the settlement it claimed. */
  private JsonObject opKey;
  private List<String> nodes;
  private JsonObject claim;

  @BeforeAll
  void start() throws Exception {
    dir = Files.createTempDirectory("chain-stake-it-");
    chain = DeployedChain.start(dir, null);
    anvil = chain.anvil;
    deployer = chain.deployer;
    deployment = chain.deployment;
    ReceiptSettings receipts = ReceiptSettings.defaults().withChain(chain.settings());
    // One outvoted answer ejects (reputation 0.8 < 0.9), so the first lie shows the whole path.
    gw = TestGateway.start(0, b -> b.nodePort(NodePortSettings.on(0).withHost("127.0.0.1")).receipts(receipts)
        .chainStakeRefreshMs(300).ledger(new LedgerSettings(1_000_000, SLASH_MICRO_USD, 100, 0.2, 0.9, 1)));
  }

  @AfterAll
  void stop() throws Exception {
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    try {
      if (gw != null) {
        gw.close();
      }
    } finally {
      if (chain != null) {
        chain.close();
      }
    }
  }

  @Test
  @Order(1)
  void nodesWorkOnlyWhileStakedOnChainAndALiarIsSlashedAndEjectedThere() throws Exception {
    opKey = gw.post("/api/operator-keys", new JsonObject().put("name", "op-chain").encode()).bodyAsJsonObject();
    nodes = new ArrayList<>();
    for (String label : List.of("honest-1", "honest-2", "liar")) {
      Path d = dir.resolve(label);
      startNode(d, opKey.getString("secret"), label.equals("liar") ? "noise:1.0" : null);
      nodes.add(Eventually.value(label + "'s key file", Duration.ofSeconds(60), () -> {
        Path f = d.resolve("node.key");
        return Files.exists(f) ? NodeKeys.loadOrCreate(f).nodeId() : null;
      }, id -> id != null));
    }
    String liar = nodes.get(2);
    for (String n : nodes) {
      JsonObject v = Eventually.value(n + " connected and read from the registry", Duration.ofSeconds(90),
          () -> nodeView(n), x -> "connected".equals(x.getString("connection")) && x.getJsonObject("chain") != null);
      assertEquals("chain", v.getString("stake_source"));
      assertFalse(v.getBoolean("eligible"), v.encode());
      assertTrue(v.getString("ineligible_reason").contains("not registered in NodeRegistry"), v.encode());
    }

    // The operator buys stake from the treasury and registers each node's key with the minimum.
    Credentials operator = anvil.fundedAccount();
    InferiumToken asTreasury = InferiumToken.load(deployment.token(), anvil.web3j(), anvil.transactions(deployer), anvil.gas());
    asTreasury.transfer(operator.getAddress(), MIN_STAKE.multiply(BigInteger.valueOf(4))).send();
    InferiumToken asOperator = InferiumToken.load(deployment.token(), anvil.web3j(), anvil.transactions(operator), anvil.gas());
    asOperator.approve(deployment.registry(), MIN_STAKE.multiply(BigInteger.valueOf(4))).send();
    NodeRegistry registry = NodeRegistry.load(deployment.registry(), anvil.web3j(), anvil.transactions(operator), anvil.gas());
    for (String n : nodes) {
      registry.register(rawKey(n), MIN_STAKE).send();
    }
    for (String n : nodes) {
      Eventually.value(n + " eligible once staked on chain", Duration.ofSeconds(30), () -> nodeView(n),
          x -> Boolean.TRUE.equals(x.getBoolean("eligible")));
    }
    // Below the minimum (a pending unstake) it stops working; topped up, it works again.
    String first = nodes.get(0);
    registry.requestUnstake(rawKey(first), INF).send();
    JsonObject below = Eventually.value(first + " off work below the minimum", Duration.ofSeconds(30), () -> nodeView(first),
        x -> Boolean.FALSE.equals(x.getBoolean("eligible")));
    assertTrue(below.getString("ineligible_reason").contains("below NodeRegistry's minimum"), below.encode());
    registry.stake(rawKey(first), INF).send();
    Eventually.value(first + " back at the minimum", Duration.ofSeconds(30), () -> nodeView(first),
        x -> Boolean.TRUE.equals(x.getBoolean("eligible")));

    // Redundant execution on all three: the liar is outvoted, slashed and ejected, on chain too. The three nodes are
    // one operator's, so the function must allow copies on distinct nodes of fewer operators.
    JsonObject rec = gw.deployAndWait(new JsonObject().put("name", "checked-add")
        .put("price", new JsonObject().put("per_request_micro_usd", 1000))
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3).put("distinct_operators", false)),
        TestGateway.model("add.onnx"));
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    for (int i = 0; i < 3 && !Boolean.FALSE.equals(nodeView(liar).getBoolean("eligible")); i++) {
      var resp = gw.infer("checked-add", new JsonObject().put("inputs", new JsonArray()
          .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, i, i, i, i)))
          .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4)))));
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
    }
    NodeStake chain = new NodeStake(anvil.web3j(), operator, anvil.chainId(), deployment.registry());
    NodeStake.Status slashed = Eventually.value("the liar slashed and ejected on chain", Duration.ofSeconds(60),
        () -> chain.status(rawKey(liar)), NodeStake.Status::ejected);
    assertEquals(MIN_STAKE.subtract(BigInteger.valueOf(SLASH_MICRO_USD).multiply(BigInteger.TEN.pow(12))), slashed.stake(),
        "the registry took exactly the ledger's slash (50 000 micro-USD = 0.05 INF)");
    assertFalse(slashed.active());
    JsonObject liarView = Eventually.value("the liar shown ejected", Duration.ofSeconds(30), () -> nodeView(liar),
        x -> x.getJsonObject("chain") != null && Boolean.TRUE.equals(x.getJsonObject("chain").getBoolean("ejected")));
    assertFalse(liarView.getBoolean("eligible"));
    // The events carry the evidence hash; sent once.
    var logs = anvil.web3j().ethGetLogs(new org.web3j.protocol.core.methods.request.EthFilter(
        org.web3j.protocol.core.DefaultBlockParameter.valueOf(BigInteger.valueOf(deployment.fromBlock())),
        org.web3j.protocol.core.DefaultBlockParameterName.LATEST, deployment.registry())
        .addSingleTopic(org.web3j.abi.EventEncoder.encode(NodeRegistry.SLASHED_EVENT))
        .addSingleTopic(Numeric.toHexString(rawKey(liar)))).send().getLogs();
    assertEquals(1, logs.size(), "slashed once on chain");
    for (String honest : nodes.subList(0, 2)) {
      NodeStake.Status s = chain.status(rawKey(honest));
      assertTrue(s.active() && !s.ejected(), honest + " untouched: " + s);
    }
    // Counted once the gateway has stored the confirmed slash, which can be after the chain and the node view show it.
    Eventually.value("the slash counted", Duration.ofSeconds(30), () -> gw.get("/metrics").bodyAsString(),
        m -> m.contains("inferium_chain_slashes_sent_total 1.0"));

    // The operator's share of those calls settles to the address its operator key names, and it claims it.
    String op = opKey.getString("secret");
    var put = gw.client.put(gw.port(), "127.0.0.1", "/api/payout-address").bearerTokenAuthentication(op)
        .sendJsonObject(new JsonObject().put("address", operator.getAddress())).await(30, TimeUnit.SECONDS);
    assertEquals(200, put.statusCode(), put.bodyAsString());
    Thread.sleep(200); // the last call's usage rows are older than the cutoff
    var settled = gw.post("/api/settlements", new JsonObject().put("cutoff", java.time.Instant.now().toString()).encode());
    assertEquals(201, settled.statusCode(), settled.bodyAsString());
    claim = Eventually.value("the operator's settlement open", Duration.ofSeconds(60), () -> {
      JsonArray s = gw.client.get(gw.port(), "127.0.0.1", "/api/earnings").bearerTokenAuthentication(op).send()
          .await(30, TimeUnit.SECONDS).bodyAsJsonObject().getJsonArray("settlements");
      return s.isEmpty() ? new JsonObject() : s.getJsonObject(0);
    }, c -> "open".equals(c.getString("state")));
    assertTrue(claim.getLong("amount_micro_usd") > 0, claim.encode());
    Path operatorKeyFile = dir.resolve("operator-wallet.key");
    Files.writeString(operatorKeyFile, Numeric.toHexStringWithPrefixZeroPadded(operator.getEcKeyPair().getPrivateKey(), 64));
    BigInteger before = asOperator.balanceOf(operator.getAddress()).send();
    assertEquals(0, new CommandLine(new Main()).execute("claim", "--rpc", anvil.rpcUrl(), "--key-file",
        operatorKeyFile.toString(), "--distributor", deployment.distributor(), "--gateway", "http://127.0.0.1:" + gw.port(),
        "--api-key", op));
    assertEquals(before.add(new BigInteger(claim.getString("amount"))), asOperator.balanceOf(operator.getAddress()).send(),
        "the operator was paid exactly its ledger share");
  }

  /**
   * Issue 12 item 7: the operator reads what each of its nodes earned (its share of the charges it served, the rewards
   * for verified runs, the liar's slash) at {@code GET /api/earnings}, and the shares add up to exactly what settlement
   * paid it on chain and to its payout rows. Another operator (with a node of its own), a developer and a user see none
   * of it.
   */
  @Test
  @Order(2)
  void eachNodesEarningsAreVisibleToItsOperatorAloneAndAddUpToWhatSettlementPaid() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(claim != null, "needs the first test's settlement");
    String op = opKey.getString("secret");
    String window = "?from=" + started;
    JsonObject mine = earnings(op, "/api/earnings" + window, 200);
    assertEquals(opKey.getString("id"), mine.getString("operator"));
    assertEquals("operator:" + opKey.getString("id"), mine.getString("payee"));
    List<JsonObject> rows = mine.getJsonArray("nodes").stream().map(JsonObject.class::cast).toList();
    assertEquals(new java.util.TreeSet<>(nodes), new java.util.TreeSet<>(rows.stream().map(n -> n.getString("node_id")).toList()));
    long shares = 0;
    for (JsonObject n : rows) {
      JsonObject ledger = nodeView(n.getString("node_id"));
      assertEquals(ledger.getLong("rewards_micro_usd"), n.getLong("rewards_micro_usd"), "rewards as the node ledger holds them");
      assertEquals(n.getLong("share_micro_usd") + n.getLong("rewards_micro_usd") - n.getLong("slashed_micro_usd"),
          n.getLong("net_micro_usd"), n.encode());
      assertEquals(n.getLong("share_micro_usd"), n.getLong("settled_share_micro_usd"), "all of it settled: " + n.encode());
      assertTrue(n.getString("key_sha256").startsWith(n.getString("node_id").substring(2)), n.encode());
      shares += n.getLong("share_micro_usd");
    }
    JsonObject liar = rows.stream().filter(n -> n.getString("node_id").equals(nodes.get(2))).findFirst().orElseThrow();
    assertEquals(1, liar.getLong("slashes"), liar.encode());
    assertEquals(SLASH_MICRO_USD, liar.getLong("slashed_micro_usd"), liar.encode());
    assertEquals(0, liar.getLong("share_micro_usd"), "an outvoted answer is never the one served: " + liar.encode());
    for (JsonObject honest : rows.stream().filter(n -> !n.getString("node_id").equals(nodes.get(2))).toList()) {
      assertTrue(honest.getLong("verified_runs") >= 1 && honest.getLong("rewards_micro_usd") == 100 * honest.getLong("verified_runs"),
          honest.encode());
      assertEquals(0, honest.getLong("slashes"), honest.encode());
    }
    assertTrue(shares > 0, mine.encodePrettily());
    assertEquals(claim.getLong("amount_micro_usd"), shares, "the per-node shares are what settlement paid the operator");
    assertEquals(operatorPayoutRows(opKey.getString("id")), shares, "and what its payout rows total");
    JsonObject totals = mine.getJsonObject("totals");
    assertEquals(shares, totals.getLong("share_micro_usd"));
    assertEquals(rows.stream().mapToLong(n -> n.getLong("net_micro_usd")).sum(), totals.getLong("net_micro_usd"));
    assertEquals(SLASH_MICRO_USD, totals.getLong("slashed_micro_usd"));
    assertEquals(1, mine.getJsonArray("settlements").size(), mine.encodePrettily());

    // Another operator, with a node of its own (not staked, so it earns nothing): it sees that node and none of these.
    JsonObject other = gw.post("/api/operator-keys", new JsonObject().put("name", "op-other").encode()).bodyAsJsonObject();
    Path otherDir = dir.resolve("other");
    startNode(otherDir, other.getString("secret"), null);
    String otherNode = Eventually.value("the other operator's node key", Duration.ofSeconds(60), () -> {
      Path f = otherDir.resolve("node.key");
      return Files.exists(f) ? NodeKeys.loadOrCreate(f).nodeId() : null;
    }, id -> id != null);
    Eventually.value(otherNode + " registered", Duration.ofSeconds(90), () -> nodeView(otherNode),
        x -> "connected".equals(x.getString("connection")));
    JsonObject theirs = earnings(other.getString("secret"), "/api/earnings" + window, 200);
    assertEquals(List.of(otherNode), theirs.getJsonArray("nodes").stream().map(n -> ((JsonObject) n).getString("node_id")).toList());
    assertEquals(0, theirs.getJsonObject("totals").getLong("net_micro_usd"));
    assertTrue(theirs.getJsonArray("settlements").isEmpty(), theirs.encode());
    earnings(other.getString("secret"), "/api/earnings?operator=" + opKey.getString("id"), 403);
    // A developer and a user key see their tenant's developer earnings, never nodes, and may not name an operator.
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"earner\",\"tier\":\"free\"}").statusCode());
    for (String role : List.of("developer", "user")) {
      String key = gw.newKey("earner", role);
      earnings(key, "/api/earnings?operator=" + opKey.getString("id"), 403);
      JsonObject dev = earnings(key, "/api/earnings" + window, 200);
      assertEquals("earner", dev.getString("developer"), dev.encode());
      assertFalse(dev.containsKey("nodes"), dev.encode());
    }
    // An admin names the operator; bad parameters are named.
    JsonObject asAdmin = earnings(TestGateway.ADMIN_KEY, "/api/earnings" + window + "&operator=" + opKey.getString("id"), 200);
    assertEquals(mine.getJsonArray("nodes"), asAdmin.getJsonArray("nodes"));
    assertTrue(earnings(TestGateway.ADMIN_KEY, "/api/earnings?operator=nobody", 404).getString("error").contains("nobody"));
    assertTrue(earnings(TestGateway.ADMIN_KEY, "/api/earnings", 400).getString("error").contains("'operator'"));
    assertTrue(earnings(op, "/api/earnings?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", 400).getString("error")
        .contains("must be before"));
  }

  private JsonObject earnings(String key, String path, int status) throws Exception {
    var resp = gw.client.get(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).send().await(30, TimeUnit.SECONDS);
    assertEquals(status, resp.statusCode(), path + ": " + resp.bodyAsString());
    return resp.bodyAsJsonObject();
  }

  /** The payout ledger's operator rows of the operator's nodes, summed straight from the database. */
  private long operatorPayoutRows(String operatorKeyId) throws Exception {
    io.vertx.sqlclient.Pool pool = io.vertx.pgclient.PgBuilder.pool()
        .connectingTo(io.vertx.pgclient.PgConnectOptions.fromUri(gw.config.dbUrl())).using(gw.vertx).build();
    try {
      return pool.preparedQuery("SELECT COALESCE(sum(p.amount_micro_usd), 0)::bigint FROM payouts p JOIN nodes n "
              + "ON n.node_id = p.party WHERE p.role = 'operator' AND n.operator_key_id = $1")
          .execute(io.vertx.sqlclient.Tuple.of(operatorKeyId)).await(10, TimeUnit.SECONDS).iterator().next().getLong(0);
    } finally {
      pool.close();
    }
  }

  private void startNode(Path d, String operatorKey, String fault) throws Exception {
    Files.createDirectories(d);
    Path keyFile = d.resolve("operator.key");
    Files.writeString(keyFile, operatorKey + "\n", StandardCharsets.UTF_8);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xss8m", "-Xmx256m", "-cp", NodeCode.resolve().classPath(), "io.inferium.node.NodeMain", "node",
        "--gateway", "127.0.0.1:" + gw.gateway.remoteNodes().port(), "--operator-key", keyFile.toString(),
        "--data-dir", d.toString(), "--gateway-fingerprint", gw.gateway.remoteNodes().fingerprint(),
        "--heartbeat-ms", "500", "--label", d.getFileName().toString()));
    if (fault != null) {
      cmd.addAll(List.of("--test-fault", fault));
    }
    processes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(d.resolve("node.log").toFile()).start());
  }

  private JsonObject nodeView(String nodeId) throws Exception {
    return gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> nodeId.equals(n.getString("node_id"))).findFirst().orElse(new JsonObject());
  }

  /** The node's 32-byte Ed25519 key, from the base64 X.509 key /api/nodes shows. */
  private byte[] rawKey(String nodeId) throws Exception {
    return NodeKeys.rawPublicKey(nodeView(nodeId).getString("public_key"));
  }
}
