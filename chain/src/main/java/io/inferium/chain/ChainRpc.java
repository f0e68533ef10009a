package io.inferium.chain;

import java.io.IOException;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;

/**
 * The one way the gateway opens a chain endpoint: a web3j client that has answered {@code eth_chainId} with the
 * deployment's chain. A key signs transactions for one chain id, so an endpoint of another chain (a wrong
 * {@code --chain-rpc}) is refused before anything is read or sent there. Blocking: call it on a chain thread.
 */
public final class ChainRpc {

  private ChainRpc() {
  }

  /**
   * Connects to {@code rpcUrl} and checks its chain id against {@code deployment}'s.
   *
   * @param deploymentName where the deployment came from, for the error message
   * @throws IllegalStateException when the endpoint is another chain (the client is shut down)
   * @throws IOException when the endpoint does not answer (the client is shut down)
   */
  public static Web3j connect(String rpcUrl, Deployment deployment, Object deploymentName) throws IOException {
    Web3j client = Web3j.build(new HttpService(rpcUrl));
    try {
      long chainId = client.ethChainId().send().getChainId().longValueExact();
      if (chainId != deployment.chainId()) {
        throw new IllegalStateException(rpcUrl + " is chain " + chainId + ", the deployment "
            + (deploymentName == null ? "" : deploymentName + " ") + "is for chain " + deployment.chainId());
      }
      return client;
    } catch (IOException | RuntimeException e) {
      client.shutdown();
      throw e;
    }
  }
}
