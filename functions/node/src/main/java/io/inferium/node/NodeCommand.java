package io.inferium.node;

import io.inferium.functions.ExecutionDevice;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code inferium node}: a node on any machine. It connects out to a gateway's node port over TLS, proves
 * its key by the gateway's challenge, registers under its operator and reconnects with backoff, keeping
 * its identity (the key in its data directory) across reconnects and restarts.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Run a node that connects out to a gateway's node port (TLS) and serves its work.")
class NodeCommand implements Callable<Integer> {

  @Option(names = "--gateway", description = "The gateways' node ports, HOST:PORT[,HOST:PORT...] (required unless --drain): "
      + "one link per gateway, one key and one model cache for all, the credits split between them.")
  String gateway;

  @Option(names = "--operator-key",
      description = "File holding the operator's API key (an 'operator' key); the node is registered under that operator.")
  Path operatorKey;

  @Option(names = "--data-dir", defaultValue = "${env:INFERIUM_NODE_DATA_DIR:-.inferium-node}",
      description = "Holds the node's key (node.key); default ${DEFAULT-VALUE}.")
  Path dataDir;

  @Option(names = "--gateway-fingerprint",
      description = "SHA-256 of the gateway's TLS certificate to pin (the gateway logs it and writes it to "
          + "<data-dir>/node-tls/fingerprint); with several --gateway, one per gateway in the same order, comma-separated "
          + "(or one for all). Without it the certificate is verified by CA and host name.")
  String fingerprint;

  @Option(names = "--gateway-ca", description = "PEM file of CA certificates to trust instead of the JDK's (without --gateway-fingerprint).")
  Path ca;

  @Option(names = "--label", defaultValue = "node", description = "A label for logs; the node id comes from the key.")
  String label;

  @Option(names = "--device", defaultValue = "auto", description = "auto | cpu | cuda.")
  String device;

  @Option(names = "--slots", defaultValue = "2", description = "Batches run at once.")
  int slots;

  @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime intra-op threads per run.")
  int threads;

  @Option(names = "--heartbeat-ms", defaultValue = "1000", description = "Heartbeat period until the gateway's WELCOME names its own.")
  long heartbeatMs;

  @Option(names = "--cache-mb", defaultValue = "10240",
      description = "Cap of the on-disk model cache (<data-dir>/blobs) in MiB; least recently used models go first.")
  long cacheMb;

  @Option(names = "--credits", defaultValue = "-1",
      description = "Calls the node takes at once (advertised to the gateway, which caps them); default: --slots.")
  int credits;

  @Option(names = "--drain", description = "Drain the node running with this --data-dir (SIGTERM to the pid in "
      + "<data-dir>/node.pid): it takes no new work, finishes what it holds, leaves the gateway and exits 0; this "
      + "command waits for that.")
  boolean drain;

  @Option(names = "--drain-timeout-s", defaultValue = "60",
      description = "How long a draining node waits for its gateway to take back its work before it leaves anyway.")
  long drainTimeoutS;

  @Option(names = "--test-fault", hidden = true, description = "Tests only: noise:P perturbs the outputs of a fraction P of runs (a lying node).")
  String fault;

  @Override
  public Integer call() throws Exception {
    if (drain) {
      return drainRunning();
    }
    if (gateway == null || operatorKey == null) {
      System.err.println("inferium node: --gateway and --operator-key are required");
      return 2;
    }
    String[] gateways = gateway.split(",", -1);
    String[] pins = fingerprint == null ? null : fingerprint.split(",", -1);
    if (pins != null && pins.length != 1 && pins.length != gateways.length) {
      System.err.println("inferium node: --gateway-fingerprint: " + pins.length + " fingerprints for " + gateways.length
          + " gateways (give one per gateway, in the same order, or one for all)");
      return 2;
    }
    String key = Files.readString(operatorKey, StandardCharsets.UTF_8).strip();
    if (key.isEmpty()) {
      System.err.println("inferium node: --operator-key " + operatorKey + " is empty");
      return 2;
    }
    java.util.List<NodeLinks.Link> links = new java.util.ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < gateways.length; i++) {
      String g = gateways[i].strip();
      int colon = g.lastIndexOf(':');
      int port;
      try {
        port = colon > 0 ? Integer.parseInt(g.substring(colon + 1)) : -1;
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port <= 0 || port > 65_535) {
        System.err.println("inferium node: --gateway: expected HOST:PORT[,HOST:PORT...], got '" + g + "'");
        return 2;
      }
      if (!seen.add(g)) {
        System.err.println("inferium node: --gateway: " + g + " is named twice");
        return 2;
      }
      String host = g.substring(0, colon).replace("[", "").replace("]", "");
      String pin = pins == null ? null : pins[pins.length == 1 ? 0 : i];
      RemoteConnector connector;
      try {
        connector = new RemoteConnector(host, port, pin, ca, key);
      } catch (IllegalArgumentException e) {
        System.err.println("inferium node: " + e.getMessage());
        return 2;
      }
      links.add(new NodeLinks.Link(new WorkerOptions(host, port, null, label, ExecutionDevice.parse(device), slots, threads,
          false, WorkerOptions.DEFAULT_QUEUE_LIMIT, heartbeatMs, dataDir.resolve("node.key"), fault), connector));
    }
    Files.createDirectories(dataDir);
    Path pidFile = dataDir.resolve("node.pid");
    Files.writeString(pidFile, Long.toString(ProcessHandle.current().pid()), StandardCharsets.US_ASCII);
    try {
      return NodeLinks.run(links, dataDir.resolve("blobs"), cacheMb << 20, credits < 0 ? slots : credits,
          drainTimeoutS * 1000);
    } finally {
      Files.deleteIfExists(pidFile);
    }
  }

  /** {@code --drain}: asks the node of this data dir to drain (SIGTERM) and waits until it has left. */
  private int drainRunning() throws Exception {
    Path pidFile = dataDir.resolve("node.pid");
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).strip());
    } catch (java.nio.file.NoSuchFileException | NumberFormatException e) {
      System.err.println("inferium node --drain: no node runs with data dir " + dataDir + " (no readable " + pidFile + ")");
      return 1;
    }
    java.util.Optional<ProcessHandle> node = ProcessHandle.of(pid);
    if (node.isEmpty() || !node.get().isAlive()) {
      System.err.println("inferium node --drain: node process " + pid + " is not running");
      return 1;
    }
    node.get().destroy(); // SIGTERM: the node drains
    System.out.println("inferium node --drain: asked node process " + pid + " to drain; waiting");
    try {
      node.get().onExit().get(drainTimeoutS + 30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      System.err.println("inferium node --drain: node process " + pid + " still runs after " + (drainTimeoutS + 30) + " s");
      return 1;
    }
    System.out.println("inferium node --drain: node process " + pid + " drained and exited");
    return 0;
  }
}
