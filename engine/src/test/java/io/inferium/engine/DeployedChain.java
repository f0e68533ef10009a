package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.inferium.chain.Deployment;
import io.inferium.chain.testing.Anvil;
import io.inferium.engine.cli.Main;
import io.inferium.engine.receipts.ReceiptSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Numeric;
import picocli.CommandLine;

/**
 * A real Anvil with Inferium's contracts deployed by {@code inferium chain deploy}, as an operator would: the funded
 * account's key in a file (the gateway's key, which deploys and so holds every role), the deployment file it wrote.
 * Closing it stops Anvil.
 */
final class DeployedChain implements AutoCloseable {

  final Anvil anvil;
  final Credentials deployer;
  final Path keyFile;
  final Path deploymentFile;
  final Deployment deployment;

  private DeployedChain(Anvil anvil, Credentials deployer, Path keyFile, Path deploymentFile, Deployment deployment) {
    this.anvil = anvil;
    this.deployer = deployer;
    this.keyFile = keyFile;
    this.deploymentFile = deploymentFile;
    this.deployment = deployment;
  }

  /** Starts Anvil (keeping its state in {@code stateFile} when not null) and deploys into {@code dir}. */
  static DeployedChain start(Path dir, Path stateFile) throws IOException {
    Anvil anvil = stateFile == null ? Anvil.start() : Anvil.start(stateFile);
    try {
      Credentials deployer = anvil.fundedAccount();
      Path keyFile = dir.resolve("gateway.key");
      Files.writeString(keyFile, Numeric.toHexStringWithPrefixZeroPadded(deployer.getEcKeyPair().getPrivateKey(), 64) + "\n");
      Path deploymentFile = dir.resolve("deployment.json");
      assertEquals(0, new CommandLine(new Main()).execute("chain", "deploy", "--rpc", anvil.rpcUrl(), "--key-file",
          keyFile.toString(), "--out", deploymentFile.toString()), "inferium chain deploy");
      Deployment deployment = Deployment.read(deploymentFile);
      assertEquals(anvil.chainId(), deployment.chainId());
      assertEquals(deployer.getAddress(), deployment.admin());
      return new DeployedChain(anvil, deployer, keyFile, deploymentFile, deployment);
    } catch (IOException | RuntimeException | Error e) {
      anvil.close();
      throw e;
    }
  }

  /** The gateway's chain settings: this chain, its key and deployment, one confirmation, 10 s to confirm. */
  ReceiptSettings.Chain settings() {
    return new ReceiptSettings.Chain(anvil.rpcUrl(), keyFile, deploymentFile, 1, 10_000);
  }

  @Override
  public void close() {
    anvil.close();
  }
}
