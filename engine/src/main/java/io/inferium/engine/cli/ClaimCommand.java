package io.inferium.engine.cli;

import io.inferium.chain.Deployment;
import io.inferium.chain.KeyFile;
import io.inferium.chain.contracts.PayoutDistributor;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.gas.DynamicEIP1559GasProvider;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code inferium claim}: claims a tenant's settled earnings from {@code PayoutDistributor}. Reads the settlements
 * that pay the tenant from {@code GET /api/earnings} (epoch, address, amount, proof), keeps those paid to the key's
 * own address, and for each epoch open on chain and not yet claimed sends {@code claim(epoch, amount, proof)} from
 * that key (the claimant pays the gas). The contract checks the proof against the root it holds, so a gateway that
 * serves a wrong amount or proof gets a revert, never a payment. The distributor's address comes from the user
 * ({@code --deployment} or {@code --distributor}). Exit 0: everything claimable is claimed (now or before); 1: a
 * claim failed or the chain did not answer; 2: bad input.
 */
@Command(name = "claim", mixinStandardHelpOptions = true,
    description = "Claim your settled earnings (developer and operator shares, contest rewards) from the PayoutDistributor contract.")
class ClaimCommand implements Callable<Integer> {

  @Option(names = "--rpc", required = true, description = "JSON-RPC URL of the chain.")
  String rpc;

  @Option(names = "--key-file", required = true, description = "File holding the key of your payout address (64 hex digits); it signs the claims and pays their gas.")
  Path keyFile;

  @Option(names = "--deployment", description = "Deployment file to take the distributor address from.")
  Path deployment;

  @Option(names = "--distributor", description = "PayoutDistributor contract address (instead of --deployment).")
  String distributor;

  @Option(names = "--gateway", defaultValue = "${env:INFERIUM_URL}", description = "Gateway URL (env INFERIUM_URL).")
  String gateway;

  @Option(names = "--api-key", defaultValue = "${env:INFERIUM_KEY}", description = "A key of your tenant (env INFERIUM_KEY).")
  String apiKey;

  @Option(names = "--epoch", description = "Claim only this settlement epoch.")
  Long epoch;

  @Override
  public Integer call() throws Exception {
    String contract;
    Credentials key;
    JsonArray settlements;
    try {
      if ((distributor == null) == (deployment == null)) {
        throw new IllegalArgumentException("give the contract as exactly one of --distributor ADDRESS or --deployment FILE");
      }
      contract = distributor != null ? Deployment.address("--distributor", distributor) : Deployment.read(deployment).distributor();
      key = KeyFile.read(keyFile);
      if (gateway == null || gateway.isBlank() || apiKey == null || apiKey.isBlank()) {
        throw new IllegalArgumentException("give --gateway URL and --api-key KEY (or INFERIUM_URL and INFERIUM_KEY)");
      }
      settlements = fetch();
    } catch (IllegalArgumentException | java.io.IOException e) {
      System.err.println("inferium claim: " + e.getMessage());
      return 2;
    }
    String me = key.getAddress().toLowerCase(java.util.Locale.ROOT);
    List<JsonObject> mine = new ArrayList<>();
    for (Object o : settlements) {
      JsonObject s = (JsonObject) o;
      if (epoch != null && s.getLong("epoch") != epoch.longValue()) {
        continue;
      }
      if (!me.equals(s.getString("address"))) {
        System.out.println("epoch " + s.getLong("epoch") + ": paid to " + s.getString("address") + ", not to this key ("
            + me + "); skipped");
        continue;
      }
      mine.add(s);
    }
    if (mine.isEmpty()) {
      System.out.println("Nothing to claim for " + me + (epoch != null ? " in epoch " + epoch : "")
          + " (settlements appear after an epoch is built; set your address with PUT /api/payout-address)");
      return 0;
    }
    Web3j web3j = Web3j.build(new HttpService(rpc));
    int failed = 0;
    try {
      long chainId = web3j.ethChainId().send().getChainId().longValueExact();
      PayoutDistributor d = PayoutDistributor.load(contract, web3j,
          new RawTransactionManager(web3j, key, chainId, new PollingTransactionReceiptProcessor(web3j, 200, 600)),
          new DynamicEIP1559GasProvider(web3j, chainId));
      for (JsonObject s : mine) {
        long e = s.getLong("epoch");
        BigInteger amount = new BigInteger(s.getString("amount"));
        String inf = new BigDecimal(amount).movePointLeft(18).stripTrailingZeros().toPlainString();
        if (!"open".equals(s.getString("state"))) {
          System.out.println("epoch " + e + ": " + inf + " INF not claimable yet (" + s.getString("state") + ")");
          continue;
        }
        if (d.claimed(BigInteger.valueOf(e), me).send()) {
          System.out.println("epoch " + e + ": " + inf + " INF already claimed");
          continue;
        }
        List<byte[]> proof = new ArrayList<>();
        for (Object p : s.getJsonArray("proof")) {
          proof.add(HexFormat.of().parseHex(((String) p).substring(2)));
        }
        try {
          TransactionReceipt r = d.claim(BigInteger.valueOf(e), amount, proof).send();
          System.out.println("epoch " + e + ": claimed " + inf + " INF in " + r.getTransactionHash() + " (block "
              + r.getBlockNumber() + ")");
        } catch (Exception ex) {
          failed++;
          System.err.println("epoch " + e + ": claim of " + inf + " INF failed: " + ex.getMessage());
        }
      }
    } catch (java.io.IOException ex) {
      System.err.println("inferium claim: " + rpc + " did not answer: " + ex.getMessage());
      return 1;
    } finally {
      web3j.shutdown();
    }
    return failed == 0 ? 0 : 1;
  }

  private JsonArray fetch() throws Exception {
    String base = gateway.endsWith("/") ? gateway.substring(0, gateway.length() - 1) : gateway;
    Vertx vertx = Vertx.vertx();
    try {
      HttpResponse<Buffer> resp = WebClient.create(vertx).getAbs(base + "/api/earnings").bearerTokenAuthentication(apiKey)
          .timeout(30_000).send().await(40, TimeUnit.SECONDS);
      if (resp.statusCode() != 200) {
        throw new IllegalArgumentException("GET /api/earnings: HTTP " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      JsonArray s = resp.bodyAsJsonObject().getJsonArray("settlements");
      return s == null ? new JsonArray() : s;
    } finally {
      vertx.close();
    }
  }
}
