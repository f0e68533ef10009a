package io.inferium.chain.testing;

import io.inferium.infra.testing.Eventually;
import java.io.IOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.methods.response.EthChainId;
import org.web3j.protocol.core.methods.response.VoidResponse;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.TransactionManager;
import org.web3j.tx.gas.ContractGasProvider;
import org.web3j.tx.gas.StaticEIP1559GasProvider;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;
import org.web3j.utils.Numeric;

/**
 * A real local EVM node (Foundry's Anvil) in a child process on a free loopback port, for tests.
 *
 * <p>The binary is {@code -Danvil.binary}, else {@code node_modules/.bin/anvil} of the chain module (installed by
 * the build's {@code npm ci}), else {@code anvil} on the PATH. Accounts are fresh keys funded through
 * {@code anvil_setBalance}, so no test relies on Anvil's well-known dev keys. {@link #close()} kills the process
 * and anything it started.
 */
public final class Anvil implements AutoCloseable {

  private static final Duration START_LIMIT = Duration.ofSeconds(20);
  private static final BigInteger TEN_THOUSAND_ETHER = BigInteger.TEN.pow(22);
  /** EIP-1559 fees well above Anvil's base fee (1 gwei at start, falling); gas limit above any call here. */
  private static final BigInteger MAX_FEE = BigInteger.valueOf(20_000_000_000L);
  private static final BigInteger PRIORITY_FEE = BigInteger.valueOf(1_000_000_000L);
  private static final BigInteger GAS_LIMIT = BigInteger.valueOf(6_000_000L);

  private volatile Process process;
  private final int port;
  private final Path stateFile;
  private final HttpService service;
  private final Web3j web3j;
  private final long chainId;
  private final String rpcUrl;

  private Anvil(Process process, int port, Path stateFile) {
    this.process = process;
    this.port = port;
    this.stateFile = stateFile;
    this.rpcUrl = "http://127.0.0.1:" + port;
    this.service = new HttpService(rpcUrl);
    this.web3j = Web3j.build(service);
    this.chainId = awaitChainId();
  }

  /** Starts Anvil and returns once it answers {@code eth_chainId}. */
  public static Anvil start() throws IOException {
    return start(null);
  }

  /**
   * Starts Anvil keeping its chain in {@code stateFile} ({@code --state}: loaded at start, written when the process
   * is stopped), so that {@link #stop()} then {@link #restart()} bring back the same chain on the same port.
   */
  public static Anvil start(Path stateFile) throws IOException {
    int port = freePort();
    Process process = launch(port, stateFile);
    try {
      return new Anvil(process, port, stateFile);
    } catch (RuntimeException | Error e) {
      kill(process);
      throw e;
    }
  }

  private static Process launch(int port, Path stateFile) throws IOException {
    List<String> command = new java.util.ArrayList<>(List.of(binary(), "--host", "127.0.0.1", "--port",
        String.valueOf(port), "--accounts", "0"));
    if (stateFile != null) {
      command.addAll(List.of("--state", stateFile.toString()));
    }
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  /** Stops the node (SIGTERM: a node started with a state file writes it); its RPC port refuses connections. */
  public void stop() {
    kill(process);
  }

  /** Starts the node again on the same port, from its state file (a node without one comes back empty). */
  public void restart() throws IOException {
    if (process.isAlive()) {
      throw new IllegalStateException("anvil is still running; stop() it first");
    }
    process = launch(port, stateFile);
    awaitChainId();
  }

  /** The Anvil process (tests check it is gone after {@link #close()}). */
  public ProcessHandle process() {
    return process.toHandle();
  }

  public Web3j web3j() {
    return web3j;
  }

  public String rpcUrl() {
    return rpcUrl;
  }

  public long chainId() {
    return chainId;
  }

  /** A fresh key holding 10 000 ether on this chain. */
  public Credentials fundedAccount() {
    try {
      Credentials credentials = Credentials.create(Keys.createEcKeyPair());
      rpc("anvil_setBalance", List.of(credentials.getAddress(), Numeric.toHexStringWithPrefix(TEN_THOUSAND_ETHER)));
      return credentials;
    } catch (Exception e) {
      throw new IllegalStateException("could not fund a test account", e);
    }
  }

  /** Signs EIP-1559 transactions locally and polls for their receipts every 20 ms (Anvil mines at once). */
  public TransactionManager transactions(Credentials credentials) {
    return new RawTransactionManager(web3j, credentials, chainId, new PollingTransactionReceiptProcessor(web3j, 20, 500));
  }

  public ContractGasProvider gas() {
    return new StaticEIP1559GasProvider(chainId, MAX_FEE, PRIORITY_FEE, GAS_LIMIT);
  }

  /** Moves the chain's clock forward and mines a block stamped with the new time. */
  public void increaseTime(long seconds) {
    rpc("evm_increaseTime", List.of(seconds));
    rpc("evm_mine", List.of());
  }

  private void rpc(String method, List<?> params) {
    try {
      VoidResponse response = new Request<>(method, params, service, VoidResponse.class).send();
      if (response.hasError()) {
        throw new IllegalStateException(method + " failed: " + response.getError().getMessage());
      }
    } catch (IOException e) {
      throw new IllegalStateException(method + " failed", e);
    }
  }

  private long awaitChainId() {
    EthChainId id = Eventually.value("anvil at " + rpcUrl + " answering eth_chainId", START_LIMIT, () -> {
      if (!process.isAlive()) {
        throw new IllegalStateException("anvil exited with " + process.exitValue());
      }
      try {
        return web3j.ethChainId().send();
      } catch (IOException notYetListening) {
        return null;
      }
    }, response -> response != null && !response.hasError());
    return id.getChainId().longValueExact();
  }

  @Override
  public void close() {
    web3j.shutdown();
    kill(process);
  }

  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  private static String binary() {
    String configured = System.getProperty("anvil.binary");
    if (configured != null && !configured.isBlank() && !Files.isExecutable(Path.of(configured))
        && !Files.isExecutable(Path.of("node_modules/.bin/anvil"))) {
      throw new IllegalStateException("anvil not found at " + configured
          + ": run `npm ci` in chain/ (the build does this unless -Dskip.npm) or pass -Danvil.binary=PATH");
    }
    if (configured != null && Files.isExecutable(Path.of(configured))) {
      return configured;
    }
    Path local = Path.of("node_modules/.bin/anvil");
    if (Files.isExecutable(local)) {
      return local.toAbsolutePath().toString();
    }
    return "anvil";
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
