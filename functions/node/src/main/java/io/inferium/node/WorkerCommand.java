package io.inferium.node;

import io.inferium.functions.ExecutionDevice;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code inferium worker}: one worker process; normally spawned by {@code serve}. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Run a worker process that connects back to a gateway (normally started by serve).")
class WorkerCommand implements Callable<Integer> {

  @Option(names = "--gateway-host", defaultValue = "127.0.0.1", description = "Gateway worker-port host.")
  String host;

  @Option(names = "--gateway-port", required = true, description = "Gateway worker port.")
  int port;

  @Option(names = "--node-id", defaultValue = "worker",
      description = "A label for this worker's logs; its node id is derived from its key.")
  String nodeId;

  @Option(names = "--device", defaultValue = "auto", description = "auto | cpu | cuda.")
  String device;

  @Option(names = "--slots", defaultValue = "2", description = "Batches run at once.")
  int slots;

  @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime intra-op threads per run.")
  int threads;

  @Option(names = "--spinning", description = "Let ONNX Runtime's intra-op threads busy-wait for work (its own default): "
      + "a little faster where this worker has its cores to itself, CPU taken from everything else where it does not.")
  boolean spinning;

  @Option(names = "--queue-limit", defaultValue = "256", description = "Work items queued before refusing.")
  int queueLimit;

  @Option(names = "--heartbeat-ms", defaultValue = "1000", description = "Heartbeat period.")
  long heartbeatMs;

  @Option(names = "--key-file",
      description = "The node's Ed25519 key file (created if missing); without it a fresh key, i.e. a new node, per start.")
  java.nio.file.Path keyFile;

  @Option(names = "--test-fault", hidden = true, description = "Tests only: noise:P perturbs the outputs of a fraction P of runs.")
  String fault;

  @Override
  public Integer call() {
    String token = System.getenv(WorkerOptions.TOKEN_ENV);
    if (token == null || token.isBlank()) {
      System.err.println("inferium worker: " + WorkerOptions.TOKEN_ENV + " is not set; workers are started by 'inferium serve'");
      return 2;
    }
    return WorkerProcess.run(new WorkerOptions(host, port, token, nodeId, ExecutionDevice.parse(device), slots, threads,
        spinning, queueLimit, heartbeatMs, keyFile, fault));
  }
}
