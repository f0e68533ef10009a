package io.inferium.chain;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.gas.ContractGasProvider;
import org.web3j.tx.gas.DynamicEIP1559GasProvider;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

/**
 * What {@link Anchorer}, {@link Settler} and {@link NodeStake} share about a transaction that must count: how it is
 * signed and priced, waiting until it is N blocks deep and still where it was mined, and finding the event an
 * earlier attempt left. Blocking.
 */
final class Confirmations {

  static final long POLL_MS = 100;

  private Confirmations() {
  }

  /** Signs for {@code chainId} with {@code key}; waits for a receipt, polling every {@link #POLL_MS}, up to {@code limit}. */
  static RawTransactionManager transactions(Web3j web3j, Credentials key, long chainId, Duration limit) {
    return new RawTransactionManager(web3j, key, chainId,
        new PollingTransactionReceiptProcessor(web3j, POLL_MS, (int) Math.max(1, limit.toMillis() / POLL_MS)));
  }

  /** EIP-1559 fees from the chain's current base fee. */
  static ContractGasProvider gas(Web3j web3j, long chainId) {
    return new DynamicEIP1559GasProvider(web3j, chainId);
  }

  /**
   * Waits until block {@code blockNumber + confirmations - 1} exists and the transaction is still in
   * {@code blockNumber}; fails after {@code limit} or when it moved (reorganized: the caller retries). Returns the latest
   * block number seen.
   */
  static long await(Web3j web3j, String what, String transactionHash, long blockNumber, int confirmations,
      Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    long needed = blockNumber + confirmations - 1;
    long height;
    while ((height = web3j.ethBlockNumber().send().getBlockNumber().longValueExact()) < needed) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(what + ": block " + needed + " not reached within " + limit.toMillis() + " ms");
      }
      Thread.sleep(POLL_MS);
    }
    Optional<TransactionReceipt> still = web3j.ethGetTransactionReceipt(transactionHash).send().getTransactionReceipt();
    if (still.isEmpty() || still.get().getBlockNumber().longValueExact() != blockNumber) {
      throw new IllegalStateException(what + ": transaction " + transactionHash + " left block " + blockNumber
          + " (reorganized); retry");
    }
    return height;
  }

  /** The first log matching {@code filter} that was not removed by a reorganization. */
  static Optional<Log> firstLog(Web3j web3j, EthFilter filter) throws IOException {
    EthLog logs = web3j.ethGetLogs(filter).send();
    if (logs.hasError()) {
      throw new IOException("eth_getLogs failed: " + logs.getError().getMessage());
    }
    List<EthLog.LogResult> results = logs.getLogs();
    return results.stream().map(r -> (Log) r.get()).filter(l -> !l.isRemoved()).findFirst();
  }
}
