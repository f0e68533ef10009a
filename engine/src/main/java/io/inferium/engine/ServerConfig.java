package io.inferium.engine;

import io.inferium.engine.deploy.DeploySettings;
import io.inferium.engine.gateway.SandboxSettings;
import io.inferium.engine.gateway.ScaleSettings;
import io.inferium.engine.gateway.SupervisorSettings;
import io.inferium.functions.ExecutionDevice;
import java.nio.file.Path;

/**
 * Everything {@code inferium serve} can be told, with its defaults in one place. The CLI fills it
 * from flags and {@code INFERIUM_*} environment variables.
 *
 * @param dbUrl    null for the embedded PostgreSQL under {@code dataDir/pg}
 * @param adminKey null to read or generate {@code dataDir/admin.key}
 * @param workerSlots   batches a worker runs at once (each on {@code workerThreads} ONNX Runtime threads)
 * @param workerThreads ONNX Runtime intra-op threads per run
 * @param workerSpinning whether those threads busy-wait for work (ONNX Runtime's default); off by default, since
 *                 on cores shared with the gateway a spinning thread takes the CPU the gateway needs
 * @param maxInflightPerWorker calls the dispatcher keeps in flight per worker; beyond the worker's slots only full
 *                 batches and unbatched requests (a batch that could still grow waits in the mempool for a slot)
 * @param deploy   limits of deploy-time verification
 * @param ledger   stake, slashing and ejection thresholds of the verification network
 * @param testFaults for tests only: worker slot index → injected fault, e.g. {@code noise:1.0}
 * @param tiersFile a tier table replacing the built-in {@code tiers.json}; null for the built-in one
 * @param scale    pool bounds, idle unloading and autoscaling ({@code workers} is the starting and minimum size)
 * @param kafka    Kafka bootstrap servers ({@code host:port[,…]}) for the event stream; null for the local
 *                 file log under {@code dataDir/events}
 * @param burnPlatformShare mark the platform's share of each charge burned in the payout ledger
 * @param edges    HTTP timeouts and worker-port limits
 * @param sandbox  worker confinement and limits; null for {@link SandboxSettings#defaults} under {@code dataDir}
 * @param maxPromptBytes the most UTF-8 bytes of prompt (completions), message contents (chat) or input
 *                 (embeddings) one OpenAI-route request may carry, whatever the model; a model with a known
 *                 context length gets less ({@code PromptLimits})
 * @param nodePort the remote node port (TLS, challenge–response); null when off (the default)
 * @param standbySandboxes sandbox workers kept started for deploy-time verification
 * @param receipts receipt epochs and, when a chain is configured, anchoring (issue 13)
 * @param settlementIntervalMs with a chain, how often the payout ledger is settled into a distributor epoch (0: only
 *                 when an admin asks, {@code POST /api/settlements})
 * @param chainStakeRefreshMs with a chain and a node port: how often the remote nodes' NodeRegistry entries are read
 * @param sharedDbSyncMs with other gateways on the same database ({@code --shared-db}): how often models are copied
 *                 through it and node-ledger changes read from it; 0 (the default) when this gateway is alone
 * @param blobSweep  how often the model store is swept of files no function version references, and how old such a
 *                 file must be before it goes
 */
