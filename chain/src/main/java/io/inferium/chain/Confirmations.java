package io.inferium.chain;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/**
 * What {@link Anchorer} and {@link Settler} share about a transaction that must count: waiting until it is N blocks
 * deep and still where it was mined, and finding the event an earlier attempt left. Blocking.
 */
final class Confirmations {

  static final long POLL_MS = 100;

  private Confirmations() {
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
