package io.inferium.engine.cli;

import io.inferium.chain.Deployment;
import io.inferium.chain.KeyFile;
import io.inferium.chain.contracts.PayoutDistributor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.gas.DynamicEIP1559GasProvider;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

  @Mixin
  ChainClientOptions chain;

  @Option(names = "--key-file", required = true, description = "File holding the key of your payout address (64 hex digits); it signs the claims and pays their gas.")
  Path keyFile;

  @Option(names = "--distributor", description = "PayoutDistributor contract address (instead of --deployment).")
  String distributor;

  @Option(names = "--epoch", description = "Claim only this settlement epoch.")
  Long epoch;

  @Override
  public Integer call() throws Exception {
    String contract;
    Credentials key;
    JsonArray settlements;
    try {
      contract = chain.contract("--distributor", distributor, Deployment::distributor);
      key = KeyFile.read(keyFile);
      JsonArray fetched = chain.getJson("/api/earnings").getJsonArray("settlements");
      settlements = fetched == null ? new JsonArray() : fetched;
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
    Web3j web3j = Web3j.build(new HttpService(chain.rpc));
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
      System.err.println("inferium claim: " + chain.rpc + " did not answer: " + ex.getMessage());
      return 1;
    } finally {
      web3j.shutdown();
    }
    return failed == 0 ? 0 : 1;
  }
}