public record ServerConfig(
    String host,
    int port,
    Path dataDir,
    String dbUrl,
    int workers,
    String adminKey,
    long maxUploadBytes,
    long maxRequestBytes,
    ExecutionDevice device,
    int workerSlots,
    int workerThreads,
    boolean workerSpinning,
    int maxInflightPerWorker,
    long heartbeatMs,
    DeploySettings deploy,
    ScaleSettings scale,
    Path tiersFile,
    java.util.Map<Integer, String> testFaults,
    io.inferium.verifier.LedgerSettings ledger,
    String kafka,
    boolean burnPlatformShare,
    EdgeLimits edges,
    SandboxSettings sandbox,
    long maxPromptBytes,
    io.inferium.engine.gateway.NodePortSettings nodePort,
    int standbySandboxes,
    io.inferium.engine.receipts.ReceiptSettings receipts,
    long settlementIntervalMs,
    long chainStakeRefreshMs,
    long sharedDbSyncMs,
    io.inferium.engine.deploy.BlobSweeper.Settings blobSweep) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8080;
  public static final String DEFAULT_DATA_DIR = ".inferium";
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 512L << 20;
  public static final long DEFAULT_MAX_REQUEST_BYTES = 64L << 20;
  public static final long DEFAULT_MAX_PROMPT_BYTES = 256L << 10;
  /** A settlement epoch a day when a chain is configured. */
  public static final long DEFAULT_SETTLEMENT_INTERVAL_MS = 24L * 3600 * 1000;
  /** How often remote nodes' NodeRegistry entries are read when a chain is configured. */
  public static final long DEFAULT_CHAIN_STAKE_REFRESH_MS = 5_000;
  /** With {@code --shared-db}: models and node-ledger changes are read from the shared database this often. */
  public static final long DEFAULT_SHARED_DB_SYNC_MS = 2_000;

  public static ServerConfig defaults() {
    return builder().build();
  }

  /** A builder holding the defaults; set what differs. */
  public static Builder builder() {
    return new Builder();
  }

  /** Mutable builder for {@link ServerConfig}; every field starts at its default. */
  public static final class Builder {
    private String host = DEFAULT_HOST;
    private int port = DEFAULT_PORT;
    private Path dataDir = Path.of(DEFAULT_DATA_DIR);
    private String dbUrl;
    private int workers = SupervisorSettings.defaultWorkers();
    private String adminKey;
    private long maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES;
    private long maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    private ExecutionDevice device = ExecutionDevice.AUTO;
    private int workerSlots = 2;
    private int workerThreads = 1;
    private boolean workerSpinning;
    private int maxInflight = SupervisorSettings.DEFAULT_MAX_OUTSTANDING;
    private long heartbeatMs = 1000;
    private DeploySettings deploy = DeploySettings.defaults();
    private Integer maxWorkers;
    private long idleUnloadMs = ScaleSettings.DEFAULT_IDLE_UNLOAD_MS;
    private long scaleUpAfterMs = ScaleSettings.DEFAULT_SCALE_UP_AFTER_MS;
    private long scaleDownAfterMs = ScaleSettings.DEFAULT_SCALE_DOWN_AFTER_MS;
    private Path tiersFile;
    private String kafka;
    private boolean burnPlatformShare;
    private EdgeLimits edges = EdgeLimits.defaults();
    private SandboxSettings.Mode workerSandbox = SandboxSettings.Mode.AUTO;
    private long workerMemoryBytes = SandboxSettings.DEFAULT_MEMORY_BYTES;
    private double workerCpus;
    private long maxPromptBytes = DEFAULT_MAX_PROMPT_BYTES;
    private io.inferium.engine.gateway.NodePortSettings nodePort;
    private int standbySandboxes = SupervisorSettings.DEFAULT_STANDBY_SANDBOXES;
    private io.inferium.engine.receipts.ReceiptSettings receipts = io.inferium.engine.receipts.ReceiptSettings.defaults();
    private long settlementIntervalMs = DEFAULT_SETTLEMENT_INTERVAL_MS;
    private long chainStakeRefreshMs = DEFAULT_CHAIN_STAKE_REFRESH_MS;
    private long sharedDbSyncMs;
    private io.inferium.engine.deploy.BlobSweeper.Settings blobSweep = io.inferium.engine.deploy.BlobSweeper.Settings.DEFAULTS;
    private final java.util.Map<Integer, String> testFaults = new java.util.HashMap<>();
    private io.inferium.verifier.LedgerSettings ledger = io.inferium.verifier.LedgerSettings.defaults();

    public Builder host(String v) { host = v; return this; }
    public Builder port(int v) { port = v; return this; }
    public Builder dataDir(Path v) { dataDir = v; return this; }
    public Builder dbUrl(String v) { dbUrl = v; return this; }
    public Builder workers(int v) { workers = v; return this; }
    public Builder adminKey(String v) { adminKey = v; return this; }
    public Builder maxUploadBytes(long v) { maxUploadBytes = v; return this; }
    public Builder maxRequestBytes(long v) { maxRequestBytes = v; return this; }
    public Builder device(ExecutionDevice v) { device = v; return this; }
    public Builder deploy(DeploySettings v) { deploy = v; return this; }
    public Builder workerSlots(int v) { workerSlots = v; return this; }
    public Builder workerThreads(int v) { workerThreads = v; return this; }
    public Builder workerSpinning(boolean v) { workerSpinning = v; return this; }
    public Builder maxInflightPerWorker(int v) { maxInflight = v; return this; }
    public Builder heartbeatMs(long v) { heartbeatMs = v; return this; }
    public Builder maxWorkers(int v) { maxWorkers = v; return this; }
    public Builder tiersFile(Path v) { tiersFile = v; return this; }
    public Builder kafka(String v) { kafka = v; return this; }
    public Builder burnPlatformShare(boolean v) { burnPlatformShare = v; return this; }
    public Builder workerSandbox(SandboxSettings.Mode v) { workerSandbox = v; return this; }
    public Builder workerMemoryBytes(long v) { workerMemoryBytes = v; return this; }
    public Builder workerCpus(double v) { workerCpus = v; return this; }
    public Builder maxPromptBytes(long v) { maxPromptBytes = v; return this; }
    public Builder ledger(io.inferium.verifier.LedgerSettings v) { ledger = v; return this; }
    public Builder edges(EdgeLimits v) { edges = v; return this; }
    /** The remote node port; null (the default) for none. */
    public Builder nodePort(io.inferium.engine.gateway.NodePortSettings v) { nodePort = v; return this; }
    /** Sandbox workers kept started for deploys (0: one is started per deploy). */
    public Builder standbySandboxes(int v) { standbySandboxes = v; return this; }
    /** For tests only: the worker in pool slot {@code slot} (1-based) perturbs its outputs. */
    /** Receipt epochs and anchoring; default: epochs of 1024 receipts or 60 s, no chain. */
    public Builder receipts(io.inferium.engine.receipts.ReceiptSettings v) { receipts = v; return this; }
    /** How often a settlement epoch is built when a chain is configured (0: only when an admin asks). */
    public Builder settlementIntervalMs(long v) { settlementIntervalMs = v; return this; }
    /** With a chain and a node port: how often remote nodes' registry entries are read. */
    public Builder chainStakeRefreshMs(long v) { chainStakeRefreshMs = v; return this; }
    /** Other gateways share this database: sync models and ledger changes this often (0: alone, the default). */
    public Builder sharedDbSyncMs(long v) { sharedDbSyncMs = v; return this; }
    /** How often unreferenced model files are swept, and how old they must be (default: every minute, 10 minutes). */
    public Builder blobSweep(io.inferium.engine.deploy.BlobSweeper.Settings v) { blobSweep = v; return this; }
    public Builder testFault(int slot, String fault) { testFaults.put(slot, fault); return this; }
    public Builder idleUnloadMs(long v) { idleUnloadMs = v; return this; }
    public Builder scaleUpAfterMs(long v) { scaleUpAfterMs = v; return this; }
    public Builder scaleDownAfterMs(long v) { scaleDownAfterMs = v; return this; }

    public ServerConfig build() {
      ScaleSettings scale = new ScaleSettings(workers, Math.max(workers, maxWorkers == null ? workers : maxWorkers),
          idleUnloadMs, scaleUpAfterMs, scaleDownAfterMs, ScaleSettings.DEFAULT_TICK_MS);
      return new ServerConfig(host, port, dataDir, dbUrl, workers, adminKey, maxUploadBytes, maxRequestBytes, device,
          workerSlots, workerThreads, workerSpinning, maxInflight, heartbeatMs, deploy, scale, tiersFile, java.util.Map.copyOf(testFaults),
          ledger, kafka, burnPlatformShare, edges, new SandboxSettings(workerSandbox, workerMemoryBytes, workerCpus,
              SandboxSettings.DEFAULT_UID_BASE, dataDir.resolve("models"), dataDir.resolve("workers"),
              SandboxSettings.DEFAULT_MAX_FILE_BYTES, SandboxSettings.DEFAULT_MAX_OPEN_FILES, SandboxSettings.DEFAULT_MAX_THREADS),
          maxPromptBytes, nodePort, standbySandboxes, receipts, settlementIntervalMs, chainStakeRefreshMs, sharedDbSyncMs,
          blobSweep);
    }
  }

  SupervisorSettings supervisorSettings() {
    return new SupervisorSettings(workers, dataDir.resolve("logs"), device, workerSlots, workerThreads,
        workerSpinning, maxInflightPerWorker, heartbeatMs, SupervisorSettings.DEFAULT_HEARTBEAT_MISSES,
        SupervisorSettings.DEFAULT_ATTACH_TIMEOUT_MS, SupervisorSettings.DEFAULT_JVM_OPTIONS,
        SupervisorSettings.DEFAULT_CANCEL_GRACE_MS, testFaults,
        sandbox == null ? SandboxSettings.defaults(dataDir) : sandbox, standbySandboxes,
        io.inferium.engine.gateway.WorkerClassArchive.directory(dataDir));
  }
}
