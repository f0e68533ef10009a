package io.inferium.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.contracts.ReceiptAnchor;
import io.inferium.chain.testing.Anvil;
import io.inferium.chain.testing.GasReport;
import io.inferium.functions.CompletionEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;

/**
 * Completion events → receipts → epochs → roots committed on a real Anvil; then a fresh client holding only the
 * RPC URL, the contract address and a receipt file checks every receipt, and tampered receipts fail.
 */
class ReceiptAnchoringIT {

  private static Anvil anvil;
  private static ReceiptAnchor anchor;

  @BeforeAll
  static void start() throws Exception {
    anvil = Anvil.start();
    Credentials admin = anvil.fundedAccount();
    Credentials gateway = anvil.fundedAccount();
    ReceiptAnchor deployed = ReceiptAnchor.deploy(anvil.web3j(), anvil.transactions(admin), anvil.gas(),
        admin.getAddress()).send();
    deployed.grantRole(deployed.ANCHOR_ROLE().send(), gateway.getAddress()).send();
    anchor = ReceiptAnchor.load(deployed.getContractAddress(), anvil.web3j(), anvil.transactions(gateway), anvil.gas());
  }

  @AfterAll
  static void stop() {
    if (anvil != null) {
      anvil.close();
    }
  }

  @Test
  void everyReceiptVerifiesFromAFreshClientAndTamperedOnesDoNot() throws Exception {
    List<Receipt> receipts = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      receipts.add(Receipt.of(event(i)));
    }
    ReceiptEpoch first = ReceiptEpoch.of(1, receipts.subList(0, 128));
    ReceiptEpoch second = ReceiptEpoch.of(2, receipts.subList(128, 150));
    GasReport.record("commit root (128 receipts)", anchor.commit(BigInteger.ONE, first.root(), BigInteger.valueOf(first.count())).send());
    GasReport.record("commit root (22 receipts)", anchor.commit(BigInteger.TWO, second.root(), BigInteger.valueOf(second.count())).send());

    List<JsonObject> files = new ArrayList<>();
    for (Receipt receipt : receipts) {
      ReceiptEpoch epoch = first.proven(receipt.requestId()).isPresent() ? first : second;
      ReceiptEpoch.Proven proven = epoch.proven(receipt.requestId()).orElseThrow();
      assertTrue(proven.verifiesLocally());
      files.add(new JsonObject().put("epoch", proven.epoch()).put("receipt", receipt.toJson())
          .put("proof", new JsonArray(new ArrayList<>(proven.proofHex()))).encodePrettily().transform(JsonObject::new));
    }

    Web3j fresh = Web3j.build(new HttpService(anvil.rpcUrl()));
    try {
      String address = anchor.getContractAddress();
      for (JsonObject file : files) {
        assertTrue(check(fresh, address, file), file.getJsonObject("receipt").getString("request_id"));
      }
      JsonObject one = files.get(7);
      assertFalse(check(fresh, address, tamper(one, "output_sha256", "ee".repeat(32))), "changed output");
      assertFalse(check(fresh, address, tamper(one, "charge_micro_usd", 1)), "changed charge");
      assertFalse(check(fresh, address, tamper(one, "verdict", "disagree")), "changed verdict");
      assertFalse(check(fresh, address, tamper(one, "nodes", new JsonArray().add("w-9"))), "changed nodes");
      assertFalse(check(fresh, address, one.copy().put("epoch", 2)), "claimed in another epoch");
      assertFalse(check(fresh, address, one.copy().put("epoch", 3)), "an epoch never anchored");
      JsonObject wrongProof = one.copy().put("proof", files.get(8).getJsonArray("proof"));
      assertFalse(check(fresh, address, wrongProof), "another receipt's proof");
    } finally {
      fresh.shutdown();
    }
    assertEquals(BigInteger.valueOf(128), anchor.anchorOf(BigInteger.ONE).send().count);
  }

  private static boolean check(Web3j web3j, String address, JsonObject file) throws Exception {
    HexFormat hex = HexFormat.of();
    List<byte[]> proof = file.getJsonArray("proof").stream().map(p -> hex.parseHex(((String) p).substring(2))).toList();
    return ReceiptCheck.onChain(web3j, address, file.getLong("epoch"), Receipt.fromJson(file.getJsonObject("receipt")), proof);
  }

  private static JsonObject tamper(JsonObject file, String field, Object value) {
    JsonObject copy = file.copy();
    copy.getJsonObject("receipt").put(field, value);
    return copy;
  }

  private static CompletionEvent event(int i) {
    String[][] kinds = {{"v2.infer", "request"}, {"chat.completions", "text"}, {"embeddings", "text"}};
    String[] kind = kinds[i % kinds.length];
    String worker = "w-" + (i % 4);
    return CompletionEvent.builder("req-" + i, "fn-" + (i % 5), 1 + i % 2, "acme", sha("model " + (i % 5)))
        .at(Instant.parse("2026-12-05T01:00:00Z").plusMillis(i)).tenant("t-" + (i % 3)).endpoint(kind[0], kind[1])
        .inputSha256(sha("in " + i)).outputSha256(sha("out " + i)).worker(worker)
        .evidence(new JsonObject().put("signatures", new JsonObject().put(worker, "sig-" + i)))
        .verdict(i % 2 == 0 ? null : "agree", 0.9999).charge(1 + i % 7, 1_000 + i, 100L * (i % 9)).build();
  }

  private static String sha(String s) {
    return HexFormat.of().formatHex(Hash.sha256(s.getBytes()));
  }
}
