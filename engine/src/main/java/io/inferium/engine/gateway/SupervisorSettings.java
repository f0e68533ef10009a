package io.inferium.engine.gateway;

import io.inferium.functions.ExecutionDevice;
import java.nio.file.Path;
import java.util.List;

/**
 * How the gateway runs its local worker processes.
 *
 * @param workers          pool size
 * @param logDir           each worker's stdout and stderr are appended to a file here
 * @param device           execution device the workers ask for
 * @param slots            batches a worker runs at once
 * @param intraOpThreads   ONNX Runtime threads per run
 * @param spinning         whether those threads busy-wait for work ({@code --spinning} of the worker)
 * @param maxOutstanding   batches (and loads) the gateway keeps in flight per worker
 * @param heartbeatMs      worker heartbeat period
 * @param heartbeatMisses  silent periods after which a worker is killed and replaced
 * @param attachTimeoutMs  how long a spawned worker has to connect back and say hello
 * @param jvmOptions       extra JVM options for worker processes
 * @param cancelGraceMs    how long a worker may take to stop a cancelled request before it is replaced
 * @param testFaults       for tests only: worker slot → fault it injects (see {@code WorkerOptions.fault})
 * @param sandbox          how worker processes are confined and limited ({@link WorkerSandbox})
 * @param standbySandboxes sandbox workers kept started for deploy-time verification (0: start one per deploy)
 * @param classArchiveDir  where the workers' class-data-sharing archive is made and kept ({@link WorkerClassArchive});
 *                         null: workers start without one
 */
public record SupervisorSettings(int workers, Path logDir, ExecutionDevice device, int slots, int intraOpThreads,
    boolean spinning, int maxOutstanding, long heartbeatMs, int heartbeatMisses, long attachTimeoutMs, List<String> jvmOptions, long cancelGraceMs,
    java.util.Map<Integer, String> testFaults, SandboxSettings sandbox, int standbySandboxes,
    Path classArchiveDir) {

  public static final long DEFAULT_CANCEL_GRACE_MS = 2_000;
  /** One idle JVM (about 100 MB resident) saves each deploy the start of a worker: seconds on a small machine. */
  public static final int DEFAULT_STANDBY_SANDBOXES = 1;

  /** Batches in flight per worker: its two slots busy and one more ready for each, so transfer overlaps compute. */
  public static final int DEFAULT_MAX_OUTSTANDING = 4;
  public static final int DEFAULT_HEARTBEAT_MISSES = 5;
  public static final long DEFAULT_ATTACH_TIMEOUT_MS = 60_000;
  public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xss8m", "-Xmx1g", "-XX:+UseSerialGC");

  /** Default pool size: one worker per two cores, at least one, at most eight. */
  public static int defaultWorkers() {
    return Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors() / 2));
  }
}
