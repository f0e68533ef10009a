package io.inferium.node;

import io.inferium.functions.ExecutionDevice;

/**
 * How a worker process runs.
 *
 * @param gatewayHost   where the gateway's worker port listens (loopback by default)
 * @param gatewayPort   that port
 * @param token         one-time token the supervisor gave this process, proving who spawned it
 * @param nodeId        a label for logs (the supervisor's slot, e.g. {@code w1}); the node id proper is
 *                      derived from the key ({@code NodeKeys.nodeIdOf})
 * @param device        execution device request
 * @param slots         batches run concurrently
 * @param intraOpThreads ONNX Runtime threads per run
 * @param spinning      whether those threads busy-wait for work between parallel sections
 * @param queueLimit    accepted-but-not-started work items before the worker answers "overloaded"
 * @param heartbeatMs   heartbeat period
 * @param keyFile       the node's Ed25519 key file (created on first start); null for a fresh in-memory key,
 *                      i.e. a new node identity for this process (how the supervisor starts local workers)
 * @param fault         for tests only, null normally: {@code noise:P} perturbs the outputs of a fraction P
 *                      of runs (float outputs shifted, integer outputs off by one: a wrong class)
 */
public record WorkerOptions(String gatewayHost, int gatewayPort, String token, String nodeId,
    ExecutionDevice device, int slots, int intraOpThreads, boolean spinning, int queueLimit, long heartbeatMs, java.nio.file.Path keyFile,
    String fault) {

  public static final int DEFAULT_SLOTS = 2;
  public static final int DEFAULT_QUEUE_LIMIT = 256;
  public static final long DEFAULT_HEARTBEAT_MS = 1000;
  /** Environment variable carrying the spawn token, so it never shows in {@code ps}. */
  public static final String TOKEN_ENV = io.inferium.functions.protocol.WorkerLaunch.TOKEN_ENV;
}
