package io.inferium.chain;

import io.inferium.chain.contracts.InferiumToken;
import io.inferium.chain.contracts.NodeRegistry;
import io.inferium.chain.contracts.PayoutDistributor;
import io.inferium.chain.contracts.ReceiptAnchor;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.TransactionManager;
import org.web3j.tx.gas.ContractGasProvider;
import org.web3j.tx.gas.DynamicEIP1559GasProvider;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

/**
 * Where the four contracts live on one chain: what {@code inferium chain deploy} writes and what the gateway
 * ({@code --chain-deployment}) and {@code inferium verify-receipt --deployment} read. {@code fromBlock} is the
 * block of the first deployment transaction: where a search for earlier {@code RootCommitted} events starts.
 */
public record Deployment(long chainId, String token, String registry, String anchor, String distributor, String admin,
    long fromBlock) {

  private static final Pattern ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");

  /** The defaults of a new deployment (change them with the contracts' admin later where they allow it). */
  public record Params(String tokenName, String tokenSymbol, BigInteger supply, BigInteger minStake,
      long unstakeDelaySeconds, boolean burnSlashed, String anchorer) {

    /** 1 000 000 000 INF (18 decimals) to the deployer, 1 000 INF minimum stake, 7 days' unstake delay, slashes burned. */
    public static Params defaults() {
      return new Params("Inferium", "INF", BigInteger.TEN.pow(27), BigInteger.TEN.pow(21), 7 * 24 * 3600, true, null);
    }

    /** The same with {@code ANCHOR_ROLE} granted to {@code address} too (the gateway's key, when not the deployer's). */
    public Params withAnchorer(String address) {
      return new Params(tokenName, tokenSymbol, supply, minStake, unstakeDelaySeconds, burnSlashed, address);
    }
  }

  public Deployment {
    address("token", token);
    address("registry", registry);
    address("anchor", anchor);
    address("distributor", distributor);
    address("admin", admin);
    if (chainId < 1 || fromBlock < 0) {
      throw new IllegalArgumentException("deployment: chain_id must be >= 1 and from_block >= 0");
    }
  }

  /**
   * Deploys token (whole supply to the deployer, who is the treasury), registry, anchor and distributor with the
   * deployer as admin, and grants {@code ANCHOR_ROLE} to the deployer (and to {@code params.anchorer} when set) and
   * {@code SETTLER_ROLE} on the distributor (the treasury, which funds settlement epochs) and {@code VERIFIER_ROLE} on
   * the registry (the gateway's verifier slashes) to the deployer.
   * EIP-1559 fees from the node. Blocking.
   */
  public static Deployment deploy(Web3j web3j, Credentials deployer, Params params) throws Exception {
    long chainId = web3j.ethChainId().send().getChainId().longValueExact();
    TransactionManager tx = new RawTransactionManager(web3j, deployer, chainId,
        new PollingTransactionReceiptProcessor(web3j, 200, 600));
    ContractGasProvider gas = new DynamicEIP1559GasProvider(web3j, chainId);
    String admin = deployer.getAddress();
    InferiumToken token = InferiumToken.deploy(web3j, tx, gas, params.tokenName(), params.tokenSymbol(), admin,
        params.supply()).send();
    long fromBlock = token.getTransactionReceipt().map(TransactionReceipt::getBlockNumber)
        .orElseThrow(() -> new IllegalStateException("no receipt for the token's deployment")).longValueExact();
    NodeRegistry registry = NodeRegistry.deploy(web3j, tx, gas, token.getContractAddress(), params.minStake(),
        BigInteger.valueOf(params.unstakeDelaySeconds()), params.burnSlashed(), admin, admin).send();
    ReceiptAnchor anchor = ReceiptAnchor.deploy(web3j, tx, gas, admin).send();
    PayoutDistributor distributor = PayoutDistributor.deploy(web3j, tx, gas, token.getContractAddress(), admin).send();
    byte[] role = anchor.ANCHOR_ROLE().send();
    anchor.grantRole(role, admin).send();
    if (params.anchorer() != null && !params.anchorer().equalsIgnoreCase(admin)) {
      anchor.grantRole(role, address("anchorer", params.anchorer())).send();
    }
    distributor.grantRole(distributor.SETTLER_ROLE().send(), admin).send();
    // The gateway's verifier sends the slashes it decides (docs/CHAIN.md "Stake on chain").
    registry.grantRole(registry.VERIFIER_ROLE().send(), admin).send();
    return new Deployment(chainId, token.getContractAddress(), registry.getContractAddress(),
        anchor.getContractAddress(), distributor.getContractAddress(), admin, fromBlock);
  }

  public JsonObject toJson() {
    return new JsonObject().put("chain_id", chainId).put("token", token).put("registry", registry).put("anchor", anchor)
        .put("distributor", distributor).put("admin", admin).put("from_block", fromBlock);
  }

  public static Deployment fromJson(JsonObject json) {
    Objects.requireNonNull(json, "deployment");
    return new Deployment(number(json, "chain_id"), text(json, "token"), text(json, "registry"), text(json, "anchor"),
        text(json, "distributor"), text(json, "admin"), number(json, "from_block"));
  }

  /** Reads a deployment file; a missing or malformed one fails naming the file and the field. */
  public static Deployment read(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IOException("deployment file " + file + ": cannot read it: " + e.getMessage(), e);
    }
    try {
      return fromJson(new JsonObject(text));
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("deployment file " + file + ": not a JSON object");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("deployment file " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes the file (pretty JSON), replacing it atomically. */
  public void write(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".deployment-", ".json");
    Files.writeString(tmp, toJson().encodePrettily() + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** An EVM address (0x + 40 hex digits), returned as given; anything else fails naming {@code field}. */
  public static String address(String field, String value) {
    if (value == null || !ADDRESS.matcher(value).matches()) {
      throw new IllegalArgumentException(field + ": expected an address (0x and 40 hex digits), got " + value);
    }
    return value;
  }

  private static String text(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (!(v instanceof String s)) {
      throw new IllegalArgumentException(field + ": expected a string, got " + v);
    }
    return s;
  }

  private static long number(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (!(v instanceof Number n) || n.doubleValue() != n.longValue()) {
      throw new IllegalArgumentException(field + ": expected an integer, got " + v);
    }
    return n.longValue();
  }
}
