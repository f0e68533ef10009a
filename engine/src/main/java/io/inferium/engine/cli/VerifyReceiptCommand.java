package io.inferium.engine.cli;

import io.inferium.chain.Deployment;
import io.inferium.chain.Receipt;
import io.inferium.chain.ReceiptCheck;
import io.inferium.chain.merkle.MerkleTree;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code inferium verify-receipt <file|requestId> --rpc URL --anchor ADDRESS}: checks a receipt against the root
 * anchored on chain, trusting nothing of the gateway's but the receipt's fields: the leaf is recomputed from them
 * and {@code ReceiptAnchor.verify(epoch, leaf, proof)} is called ({@code eth_call}). The contract address comes
 * from the user ({@code --anchor} or {@code --deployment}), never from the receipt. Exit 0: verified; 1: not
 * verified (or not anchored yet); 2: bad input.
 */
@Command(name = "verify-receipt", mixinStandardHelpOptions = true,
    description = "Check a receipt (a file saved from GET /api/receipts/{id}, or a request id fetched with --gateway) against the chain.")
class VerifyReceiptCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE|REQUEST_ID", description = "A receipt file, or a request id to fetch from --gateway.")
  String what;

  @Mixin
  ChainClientOptions chain;

  @Option(names = "--anchor", description = "ReceiptAnchor contract address (instead of --deployment).")
  String anchor;

  @Override
  public Integer call() throws Exception {
    String address;
    JsonObject file;
    Receipt receipt;
    long epoch;
    List<byte[]> proof = new ArrayList<>();
    try {
      address = chain.contract("--anchor", anchor, Deployment::anchor);
      file = load();
      if (!(file.getValue("epoch") instanceof Number n) || n.longValue() < 1) {
        System.err.println("inferium verify-receipt: the receipt has no epoch yet (status "
            + file.getValue("status", "unknown") + "): its epoch has not closed; try again later");
        return 1;
      }
      epoch = n.longValue();
      if (!(file.getValue("receipt") instanceof JsonObject r)) {
        throw new IllegalArgumentException("no 'receipt' object");
      }
      receipt = Receipt.fromJson(r);
      if (!(file.getValue("proof") instanceof JsonArray p)) {
        throw new IllegalArgumentException("'proof': expected an array of 0x-prefixed 32-byte hex strings");
      }
      for (Object o : p) {
        proof.add(bytes32("proof element", o));
      }
    } catch (IllegalArgumentException | DecodeException | java.io.IOException e) {
      System.err.println("inferium verify-receipt: " + e.getMessage());
      return 2;
    }
    Web3j web3j = Web3j.build(new HttpService(chain.rpc));
    try {
      String leaf = "0x" + HexFormat.of().formatHex(receipt.leaf());
      boolean onChain = ReceiptCheck.onChain(web3j, address, epoch, receipt, proof);
      if (onChain) {
        System.out.println("VERIFIED: receipt of request " + receipt.requestId() + " (leaf " + leaf + ") is in epoch "
            + epoch + " anchored on ReceiptAnchor " + address);
        return 0;
      }
      String why = file.getValue("root") instanceof String root && !MerkleTree.verify(bytes32("root", root), receipt.leaf(), proof)
          ? "the proof does not lead from its fields to the root it carries (altered receipt or proof)"
          : "the chain holds no matching root for epoch " + epoch + " (not anchored yet, or altered)";
      System.out.println("NOT VERIFIED: receipt of request " + receipt.requestId() + " (leaf " + leaf + "): " + why);
      return 1;
    } catch (java.io.IOException e) {
      System.err.println("inferium verify-receipt: " + chain.rpc + " did not answer: " + e.getMessage());
      return 1;
    } finally {
      web3j.shutdown();
    }
  }

  private JsonObject load() throws Exception {
    Path path = Path.of(what);
    if (Files.isRegularFile(path)) {
      String text = Files.readString(path, StandardCharsets.UTF_8);
      try {
        return new JsonObject(text);
      } catch (DecodeException e) {
        throw new IllegalArgumentException(what + ": not a JSON object");
      }
    }
    if (!chain.hasGateway()) {
      throw new IllegalArgumentException("no file '" + what + "'; to fetch it as a request id, give --gateway URL and --api-key");
    }
    return chain.getJson("/api/receipts/" + java.net.URLEncoder.encode(what, StandardCharsets.UTF_8));
  }

  private static byte[] bytes32(String what, Object o) {
    if (o instanceof String s && s.matches("0x[0-9a-fA-F]{64}")) {
      return HexFormat.of().parseHex(s.substring(2));
    }
    throw new IllegalArgumentException(what + ": expected 0x and 64 hex digits, got " + o);
  }
}
