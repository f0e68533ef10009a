package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.Deployment;
import io.inferium.chain.Receipt;
import io.inferium.chain.ReceiptCheck;
import io.inferium.chain.contracts.ReceiptAnchor;
import io.inferium.chain.testing.Anvil;
import io.inferium.engine.cli.Main;
import io.inferium.engine.receipts.ReceiptSettings;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.web3j.abi.EventEncoder;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;
import picocli.CommandLine;

/**
 * Receipts end to end against a real Anvil: `inferium chain deploy` deploys the contracts; a gateway with small
 * epochs answers requests; every receipt from {@code GET /api/receipts/{id}} verifies from a fresh client holding
 * only the RPC URL and the anchor address (ReceiptCheck, and `inferium verify-receipt` by file and by id); tampered
 * ones do not; another tenant gets 404. Then Anvil is stopped (its state kept in a file), requests go on and all
 * succeed, epochs close and fail to anchor; Anvil comes back with the same chain on the same port and every pending
 * root is anchored afterwards, each epoch exactly once on chain.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReceiptsIT {

  private Path dir;
  private DeployedChain chain;
  private Anvil anvil;
  private Path deploymentFile;
  private Deployment deployment;
  private TestGateway gw;
  private String acme;
  private String globex;
  private final List<String> acmeRequests = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    dir = Files.createTempDirectory("receipts-it-");
    chain = DeployedChain.start(dir, dir.resolve("anvil-state.json"));
    anvil = chain.anvil;
    deploymentFile = chain.deploymentFile;
    deployment = chain.deployment;

    ReceiptSettings receipts = ReceiptSettings.defaults().withEpoch(4, 300).withRetry(100, 400).withChain(chain.settings());
    // Settlement only when asked (POST /api/settlements); the platform's share burned, as on chain.
    gw = TestGateway.start(1, b -> b.receipts(receipts).settlementIntervalMs(0).burnPlatformShare(true));
    assertEquals("ready", gw.deployAndWait(new JsonObject().put("name", "adder")
        .put("price", new JsonObject().put("per_request_micro_usd", 100)), TestGateway.model("add.onnx")).getString("state"));
    for (String t : List.of("acme", "globex")) {
      assertEquals(201, gw.post("/api/tenants", new JsonObject().put("id", t).encode()).statusCode());
    }
    acme = gw.newKey("acme", "user");
    globex = gw.newKey("globex", "user");
  }

  @AfterAll
  void stop() throws Exception {
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
  void everyReceiptVerifiesFromAFreshClientAndTamperedOnesDoNot() throws Exception {
    acmeRequests.addAll(infer(acme, 10));
    List<JsonObject> receipts = awaitAnchored(acme, acmeRequests);
    Web3j fresh = Web3j.build(new HttpService(anvil.rpcUrl()));
    try {
      for (JsonObject r : receipts) {
        assertTrue(check(fresh, r), "receipt " + r.getString("request_id") + " verifies on chain");
        JsonObject receipt = r.getJsonObject("receipt");
        assertEquals("adder", receipt.getString("function"));
        assertEquals(100, receipt.getLong("charge_micro_usd"));
        assertEquals(64, receipt.getString("input_sha256").length());
        assertEquals(64, receipt.getString("output_sha256").length());
        assertEquals(deployment.anchor(), r.getJsonObject("anchoring").getString("contract"));
        assertTrue(r.getJsonObject("anchoring").getString("tx_hash").startsWith("0x"));
      }
      JsonObject one = receipts.get(3);
      assertFalse(check(fresh, tamper(one, "charge_micro_usd", 0L)), "changed charge");
      assertFalse(check(fresh, tamper(one, "output_sha256", "ee".repeat(32))), "changed output digest");
      JsonObject otherEpoch = one.copy().put("epoch", one.getLong("epoch") + 100);
      assertFalse(check(fresh, otherEpoch), "an epoch never committed");
    } finally {
      fresh.shutdown();
    }

    // The CLI, as a third party runs it: by file, and by request id fetched from the gateway with the tenant's key.
    JsonObject first = receipts.get(0);
    Path file = dir.resolve("receipt.json");
    Files.writeString(file, first.encodePrettily());
    assertEquals(0, cli("verify-receipt", file.toString(), "--rpc", anvil.rpcUrl(), "--anchor", deployment.anchor()));
    assertEquals(0, cli("verify-receipt", first.getString("request_id"), "--rpc", anvil.rpcUrl(), "--deployment",
        deploymentFile.toString(), "--gateway", "http://127.0.0.1:" + gw.port(), "--api-key", acme));
    Files.writeString(file, tamper(first, "units", 2L).encodePrettily());
    assertEquals(1, cli("verify-receipt", file.toString(), "--rpc", anvil.rpcUrl(), "--anchor", deployment.anchor()),
        "a tampered receipt is not verified");
    assertEquals(2, cli("verify-receipt", file.toString(), "--rpc", anvil.rpcUrl()), "no contract address given");
  }

  @Test
  @Order(2)
  void onlyTheRequestingTenantOrAnAdminReadsAReceipt() throws Exception {
    String id = acmeRequests.get(0);
    assertEquals(200, get(acme, "/api/receipts/" + id).statusCode());
    assertEquals(200, get(TestGateway.ADMIN_KEY, "/api/receipts/" + id).statusCode());
    HttpResponse<Buffer> other = get(globex, "/api/receipts/" + id);
    assertEquals(404, other.statusCode(), other.bodyAsString());
    HttpResponse<Buffer> unknown = get(globex, "/api/receipts/no-such-request");
    assertEquals(404, unknown.statusCode());
    assertEquals(other.bodyAsJsonObject().getValue("error").toString().replace(id, "X"),
        unknown.bodyAsJsonObject().getValue("error").toString().replace("no-such-request", "X"),
        "another tenant's receipt is indistinguishable from an unknown one");
    HttpResponse<Buffer> bad = get(acme, "/api/receipts/" + "x".repeat(129));
    assertEquals(400, bad.statusCode());
    assertTrue(bad.bodyAsString().contains("request id"), bad.bodyAsString());
    HttpResponse<Buffer> anonymous = gw.client.get(gw.port(), "127.0.0.1", "/api/receipts/" + id).send()
        .await(30, TimeUnit.SECONDS);
    assertEquals(401, anonymous.statusCode());
  }

  @Test
  @Order(3)
  void anRpcOutageFailsNoRequestAndPendingRootsAnchorAfterwardsOnce() throws Exception {
    double rpcErrorsBefore = gw.metrics.registry().counter("inferium.chain.rpc.errors").count();
    anvil.stop();
    long down = System.nanoTime();
    List<String> during = infer(acme, 12); // every one answered 200 (asserted in infer)
    // Epochs close while the chain is away and their anchoring fails, is counted and retried (7 attempts with
    // 100-400 ms backoff: the chain stays away about 2.5 s).
    // (The oldest unanchored epoch holds the first of them: later epochs wait behind it, in order.)
    TestGateway.poll("epochs closed and anchoring retried during the outage", () -> get(acme, "/api/receipts/"
        + during.get(0)).bodyAsJsonObject(), r -> r.getJsonObject("anchoring").getInteger("attempts", 0) >= 7);
    assertTrue(gw.metrics.registry().counter("inferium.chain.rpc.errors").count() >= rpcErrorsBefore + 7);
    anvil.restart();
    long downMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - down);
    List<JsonObject> after = awaitAnchored(acme, during);

    // Every epoch the gateway anchored is on chain exactly once, in the transaction the gateway recorded.
    Map<Long, String> txByEpoch = new TreeMap<>();
    List<String> all = new ArrayList<>(acmeRequests);
    all.addAll(during);
    for (JsonObject r : awaitAnchored(acme, all)) {
      String previous = txByEpoch.put(r.getLong("epoch"), r.getJsonObject("anchoring").getString("tx_hash"));
      assertTrue(previous == null || previous.equals(txByEpoch.get(r.getLong("epoch"))));
    }
    Web3j fresh = Web3j.build(new HttpService(anvil.rpcUrl()));
    try {
      EthLog logs = fresh.ethGetLogs(new EthFilter(DefaultBlockParameter.valueOf(BigInteger.valueOf(deployment.fromBlock())),
          DefaultBlockParameterName.LATEST, deployment.anchor())
          .addSingleTopic(EventEncoder.encode(ReceiptAnchor.ROOTCOMMITTED_EVENT))).send();
      Map<Long, List<String>> committed = logs.getLogs().stream().map(l -> (Log) l.get())
          .collect(Collectors.groupingBy(l -> Numeric.toBigInt(l.getTopics().get(1)).longValueExact(), TreeMap::new,
              Collectors.mapping(Log::getTransactionHash, Collectors.toList())));
      for (Map.Entry<Long, String> e : txByEpoch.entrySet()) {
        assertEquals(List.of(e.getValue()), committed.get(e.getKey()), "epoch " + e.getKey() + " committed once, by the recorded tx");
      }
      for (JsonObject r : after) {
        assertTrue(check(fresh, r), "receipt answered during the outage verifies: " + r.getString("request_id"));
      }
    } finally {
      fresh.shutdown();
    }
    // The outbox drains and the metrics say so (gauges are refreshed by the closer's next look).
    TestGateway.poll("outbox empty in the metrics", () -> gw.metrics.registry().get("inferium.chain.epochs.unanchored")
        .gauge().value(), v -> v == 0.0);
    assertTrue(gw.metrics.registry().counter("inferium.chain.epochs.anchored").count() >= txByEpoch.size());
    assertTrue(gw.metrics.registry().counter("inferium.chain.receipts.recorded").count() >= all.size());
    // Gas: exactly what the chain says every commit on the anchor cost (all sent from the gateway's key, each counted
    // once, also one found already there after the outage); the height seen is at least the last commit's block.
    Web3j again = Web3j.build(new HttpService(anvil.rpcUrl()));
    try {
      long gas = 0;
      long lastBlock = 0;
      for (EthLog.LogResult<?> l : again.ethGetLogs(new EthFilter(DefaultBlockParameter.valueOf(BigInteger.valueOf(
              deployment.fromBlock())), DefaultBlockParameterName.LATEST, deployment.anchor())
          .addSingleTopic(EventEncoder.encode(ReceiptAnchor.ROOTCOMMITTED_EVENT))).send().getLogs()) {
        Log log = (Log) l.get();
        gas += again.ethGetTransactionReceipt(log.getTransactionHash()).send().getTransactionReceipt().orElseThrow()
            .getGasUsed().longValueExact();
        lastBlock = Math.max(lastBlock, log.getBlockNumber().longValueExact());
      }
      assertTrue(gas > 0);
      long total = gas;
      TestGateway.poll("gas of every commit counted once", () -> gw.metrics.registry().counter("inferium.chain.gas.used")
          .count(), v -> v == total);
      assertTrue(gw.metrics.registry().get("inferium.chain.block.height").gauge().value() >= lastBlock);
    } finally {
      again.shutdown();
    }
    String scrape = gw.get("/metrics").bodyAsString();
    for (String name : List.of("inferium_chain_receipts_pending", "inferium_chain_epochs_anchored_total",
        "inferium_chain_anchor_lag_seconds", "inferium_chain_rpc_errors_total", "inferium_chain_gas_used_total",
        "inferium_chain_block_height")) {
      assertTrue(scrape.contains(name), name + " in /metrics");
    }
    System.out.printf("ReceiptsIT: RPC down %d ms; %d epochs anchored for %d receipts%n", downMs, txByEpoch.size(), all.size());
  }

  @Test
  @Order(4)
  void aSettlementEpochPaysEachClaimItsLedgerAmountOnceAndBurnsThePlatformShare() throws Exception {
    // A developer tenant with a priced function of its own, called by acme.
    assertEquals(201, gw.post("/api/tenants", new JsonObject().put("id", "devco").encode()).statusCode());
    String dev = gw.newKey("devco", "developer");
    String devUser = gw.newKey("devco", "user");
    HttpResponse<Buffer> up = gw.uploadAs(dev, new JsonObject().put("name", "dev-adder").put("visibility", "public")
        .put("price", new JsonObject().put("per_request_micro_usd", 1000)).encode(), TestGateway.model("add.onnx"));
    assertEquals(202, up.statusCode(), up.bodyAsString());
    TestGateway.poll("dev-adder ready", () -> gw.get("/api/functions/dev-adder/versions/1").bodyAsJsonObject(),
        v -> "ready".equals(v.getString("state")));
    Credentials payee = anvil.fundedAccount();
    Path payeeKey = dir.resolve("payee.key");
    Files.writeString(payeeKey, Numeric.toHexStringWithPrefixZeroPadded(payee.getEcKeyPair().getPrivateKey(), 64));

    // Attacks first: a user key of the same tenant (handed to an app) cannot redirect the tenant's earnings; a
    // malformed address names the field; only an admin builds an epoch.
    assertEquals(403, put(devUser, "/api/payout-address", new JsonObject().put("address", payee.getAddress())).statusCode());
    HttpResponse<Buffer> bad = put(dev, "/api/payout-address", new JsonObject().put("address", "0x1234"));
    assertEquals(400, bad.statusCode());
    assertTrue(bad.bodyAsString().contains("'address'"), bad.bodyAsString());
    assertEquals(403, gw.postAs(dev, "/api/settlements", new JsonObject()).statusCode());
    assertEquals(200, put(dev, "/api/payout-address", new JsonObject().put("address", payee.getAddress())).statusCode());
    assertEquals(payee.getAddress().toLowerCase(java.util.Locale.ROOT),
        get(devUser, "/api/payout-address").bodyAsJsonObject().getString("address"));

    for (int i = 0; i < 5; i++) {
      HttpResponse<Buffer> resp = gw.postAs(acme, "/v2/models/dev-adder/infer", addRequest(i));
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
    }
    long earned = TestGateway.poll("devco's earnings billed", () -> get(dev, "/api/earnings").bodyAsJsonObject()
        .getLong("earned_micro_usd"), e -> e == 5 * 700L);

    Web3j web3j = Web3j.build(new HttpService(anvil.rpcUrl()));
    try {
      io.inferium.chain.contracts.InferiumToken token = io.inferium.chain.contracts.InferiumToken.load(
          deployment.token(), web3j, payee, new org.web3j.tx.gas.DefaultGasProvider());
      BigInteger supplyBefore = token.totalSupply().send();
      HttpResponse<Buffer> settled = gw.post("/api/settlements",
          new JsonObject().put("cutoff", java.time.Instant.now().toString()).encode());
      assertEquals(201, settled.statusCode(), settled.bodyAsString());
      JsonObject epoch = settled.bodyAsJsonObject();
      assertEquals(1, epoch.getInteger("accounts"), "only devco named an address");
      assertEquals(earned, epoch.getLong("payout_micro_usd"));
      BigInteger burned = new BigInteger(epoch.getString("platform_share"));
      assertTrue(burned.signum() > 0, "every call's platform share is marked burned");
      assertEquals(200, gw.post("/api/settlements", new JsonObject().encode()).statusCode(),
          "a second epoch right after has nothing new to pay");

      JsonObject claim = TestGateway.poll("settlement epoch opened on chain", () -> get(dev, "/api/earnings")
          .bodyAsJsonObject().getJsonArray("settlements").getJsonObject(0), c -> "open".equals(c.getString("state")));
      assertEquals(BigInteger.valueOf(earned).multiply(BigInteger.TEN.pow(12)).toString(), claim.getString("amount"));
      assertEquals(0, get(globex, "/api/earnings").bodyAsJsonObject().getJsonArray("settlements").size(),
          "another tenant sees none of it");
      assertEquals(supplyBefore.subtract(burned), token.totalSupply().send(), "supply fell by the platform share");

      BigInteger before = token.balanceOf(payee.getAddress()).send();
      String[] claimArgs = {"claim", "--rpc", anvil.rpcUrl(), "--key-file", payeeKey.toString(), "--deployment",
          deploymentFile.toString(), "--gateway", "http://127.0.0.1:" + gw.port(), "--api-key", dev};
      assertEquals(0, cli(claimArgs));
      assertEquals(before.add(new BigInteger(claim.getString("amount"))), token.balanceOf(payee.getAddress()).send(),
          "the claim paid exactly the ledger amount");
      assertEquals(0, cli(claimArgs), "claiming again is a no-op that says so");
      assertEquals(before.add(new BigInteger(claim.getString("amount"))), token.balanceOf(payee.getAddress()).send());
      // The contract itself refuses a second claim, whoever sends it.
      io.inferium.chain.contracts.PayoutDistributor distributor = io.inferium.chain.contracts.PayoutDistributor.load(
          deployment.distributor(), web3j, new org.web3j.tx.RawTransactionManager(web3j, payee, anvil.chainId()),
          new org.web3j.tx.gas.DynamicEIP1559GasProvider(web3j, anvil.chainId()));
      List<byte[]> proof = claim.getJsonArray("proof").stream()
          .map(p -> HexFormat.of().parseHex(((String) p).substring(2))).toList();
      org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> distributor.claim(
          BigInteger.valueOf(claim.getLong("epoch")), new BigInteger(claim.getString("amount")), proof).send());
    } finally {
      web3j.shutdown();
    }
    assertTrue(gw.get("/metrics").bodyAsString().contains("inferium_chain_settlement_epochs_opened_total 1.0"));
  }

  private HttpResponse<Buffer> put(String key, String path, JsonObject body) throws Exception {
    return gw.client.put(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).sendJsonObject(body)
        .await(30, TimeUnit.SECONDS);
  }

  private List<String> infer(String key, int n) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      HttpResponse<Buffer> resp = gw.postAs(key, "/v2/models/adder/infer", addRequest(i));
      assertEquals(200, resp.statusCode(), resp.bodyAsString());
      String id = resp.getHeader("X-Inferium-Request-Id");
      assertNotNull(id);
      ids.add(id);
    }
    return ids;
  }

  private static JsonObject addRequest(int i) {
    JsonObject tensor = new JsonObject().put("shape", new JsonArray().add(1).add(4)).put("datatype", "FP32")
        .put("data", new JsonArray().add(i).add(2.0).add(3.0).add(4.0));
    return new JsonObject().put("inputs", new JsonArray().add(tensor.copy().put("name", "a")).add(tensor.copy().put("name", "b")));
  }

  private HttpResponse<Buffer> get(String key, String path) throws Exception {
    return gw.client.get(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).send().await(30, TimeUnit.SECONDS);
  }

  private List<JsonObject> awaitAnchored(String key, List<String> ids) throws Exception {
    List<JsonObject> out = new ArrayList<>();
    for (String id : ids) {
      out.add(TestGateway.poll("receipt " + id + " anchored", () -> {
        HttpResponse<Buffer> r = get(key, "/api/receipts/" + id);
        return r.statusCode() == 200 ? r.bodyAsJsonObject() : new JsonObject();
      }, r -> "anchored".equals(r.getString("status"))));
    }
    return out;
  }

  /** What a third party does with a saved receipt: the receipt's fields, its proof, the epoch; nothing else. */
  private boolean check(Web3j fresh, JsonObject file) throws Exception {
    Receipt receipt = Receipt.fromJson(file.getJsonObject("receipt"));
    List<byte[]> proof = file.getJsonArray("proof").stream()
        .map(p -> HexFormat.of().parseHex(((String) p).substring(2))).toList();
    return ReceiptCheck.onChain(fresh, deployment.anchor(), file.getLong("epoch"), receipt, proof);
  }

  private static JsonObject tamper(JsonObject file, String field, Object value) {
    JsonObject copy = file.copy();
    copy.getJsonObject("receipt").put(field, value);
    return copy;
  }

  private static int cli(String... args) {
    return new CommandLine(new Main()).execute(args);
  }
}
