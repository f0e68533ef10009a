package io.inferium.chain.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.web3j.crypto.Hash;
import org.web3j.protocol.core.RemoteFunctionCall;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.exceptions.TransactionException;

/** Asserts that a transaction is mined but reverted, with the Solidity custom error expected. */
public final class Reverts {

  private Reverts() {
  }

  /**
   * Sends the call and expects a revert whose data starts with the selector of {@code errorSignature}
   * (e.g. {@code "BelowMinimumStake(uint256,uint256)"}).
   */
  public static TransactionException assertReverts(String errorSignature, RemoteFunctionCall<TransactionReceipt> call) {
    TransactionException failure = assertThrows(TransactionException.class, call::send,
        "expected a revert with " + errorSignature);
    String selector = Hash.sha3String(errorSignature).substring(0, 10);
    String detail = String.valueOf(failure.getMessage()) + " " + failure.getTransactionReceipt().map(r -> r.getRevertReason()).orElse("");
    assertTrue(detail.contains(selector) || detail.contains(errorSignature.substring(0, errorSignature.indexOf('('))),
        "expected revert " + errorSignature + " (" + selector + "), got: " + detail);
    return failure;
  }
}
