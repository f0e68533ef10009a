package io.inferium.engine.cli;

import io.inferium.chain.Deployment;
import java.io.IOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.methods.response.VoidResponse;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

/**
 * The demo's local chain (issue 13): when Anvil is at hand ({@code INFERIUM_ANVIL}, the repository's
 * {@code chain/node_modules/.bin/anvil} that the build installs, or {@code anvil} on the PATH), {@code inferium demo}
 * starts it with its chain kept in the data directory ({@code chain/anvil-state.json}, written when it stops), makes
 * and funds a demo key, deploys the contracts once ({@code chain/deployment.json}, redeployed only when that chain
 * no longer has them) and serves with receipts anchored, settlement and on-chain stake on. Without Anvil it says
 * how to get it and the demo runs with anchoring off. The demo key is a fresh local key on a local chain: never
 * money.
 */
final class DemoChain implements AutoCloseable {

  private static final BigInteger THOUSAND_ETHER = BigInteger.TEN.pow(21);

  final String rpcUrl;
  final Path keyFile;
  final Path deploymentFile;
  private final Process process;

  private DemoChain(String rpcUrl, Path keyFile, Path deploymentFile, Process process) {
    this.rpcUrl = rpcUrl;
    this.keyFile = keyFile;
    this.deploymentFile = deploymentFile;
    this.process = process;
  }

  /** Starts the local chain, or explains why not and returns empty (the demo goes on without one). */
  static Optional<DemoChain> start(Path dataDir) {
    Optional<Path> binary = binary();
    if (binary.isEmpty()) {
      System.out.println("Chain: no Anvil found, receipts are built but not anchored. For a local chain: "
          + "(cd chain && npm ci) in the repository, or set INFERIUM_ANVIL to an anvil binary (docs/CHAIN.md).");
      return Optional.empty();
    }
    Process process = null;
    try {
      Path dir = Files.createDirectories(dataDir.toAbsolutePath().resolve("chain"));
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      process = new ProcessBuilder(binary.get().toString(), "--host", "127.0.0.1", "--port", String.valueOf(port),
          "--accounts", "0", "--state", dir.resolve("anvil-state.json").toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("anvil.log").toFile()).start();
      String rpc = "http://127.0.0.1:" + port;
      Web3j web3j = Web3j.build(new HttpService(rpc));
      try {
        awaitChain(web3j, process);
        Path keyFile = dir.resolve("demo.key");
        Credentials key;
        if (Files.isRegularFile(keyFile)) {
          key = io.inferium.chain.KeyFile.read(keyFile);
        } else {
          key = Credentials.create(Keys.createEcKeyPair());
          Files.writeString(keyFile, Numeric.toHexStringWithPrefixZeroPadded(key.getEcKeyPair().getPrivateKey(), 64)
              + "\n", StandardCharsets.UTF_8);
        }
        VoidResponse funded = new Request<>("anvil_setBalance", List.of(key.getAddress(),
            Numeric.toHexStringWithPrefix(THOUSAND_ETHER)), new HttpService(rpc), VoidResponse.class).send();
        if (funded.hasError()) {
          throw new IOException("anvil_setBalance: " + funded.getError().getMessage());
        }
        Path deploymentFile = dir.resolve("deployment.json");
        if (!deployedThere(web3j, deploymentFile)) {
          Deployment d = Deployment.deploy(web3j, key, Deployment.Params.defaults());
          Files.writeString(deploymentFile, d.toJson().encodePrettily(), StandardCharsets.UTF_8);
        }
        System.out.println("Chain: a local Anvil at " + rpc + " (log " + dir.resolve("anvil.log") + "), contracts in "
            + deploymentFile + "; receipts are anchored there, the payout ledger settles there, remote nodes need "
            + "stake in its NodeRegistry.");
        DemoChain chain = new DemoChain(rpc, keyFile, deploymentFile, process);
        Process p = process;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(p), "inferium-demo-chain"));
        return Optional.of(chain);
      } finally {
        web3j.shutdown();
      }
    } catch (Exception e) {
      if (process != null) {
        stop(process);
      }
      System.out.println("Chain: the local Anvil did not start (" + e.getMessage() + "); receipts are built but not "
          + "anchored.");
      return Optional.empty();
    }
  }

  private static boolean deployedThere(Web3j web3j, Path deploymentFile) throws IOException {
    if (!Files.isRegularFile(deploymentFile)) {
      return false;
    }
    try {
      Deployment d = Deployment.read(deploymentFile);
      String code = web3j.ethGetCode(d.distributor(), org.web3j.protocol.core.DefaultBlockParameterName.LATEST).send()
          .getCode();
      return code != null && code.length() > 2 && d.chainId() == web3j.ethChainId().send().getChainId().longValueExact();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static void awaitChain(Web3j web3j, Process process) throws Exception {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (true) {
      if (!process.isAlive()) {
        throw new IOException("anvil exited with " + process.exitValue());
      }
      try {
        if (!web3j.ethChainId().send().hasError()) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("anvil did not answer within 15 s");
      }
      Thread.sleep(100);
    }
  }

  private static Optional<Path> binary() {
    String configured = System.getenv("INFERIUM_ANVIL");
    if (configured != null && !configured.isBlank()) {
      Path p = Path.of(configured);
      return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    try {
      // engine/target/inferium.jar → the repository's chain/node_modules/.bin/anvil
      Path jar = Path.of(DemoChain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path repo = jar.getParent() == null ? null : jar.getParent().getParent() == null ? null : jar.getParent().getParent().getParent();
      if (repo != null) {
        Path local = repo.resolve("chain/node_modules/.bin/anvil");
        if (Files.isExecutable(local)) {
          return Optional.of(local);
        }
      }
    } catch (Exception e) {
      // not from a jar in the repository
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(java.io.File.pathSeparator)) {
        Path p = Path.of(d, "anvil");
        if (!d.isEmpty() && Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  /** SIGTERM: Anvil writes its state file and exits. */
  private static void stop(Process p) {
    if (p.isAlive()) {
      p.destroy();
      try {
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    stop(process);
  }
}
