package io.inferium.chain.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.tx.Contract;

/**
 * Gas used per contract operation, measured from real receipts: appended to {@code target/chain-gas.tsv}
 * (docs/CHAIN.md quotes it) and printed to the test's output.
 */
public final class GasReport {

  private static final Path FILE = Path.of("target", "chain-gas.tsv");

  private GasReport() {
  }

  /** Records the deployment's gas and returns the contract. */
  public static <C extends Contract> C deployed(String operation, C contract) {
    record(operation, contract.getTransactionReceipt().orElseThrow());
    return contract;
  }

  public static TransactionReceipt record(String operation, TransactionReceipt receipt) {
    String line = operation + "\t" + receipt.getGasUsed() + "\n";
    System.out.print("gas " + line);
    try {
      Files.createDirectories(FILE.getParent());
      Files.writeString(FILE, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return receipt;
  }
}
