package io.inferium.chain;

import io.inferium.chain.contracts.InferiumToken;
import io.inferium.chain.contracts.PayoutDistributor;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import org.web3j.abi.EventEncoder;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.gas.ContractGasProvider;
import org.web3j.utils.Numeric;

/**
 * Opens a settlement epoch on {@code PayoutDistributor} at most once: approves the distributor for the epoch's
 * funding when its allowance is short, then {@code openEpoch(epoch, root, payoutTotal, platformShare)}, which pulls
 * the funding from the settler and burns the platform's share in the same transaction; returns once that is
 * {@code confirmations} blocks deep. Idempotent like {@link Anchorer}: an epoch the chain already holds with the same
 * root is reported with its original transaction (from the {@code EpochOpened} event), another root fails with
 * {@link ConflictingRoot}. The settler needs {@code SETTLER_ROLE} and the tokens; both are checked first so the
 * failure says which is missing. Blocking: the chain thread's.
 */
public final class Settler {

  /** What the chain holds for an opened epoch. */
  public record Opened(long epoch, String transactionHash, long blockNumber, boolean alreadyThere) {
  }

  /** The epoch was opened with another root: this one can never be. */
  public static final class ConflictingRoot extends IllegalStateException {
    ConflictingRoot(long epoch, byte[] onChain, byte[] ours) {
      super("settlement epoch " + epoch + " is open with root " + Numeric.toHexString(onChain) + ", not "
          + Numeric.toHexString(ours));
    }
  }

  private final Web3j web3j;
  private final PayoutDistributor distributor;
  private final InferiumToken token;
  private final String address;
  private final int confirmations;
  private final Duration confirmationLimit;
  private final DefaultBlockParameter searchFrom;

  public Settler(Web3j web3j, Credentials key, Deployment deployment, int confirmations, Duration confirmationLimit) {
    if (confirmations < 1) {
      throw new IllegalArgumentException("confirmations: expected >= 1, got " + confirmations);
    }
    this.web3j = Objects.requireNonNull(web3j);
    this.address = key.getAddress();
    this.confirmations = confirmations;
    this.confirmationLimit = Objects.requireNonNull(confirmationLimit);
    this.searchFrom = DefaultBlockParameter.valueOf(BigInteger.valueOf(deployment.fromBlock()));
    RawTransactionManager tx = Confirmations.transactions(web3j, key, deployment.chainId(), confirmationLimit);
    ContractGasProvider gas = Confirmations.gas(web3j, deployment.chainId());
    this.distributor = PayoutDistributor.load(deployment.distributor(), web3j, tx, gas);
    this.token = InferiumToken.load(deployment.token(), web3j, tx, gas);
  }

  /** Opens {@code epoch} (or finds it open) and returns once it is confirmed. */
  public Opened open(PayoutEpoch epoch) throws Exception {
    BigInteger e = BigInteger.valueOf(epoch.epoch());
    byte[] onChain = distributor.epochOf(e).send().root;
    if (!Arrays.equals(onChain, new byte[32])) {
      if (!Arrays.equals(onChain, epoch.root())) {
        throw new ConflictingRoot(epoch.epoch(), onChain, epoch.root());
      }
      Log opened = Confirmations.firstLog(web3j, new EthFilter(searchFrom, DefaultBlockParameterName.LATEST,
          distributor.getContractAddress())
          .addSingleTopic(EventEncoder.encode(PayoutDistributor.EPOCHOPENED_EVENT))
          .addSingleTopic(Numeric.toHexStringWithPrefixZeroPadded(e, 64)))
          .orElseThrow(() -> new IllegalStateException("settlement epoch " + epoch.epoch()
              + " holds our root but no EpochOpened event was found from block " + searchFrom.getValue()));
      Opened found = new Opened(epoch.epoch(), opened.getTransactionHash(), opened.getBlockNumber().longValueExact(), true);
      await(found);
      return found;
    }
    BigInteger latest = distributor.latestEpoch().send();
    if (latest.compareTo(e) >= 0) {
      throw new IllegalStateException("settlement epoch " + epoch.epoch() + " can no longer be opened: the distributor is at epoch " + latest);
    }
    if (!distributor.hasRole(distributor.SETTLER_ROLE().send(), address).send()) {
      throw new IllegalStateException(address + " does not hold SETTLER_ROLE on PayoutDistributor " + distributor.getContractAddress());
    }
    BigInteger funding = epoch.funding();
    BigInteger balance = token.balanceOf(address).send();
    if (balance.compareTo(funding) < 0) {
      throw new IllegalStateException("settler " + address + " holds " + balance + " token units, epoch " + epoch.epoch()
          + " needs " + funding + " (payouts " + epoch.payoutTotal() + " + platform share " + epoch.platformShare() + ")");
    }
    if (token.allowance(address, distributor.getContractAddress()).send().compareTo(funding) < 0) {
      token.approve(distributor.getContractAddress(), funding).send();
    }
    TransactionReceipt receipt = distributor.openEpoch(e, epoch.root(), epoch.payoutTotal(), epoch.platformShare()).send();
    Opened sent = new Opened(epoch.epoch(), receipt.getTransactionHash(), receipt.getBlockNumber().longValueExact(), false);
    await(sent);
    return sent;
  }

  private void await(Opened opened) throws Exception {
    Confirmations.await(web3j, "settlement epoch " + opened.epoch(), opened.transactionHash(), opened.blockNumber(),
        confirmations, confirmationLimit);
  }
}
