package io.inferium.engine.cli;

import io.inferium.chain.Deployment;
import io.inferium.chain.KeyFile;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code inferium chain deploy}: the four contracts on an EVM chain, their addresses into a deployment file. */
@Command(name = "chain", mixinStandardHelpOptions = true, description = "EVM chain operations (docs/CHAIN.md).",
    subcommands = {ChainCommand.Deploy.class})
class ChainCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    System.err.println("inferium chain: name a subcommand (deploy); see --help");
    return 2;
  }

  @Command(name = "deploy", mixinStandardHelpOptions = true,
      description = "Deploy InferiumToken, NodeRegistry, ReceiptAnchor and PayoutDistributor (the key's address is "
          + "admin, treasury and anchorer) and write their addresses to --out.")
  static class Deploy implements Callable<Integer> {

    @Option(names = "--rpc", required = true, description = "JSON-RPC URL of the chain.")
    String rpc;

    @Option(names = "--key-file", required = true, description = "File holding the deployer's private key (64 hex digits); it pays the gas.")
    Path keyFile;

    @Option(names = "--out", required = true, description = "Deployment file to write (read by --chain-deployment and verify-receipt --deployment).")
    Path out;

    @Option(names = "--anchorer", description = "Also grant ANCHOR_ROLE to this address (the gateway's key, when it is not the deployer's).")
    String anchorer;

    @Override
    public Integer call() throws Exception {
      Credentials key;
      Deployment.Params params = Deployment.Params.defaults();
      try {
        key = KeyFile.read(keyFile);
        if (anchorer != null) {
          params = params.withAnchorer(Deployment.address("--anchorer", anchorer));
        }
      } catch (IllegalArgumentException | java.io.IOException e) {
        System.err.println("inferium chain deploy: " + e.getMessage());
        return 2;
      }
      Web3j web3j = Web3j.build(new HttpService(rpc));
      try {
        Deployment d = Deployment.deploy(web3j, key, params);
        d.write(out);
        System.out.println("Deployed on chain " + d.chainId() + " (admin " + d.admin() + "): anchor " + d.anchor()
            + ", token " + d.token() + ", registry " + d.registry() + ", distributor " + d.distributor());
        System.out.println("Wrote " + out);
        return 0;
      } catch (java.io.IOException e) {
        System.err.println("inferium chain deploy: " + rpc + " did not answer: " + e.getMessage());
        return 1;
      } finally {
        web3j.shutdown();
      }
    }
  }
}
