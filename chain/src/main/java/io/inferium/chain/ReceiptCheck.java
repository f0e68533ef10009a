package io.inferium.chain;

import io.inferium.chain.contracts.ReceiptAnchor;
import java.math.BigInteger;
import java.util.List;
import org.web3j.protocol.Web3j;
import org.web3j.tx.ReadonlyTransactionManager;
import org.web3j.tx.gas.DefaultGasProvider;

/**
 * Checks a receipt against a root anchored on chain, with nothing of Inferium's but the receipt itself: an RPC
 * endpoint and the {@code ReceiptAnchor} address. The leaf is recomputed from the receipt's fields (a leaf
 * supplied by someone else is never trusted) and {@code ReceiptAnchor.verify} is called (an {@code eth_call},
 * no transaction, no key). Blocking: call it off the event loop.
 */
public final class ReceiptCheck {

  private static final String NO_SENDER = "0x0000000000000000000000000000000000000000";

  private ReceiptCheck() {
  }

  /** True when {@code receipt} with {@code proof} is in the tree whose root the contract holds for {@code epoch}. */
  public static boolean onChain(Web3j web3j, String anchorAddress, long epoch, Receipt receipt, List<byte[]> proof)
      throws Exception {
    ReceiptAnchor anchor = ReceiptAnchor.load(anchorAddress, web3j, new ReadonlyTransactionManager(web3j, NO_SENDER),
        new DefaultGasProvider());
    return anchor.verify(BigInteger.valueOf(epoch), receipt.leaf(), proof).send();
  }
}
