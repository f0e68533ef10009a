package io.inferium.chain;

import io.inferium.chain.contracts.ReceiptAnchor;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import org.web3j.abi.EventEncoder;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.utils.Numeric;

/**
 * Commits an epoch's receipt root to {@code ReceiptAnchor} at most once, and says when it counts as anchored
 * (mined, then {@code confirmations} blocks deep, still in the canonical chain).
 *
 * <p>Idempotent: before sending it reads the chain; an epoch that already holds the same root (a commit sent
 * before a crash, or by another gateway) is reported with its original transaction, never sent again, and one
 * that holds a different root fails with {@link ConflictingRoot}. EIP-1559 fees and the gas limit come from the
 * node ({@code eth_maxPriorityFeePerGas}, base fee, {@code eth_estimateGas}); the nonce is read per transaction
 * (one anchoring key per gateway). RPC failures surface as exceptions: the caller (the durable outbox) retries
 * with backoff. Blocking: run it on the chain's own thread, never on an event loop.
 */
public final class Anchorer {

  /**
   * What the chain holds for an epoch once anchored.
   *
   * @param gasUsed   gas of the commit transaction when it was sent from this anchorer's key (also when found already
   *                  there: a commit sent before a failure or a crash), 0 when another key sent it
   * @param chainHeight the latest block number seen while confirming it
   */
  public record Anchored(long epoch, byte[] root, String transactionHash, long blockNumber, boolean alreadyThere,
      long gasUsed, long chainHeight) {

    public Anchored(long epoch, byte[] root, String transactionHash, long blockNumber, boolean alreadyThere) {
      this(epoch, root, transactionHash, blockNumber, alreadyThere, 0, blockNumber);
    }
  }

  /** The epoch already holds another root: something else anchored it, and this one can never be. */
  public static final class ConflictingRoot extends IllegalStateException {
    ConflictingRoot(long epoch, byte[] onChain, byte[] ours) {
      super("epoch " + epoch + " is anchored with root " + Numeric.toHexString(onChain) + ", not "
          + Numeric.toHexString(ours));
    }
  }

  private final Web3j web3j;
  private final ReceiptAnchor anchor;
  private final int confirmations;
  private final Duration confirmationLimit;
  private final DefaultBlockParameter searchFrom;
  private final String address;

  /**
   * @param confirmations     blocks that must exist on top of (and including) the commit's block, ≥ 1
   * @param confirmationLimit how long to wait for them before failing (the outbox retries later)
   * @param searchFromBlock   where to look for an earlier commit's event (the contract's deployment block)
   */
  public Anchorer(Web3j web3j, Credentials key, long chainId, String anchorAddress, int confirmations,
      Duration confirmationLimit, long searchFromBlock) {
    if (confirmations < 1) {
      throw new IllegalArgumentException("confirmations: expected >= 1, got " + confirmations);
    }
    this.web3j = Objects.requireNonNull(web3j);
    this.confirmations = confirmations;
    this.confirmationLimit = Objects.requireNonNull(confirmationLimit);
    this.searchFrom = DefaultBlockParameter.valueOf(BigInteger.valueOf(searchFromBlock));
    this.address = key.getAddress();
    this.anchor = ReceiptAnchor.load(anchorAddress, web3j, Confirmations.transactions(web3j, key, chainId, confirmationLimit),
        Confirmations.gas(web3j, chainId));
  }

  /** Anchors {@code root} for {@code epoch} (or finds it anchored) and returns once it is confirmed. */
  public Anchored commit(long epoch, byte[] root, int count) throws Exception {
    BigInteger e = BigInteger.valueOf(epoch);
    byte[] onChain = anchor.anchorOf(e).send().root;
    if (!Arrays.equals(onChain, new byte[32])) {
      if (!Arrays.equals(onChain, root)) {
        throw new ConflictingRoot(epoch, onChain, root);
      }
      Log committed = commitLog(e).orElseThrow(() -> new IllegalStateException(
          "epoch " + epoch + " holds our root but no RootCommitted event was found from block " + searchFrom.getValue()));
      Anchored found = new Anchored(epoch, root.clone(), committed.getTransactionHash(),
          committed.getBlockNumber().longValueExact(), true);
      long height = awaitConfirmations(found);
      Optional<TransactionReceipt> tx = web3j.ethGetTransactionReceipt(found.transactionHash()).send()
          .getTransactionReceipt();
      long gas = tx.filter(r -> address.equalsIgnoreCase(r.getFrom())).map(r -> r.getGasUsed().longValueExact()).orElse(0L);
      return new Anchored(epoch, found.root(), found.transactionHash(), found.blockNumber(), true, gas, height);
    }
    BigInteger latest = anchor.latestEpoch().send();
    if (latest.compareTo(e) >= 0) {
      throw new IllegalStateException("epoch " + epoch + " can no longer be anchored: the contract is at epoch " + latest);
    }
    // Gas estimation would refuse a key without the role with only "Failed to estimate gas limit": say why.
    if (!anchor.hasRole(anchor.ANCHOR_ROLE().send(), address).send()) {
      throw new IllegalStateException(address + " does not hold ANCHOR_ROLE on ReceiptAnchor " + anchor.getContractAddress());
    }
    TransactionReceipt receipt = anchor.commit(e, root, BigInteger.valueOf(count)).send();
    Anchored sent = new Anchored(epoch, root.clone(), receipt.getTransactionHash(),
        receipt.getBlockNumber().longValueExact(), false);
    long height = awaitConfirmations(sent);
    return new Anchored(epoch, sent.root(), sent.transactionHash(), sent.blockNumber(), false,
        receipt.getGasUsed().longValueExact(), height);
  }

  private Optional<Log> commitLog(BigInteger epoch) throws IOException {
    return Confirmations.firstLog(web3j, new EthFilter(searchFrom, DefaultBlockParameterName.LATEST,
        anchor.getContractAddress())
        .addSingleTopic(EventEncoder.encode(ReceiptAnchor.ROOTCOMMITTED_EVENT))
        .addSingleTopic(Numeric.toHexStringWithPrefixZeroPadded(epoch, 64)));
  }

  /**
   * Waits until the commit is {@code confirmations} deep and its transaction is still where it was mined; returns the
   * latest block number seen.
   */
  private long awaitConfirmations(Anchored anchored) throws Exception {
    return Confirmations.await(web3j, "epoch " + anchored.epoch(), anchored.transactionHash(), anchored.blockNumber(),
        confirmations, confirmationLimit);
  }
}
