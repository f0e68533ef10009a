package io.inferium.chain;

import io.inferium.chain.merkle.MerkleTree;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.WalletUtils;

/**
 * One settlement epoch for {@code PayoutDistributor.openEpoch(epoch, root, payoutTotal, platformShare)}: the
 * Merkle tree of {@code (address account, uint256 amount)} leaves (one per account, amounts in token base units),
 * their total, and the platform's share that the contract burns. Accounts are compared case-insensitively and
 * must appear once (the ledger sums an account's earnings before settling).
 */
public final class PayoutEpoch {

  private final long epoch;
  private final Map<String, BigInteger> amounts;
  private final BigInteger payoutTotal;
  private final BigInteger platformShare;
  private final MerkleTree tree;

  private PayoutEpoch(long epoch, Map<String, BigInteger> amounts, BigInteger payoutTotal, BigInteger platformShare,
      MerkleTree tree) {
    this.epoch = epoch;
    this.amounts = amounts;
    this.payoutTotal = payoutTotal;
    this.platformShare = platformShare;
    this.tree = tree;
  }

  public static PayoutEpoch of(long epoch, Map<String, BigInteger> payouts, BigInteger platformShare) {
    if (epoch < 1) {
      throw new IllegalArgumentException("epoch: expected >= 1, got " + epoch);
    }
    if (payouts.isEmpty()) {
      throw new IllegalArgumentException("a payout epoch needs at least one payout");
    }
    if (platformShare.signum() < 0) {
      throw new IllegalArgumentException("platformShare: expected >= 0, got " + platformShare);
    }
    Map<String, BigInteger> amounts = new LinkedHashMap<>();
    List<byte[]> leaves = new ArrayList<>();
    BigInteger total = BigInteger.ZERO;
    for (Map.Entry<String, BigInteger> payout : payouts.entrySet()) {
      String account = payout.getKey() == null ? "" : payout.getKey().toLowerCase(Locale.ROOT);
      if (!WalletUtils.isValidAddress(account) || account.length() != 42) {
        throw new IllegalArgumentException("account: expected a 0x-prefixed 20-byte address, got " + payout.getKey());
      }
      BigInteger amount = payout.getValue();
      if (amount == null || amount.signum() <= 0) {
        throw new IllegalArgumentException("amount of " + account + ": expected > 0, got " + amount);
      }
      if (amounts.putIfAbsent(account, amount) != null) {
        throw new IllegalArgumentException("account " + account + " appears twice in payout epoch " + epoch);
      }
      leaves.add(leaf(account, amount));
      total = total.add(amount);
    }
    return new PayoutEpoch(epoch, Collections.unmodifiableMap(amounts), total, platformShare, MerkleTree.of(leaves));
  }

  /** The contract's leaf: {@code keccak256(bytes.concat(keccak256(abi.encode(account, amount))))}. */
  public static byte[] leaf(String account, BigInteger amount) {
    return MerkleTree.leafHash(List.of(new Address(account), new Uint256(amount)));
  }

  public long epoch() {
    return epoch;
  }

  public byte[] root() {
    return tree.root();
  }

  public BigInteger payoutTotal() {
    return payoutTotal;
  }

  public BigInteger platformShare() {
    return platformShare;
  }

  /** What {@code openEpoch} pulls from the settler: payouts plus the share it burns. */
  public BigInteger funding() {
    return payoutTotal.add(platformShare);
  }

  public Optional<BigInteger> amountOf(String account) {
    return Optional.ofNullable(amounts.get(account.toLowerCase(Locale.ROOT)));
  }

  /** The proof {@code claim(epoch, amount, proof)} needs from {@code account}; empty when it has no payout. */
  public Optional<List<byte[]>> proofFor(String account) {
    return amountOf(account).map(amount -> tree.proof(leaf(account.toLowerCase(Locale.ROOT), amount)));
  }
}
