package io.inferium.engine.cli;

import io.inferium.chain.Deployment;
import io.inferium.chain.Receipt;
import io.inferium.chain.ReceiptCheck;
import io.inferium.chain.merkle.MerkleTree;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;
import picocli.CommandLine.Command;
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

  @Option(names = "--rpc", required = true, description = "JSON-RPC URL of the chain.")
  String rpc;

  @Option(names = "--anchor", description = "ReceiptAnchor contract address.")
  String anchor;

  @Option(names = "--deployment", description = "Deployment file to take the anchor address from (instead of --anchor).")
  Path deployment;

  @Option(names = "--gateway", defaultValue = "${env:INFERIUM_URL}", description = "Gateway URL to fetch a receipt by request id from (env INFERIUM_URL).")
  String gateway;

  @Option(names = "--api-key", defaultValue = "${env:INFERIUM_KEY}", description = "API key of the tenant that made the request, or an admin's (env INFERIUM_KEY).")
  String apiKey;

  @Override
  public Integer call() throws Exception {
    String address;
    JsonObject file;
    Receipt receipt;
    long epoch;
    List<byte[]> proof = new ArrayList<>();
    try {
      address = anchorAddress();
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
    Web3j web3j = Web3j.build(new HttpService(rpc));
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
      System.err.println("inferium verify-receipt: " + rpc + " did not answer: " + e.getMessage());
      return 1;
    } finally {
      web3j.shutdown();
    }
  }

  private String anchorAddress() throws java.io.IOException {
    if ((anchor == null) == (deployment == null)) {
      throw new IllegalArgumentException("give the contract as exactly one of --anchor ADDRESS or --deployment FILE");
    }
    return anchor != null ? Deployment.address("--anchor", anchor) : Deployment.read(deployment).anchor();
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
    if (gateway == null || gateway.isBlank() || apiKey == null || apiKey.isBlank()) {
      throw new IllegalArgumentException("no file '" + what + "'; to fetch it as a request id, give --gateway URL and --api-key");
    }
    String base = gateway.endsWith("/") ? gateway.substring(0, gateway.length() - 1) : gateway;
    Vertx vertx = Vertx.vertx();
    try {
      HttpResponse<Buffer> resp = WebClient.create(vertx).getAbs(base + "/api/receipts/"
              + java.net.URLEncoder.encode(what, StandardCharsets.UTF_8))
          .bearerTokenAuthentication(apiKey).timeout(30_000).send().await(40, TimeUnit.SECONDS);
      if (resp.statusCode() != 200) {
        throw new IllegalArgumentException("GET /api/receipts/" + what + ": HTTP " + resp.statusCode() + ": "
            + resp.bodyAsString());
      }
      return resp.bodyAsJsonObject();
    } finally {
      vertx.close();
    }
  }

  private static byte[] bytes32(String what, Object o) {
    if (o instanceof String s && s.matches("0x[0-9a-fA-F]{64}")) {
      return HexFormat.of().parseHex(s.substring(2));
    }
    throw new IllegalArgumentException(what + ": expected 0x and 64 hex digits, got " + o);
  }
}
