package io.inferium.chain;

import java.time.Duration;
import io.inferium.chain.contracts.NodeRegistry;
import java.math.BigInteger;
import java.util.List;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/**
 * The gateway's view of {@code NodeRegistry}: whether a node (by its 32-byte Ed25519 public key) may receive
 * work, and slashing on the verifier's evidence with the outcome read back from the transaction's events (not
 * assumed from the request). The key must hold {@code VERIFIER_ROLE} to slash. Blocking: run it on the chain
 * module's own thread.
 */
public final class NodeStake {

  /** What a node looks like on chain. */
  public record Status(boolean registered, String operator, BigInteger stake, BigInteger unstaking, boolean ejected,
      boolean active) {
  }

  /** What a slash did, as the chain's events say. */
  public record Slash(String transactionHash, long blockNumber, BigInteger amount, boolean burned, boolean ejected) {
  }

  private static final String NO_OPERATOR = "0x0000000000000000000000000000000000000000";

  private final NodeRegistry registry;
  private final String address;
  private final Web3j web3j;

  public NodeStake(Web3j web3j, Credentials key, long chainId, String registryAddress) {
    this.web3j = web3j;
    this.address = key.getAddress();
    this.registry = NodeRegistry.load(registryAddress, web3j,
        Confirmations.transactions(web3j, key, chainId, Duration.ofSeconds(60)), Confirmations.gas(web3j, chainId));
  }

  public Status status(byte[] nodeKey) throws Exception {
    checkKey(nodeKey);
    NodeRegistry.Node node = registry.nodeOf(nodeKey).send();
    return new Status(!NO_OPERATOR.equals(node.operator), node.operator, node.stake, node.unstaking, node.ejected,
        registry.isActive(nodeKey).send());
  }

  /** Slashes up to the node's stake (and what it is unstaking), ejecting it when asked. */
  public Slash slash(byte[] nodeKey, BigInteger amount, byte[] evidenceHash, boolean eject) throws Exception {
    checkKey(nodeKey);
    if (evidenceHash == null || evidenceHash.length != 32) {
      throw new IllegalArgumentException("evidenceHash: expected 32 bytes");
    }
    // Gas estimation would refuse a caller without the role with only "Failed to estimate gas limit": say why.
    if (!registry.hasRole(registry.VERIFIER_ROLE().send(), address).send()) {
      throw new IllegalStateException(address + " does not hold VERIFIER_ROLE on NodeRegistry " + registry.getContractAddress());
    }
    TransactionReceipt receipt = registry.slash(nodeKey, amount, evidenceHash, eject).send();
    List<NodeRegistry.SlashedEventResponse> slashed = NodeRegistry.getSlashedEvents(receipt);
    boolean ejected = !NodeRegistry.getEjectedEvents(receipt).isEmpty();
    BigInteger taken = slashed.isEmpty() ? BigInteger.ZERO : slashed.get(0).amount;
    boolean burned = !slashed.isEmpty() && slashed.get(0).burned;
    return new Slash(receipt.getTransactionHash(), receipt.getBlockNumber().longValueExact(), taken, burned, ejected);
  }

  /**
   * The slash (or ejection alone) already sent for this node and evidence, found in the registry's events from
   * {@code fromBlock}: what makes a retried slash idempotent (a slash sent before a crash is never sent again).
   */
  public java.util.Optional<Slash> findSlash(byte[] nodeKey, byte[] evidenceHash, long fromBlock) throws Exception {
    checkKey(nodeKey);
    org.web3j.protocol.core.DefaultBlockParameter from =
        org.web3j.protocol.core.DefaultBlockParameter.valueOf(BigInteger.valueOf(fromBlock));
    java.util.Optional<org.web3j.protocol.core.methods.response.Log> slashed = Confirmations.firstLog(web3j,
        new org.web3j.protocol.core.methods.request.EthFilter(from,
            org.web3j.protocol.core.DefaultBlockParameterName.LATEST, registry.getContractAddress())
            .addSingleTopic(org.web3j.abi.EventEncoder.encode(NodeRegistry.SLASHED_EVENT))
            .addSingleTopic(org.web3j.utils.Numeric.toHexString(nodeKey))
            .addSingleTopic(org.web3j.utils.Numeric.toHexString(evidenceHash)));
    java.util.Optional<org.web3j.protocol.core.methods.response.Log> ejected = Confirmations.firstLog(web3j,
        new org.web3j.protocol.core.methods.request.EthFilter(from,
            org.web3j.protocol.core.DefaultBlockParameterName.LATEST, registry.getContractAddress())
            .addSingleTopic(org.web3j.abi.EventEncoder.encode(NodeRegistry.EJECTED_EVENT))
            .addSingleTopic(org.web3j.utils.Numeric.toHexString(nodeKey))
            .addSingleTopic(org.web3j.utils.Numeric.toHexString(evidenceHash)));
    if (slashed.isEmpty() && ejected.isEmpty()) {
      return java.util.Optional.empty();
    }
    org.web3j.protocol.core.methods.response.Log any = slashed.orElseGet(ejected::get);
    NodeRegistry.SlashedEventResponse s = slashed.map(NodeRegistry::getSlashedEventFromLog).orElse(null);
    return java.util.Optional.of(new Slash(any.getTransactionHash(), any.getBlockNumber().longValueExact(),
        s == null ? BigInteger.ZERO : s.amount, s != null && s.burned, ejected.isPresent()));
  }

  private static void checkKey(byte[] nodeKey) {
    if (nodeKey == null || nodeKey.length != 32) {
      throw new IllegalArgumentException("nodeKey: expected a 32-byte Ed25519 public key");
    }
  }
}
