package io.inferium.engine.cli;

import io.inferium.engine.ServerConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Flags shared by {@code serve} and {@code demo}; each also reads an {@code INFERIUM_*} variable. */
final class ServerOptions {

  @Option(names = "--port", defaultValue = "${env:INFERIUM_PORT:-8080}", description = "HTTP port (env INFERIUM_PORT; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "${env:INFERIUM_HOST:-127.0.0.1}", description = "Address to bind (env INFERIUM_HOST; default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--data-dir", defaultValue = "${env:INFERIUM_DATA_DIR:-.inferium}", description = "Models, embedded database, logs and admin key (env INFERIUM_DATA_DIR; default ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--db-url", defaultValue = "${env:INFERIUM_DB_URL}", description = "postgresql://user[:password]@host[:port]/db; embedded PostgreSQL when absent (env INFERIUM_DB_URL).")
  String dbUrl;

  @Option(names = "--kafka", defaultValue = "${env:INFERIUM_KAFKA}", description = "Kafka bootstrap host:port for the event stream; a local file log under <data-dir>/events when absent (env INFERIUM_KAFKA).")
  String kafka;

  @Option(names = "--burn-platform-share", defaultValue = "${env:INFERIUM_BURN_PLATFORM_SHARE:-false}", description = "Mark the platform's share of every charge burned in the payout ledger (env INFERIUM_BURN_PLATFORM_SHARE).")
  boolean burnPlatformShare;

  @Option(names = "--drain-delay-ms", defaultValue = "${env:INFERIUM_DRAIN_DELAY_MS:-1000}", description = "On SIGTERM, readiness answers 503 this long while requests are still served, so load balancers stop sending (env INFERIUM_DRAIN_DELAY_MS; default ${DEFAULT-VALUE}).")
  long drainDelayMs;

  @Option(names = "--drain-grace-ms", defaultValue = "${env:INFERIUM_DRAIN_GRACE_MS:-30000}", description = "Then no new connections; requests and token streams in flight get this long to finish before their connections are cut (env INFERIUM_DRAIN_GRACE_MS; default ${DEFAULT-VALUE}).")
  long drainGraceMs;

  @Option(names = "--workers", defaultValue = "${env:INFERIUM_WORKERS:-0}", description = "Worker processes; 0 = one per two cores (env INFERIUM_WORKERS).")
  int workers;

  @Option(names = "--event-loops", defaultValue = "${env:INFERIUM_EVENT_LOOPS:-0}", description = "The gateway's event-loop threads; 0 = one per two cores, at least one (env INFERIUM_EVENT_LOOPS). Its workers share the machine, and every hop of a request between two loops costs a wake-up.")
  int eventLoops;

  @Option(names = "--no-local-workers", defaultValue = "${env:INFERIUM_NO_LOCAL_WORKERS:-false}", description = "Start no local worker: serve only through remote nodes on --node-port (env INFERIUM_NO_LOCAL_WORKERS).")
  boolean noLocalWorkers;

  @Option(names = "--max-workers", defaultValue = "${env:INFERIUM_MAX_WORKERS:-0}", description = "Grow the pool up to this many workers under backlog; 0 = a fixed pool (env INFERIUM_MAX_WORKERS).")
  int maxWorkers;

  @Option(names = "--idle-unload-s", defaultValue = "${env:INFERIUM_IDLE_UNLOAD_S:-300}", description = "Unload a model from a worker after this many idle seconds, unless it is keep_warm (default ${DEFAULT-VALUE}).")
  long idleUnloadS;

  @Option(names = "--tiers", defaultValue = "${env:INFERIUM_TIERS}", description = "A tier table (JSON) replacing the built-in one (env INFERIUM_TIERS).")
  Path tiers;

  @Option(names = "--worker-slots", defaultValue = "${env:INFERIUM_WORKER_SLOTS:-2}", description = "Batches each worker runs at once (default ${DEFAULT-VALUE}).")
  int workerSlots;

  @Option(names = "--worker-threads", defaultValue = "${env:INFERIUM_WORKER_THREADS:-1}", description = "ONNX Runtime threads per run (default ${DEFAULT-VALUE}); for compute-bound models prefer 1 slot x cores threads.")
  int workerThreads;

  @Option(names = "--worker-spinning", defaultValue = "${env:INFERIUM_WORKER_SPINNING:-false}", description = "Let ONNX Runtime's intra-op threads busy-wait between parallel sections (default ${DEFAULT-VALUE}): only where workers have their cores to themselves.")
  boolean workerSpinning;

  @Option(names = "--max-inflight", defaultValue = "${env:INFERIUM_MAX_INFLIGHT:-4}", description = "Calls in flight per worker (default ${DEFAULT-VALUE}); beyond its slots only full batches and unbatched requests wait at the worker.")
  int maxInflight;

  @Option(names = "--admin-key", defaultValue = "${env:INFERIUM_ADMIN_KEY}", description = "Admin API key; generated into <data-dir>/admin.key when absent (env INFERIUM_ADMIN_KEY).")
  String adminKey;

  @Option(names = "--max-upload-mb", defaultValue = "${env:INFERIUM_MAX_UPLOAD_MB:-512}", description = "Largest model upload in MiB (default ${DEFAULT-VALUE}).")
  long maxUploadMb;

  @Option(names = "--max-request-mb", defaultValue = "${env:INFERIUM_MAX_REQUEST_MB:-64}", description = "Largest inference request body in MiB (default ${DEFAULT-VALUE}).")
  long maxRequestMb;

  @Option(names = "--worker-sandbox", defaultValue = "${env:INFERIUM_WORKER_SANDBOX:-auto}", description = "auto: confine workers (private mount namespace, own uid) where the platform allows; required: refuse to start otherwise; off: clean environment and limits only (env INFERIUM_WORKER_SANDBOX; default ${DEFAULT-VALUE}).")
  String workerSandbox;

  @Option(names = "--worker-memory", defaultValue = "${env:INFERIUM_WORKER_MEMORY:-4g}", description = "Resident memory per worker, e.g. 2g; a worker above it is killed and named in the error (env INFERIUM_WORKER_MEMORY; default ${DEFAULT-VALUE}).")
  String workerMemory;

  @Option(names = "--worker-cpus", defaultValue = "${env:INFERIUM_WORKER_CPUS:-0}", description = "CPU cores per worker where cgroup v2 allows it; 0 = unlimited (env INFERIUM_WORKER_CPUS; default ${DEFAULT-VALUE}).")
  double workerCpus;

  @Option(names = "--sandbox-standby", defaultValue = "${env:INFERIUM_SANDBOX_STANDBY:-1}", description = "Sandbox workers kept started for deploy-time verification, so a deploy does not wait for a worker to start; each serves one verification, then is replaced; 0 = start one per deploy (env INFERIUM_SANDBOX_STANDBY; default ${DEFAULT-VALUE}).")
  int sandboxStandby;

  @Option(names = "--max-prompt-kb", defaultValue = "${env:INFERIUM_MAX_PROMPT_KB:-256}", description = "Largest prompt (or chat contents, or embedding input) of one OpenAI-route request in KiB, whatever the model (default ${DEFAULT-VALUE}); models with a known context get less.")
  long maxPromptKb;

  @Option(names = "--node-port", defaultValue = "${env:INFERIUM_NODE_PORT:--1}", description = "Listen for remote nodes (inferium-node node) on this TCP port, TLS; off when absent (env INFERIUM_NODE_PORT). See docs/NETWORK.md.")
  int nodePort;

  @Option(names = "--node-host", defaultValue = "${env:INFERIUM_NODE_HOST:-0.0.0.0}", description = "Address the node port binds (default ${DEFAULT-VALUE}).")
  String nodeHost;

  @Option(names = "--node-tls-cert", defaultValue = "${env:INFERIUM_NODE_TLS_CERT}", description = "PEM certificate of the node port (with --node-tls-key); a self-signed one is made in <data-dir>/node-tls when absent.")
  java.nio.file.Path nodeTlsCert;

  @Option(names = "--node-tls-key", defaultValue = "${env:INFERIUM_NODE_TLS_KEY}", description = "PEM private key of --node-tls-cert.")
  java.nio.file.Path nodeTlsKey;

  @Option(names = "--node-min-stake", defaultValue = "${env:INFERIUM_NODE_MIN_STAKE:-1000000}", description = "Stake in micro-USD a remote node needs before it is eligible for work (default ${DEFAULT-VALUE}).")
  long nodeMinStake;

  @Option(names = "--chain-rpc", defaultValue = "${env:INFERIUM_CHAIN_RPC}", description = "JSON-RPC URL of the EVM chain receipt roots are anchored on (with --chain-key-file and --chain-deployment); anchoring off when absent (env INFERIUM_CHAIN_RPC). See docs/CHAIN.md.")
  String chainRpc;

  @Option(names = "--chain-key-file", defaultValue = "${env:INFERIUM_CHAIN_KEY_FILE}", description = "File holding the anchoring key (64 hex digits); it needs ANCHOR_ROLE on the anchor contract (env INFERIUM_CHAIN_KEY_FILE).")
  Path chainKeyFile;

  @Option(names = "--chain-deployment", defaultValue = "${env:INFERIUM_CHAIN_DEPLOYMENT}", description = "The contracts' addresses, as `inferium chain deploy` writes them (env INFERIUM_CHAIN_DEPLOYMENT).")
  Path chainDeployment;

  @Option(names = "--chain-confirmations", defaultValue = "${env:INFERIUM_CHAIN_CONFIRMATIONS:-1}", description = "Blocks, the commit's own included, before a root counts as anchored (default ${DEFAULT-VALUE}).")
  int chainConfirmations;

  @Option(names = "--receipt-epoch-size", defaultValue = "${env:INFERIUM_RECEIPT_EPOCH_SIZE:-1024}", description = "A receipt epoch (one Merkle root) closes at this many receipts… (default ${DEFAULT-VALUE}).")
  int receiptEpochSize;

  @Option(names = "--receipt-epoch-seconds", defaultValue = "${env:INFERIUM_RECEIPT_EPOCH_SECONDS:-60}", description = "…or once its oldest receipt is this old (default ${DEFAULT-VALUE}).")
  double receiptEpochSeconds;

  @Option(names = "--settlement-seconds", defaultValue = "${env:INFERIUM_SETTLEMENT_SECONDS:-86400}", description = "With a chain: how often the payout ledger is settled into a PayoutDistributor epoch; 0: only when an admin asks (POST /api/settlements) (default ${DEFAULT-VALUE}).")
  long settlementSeconds;

  @Option(names = "--shared-db", defaultValue = "${env:INFERIUM_SHARED_DB:-false}", description = "This gateway shares its database (--db-url) with other gateways: models deployed on any of them are stored in the database and copied to each, and node ejections and reputation are read from it every 2 s (default ${DEFAULT-VALUE}).")
  boolean sharedDb;

  io.inferium.engine.receipts.ReceiptSettings receipts() {
    io.inferium.engine.receipts.ReceiptSettings r = io.inferium.engine.receipts.ReceiptSettings.defaults()
        .withEpoch(receiptEpochSize, Math.round(receiptEpochSeconds * 1000));
    String rpc = blankToNull(chainRpc);
    Path key = blankPath(chainKeyFile);
    Path deployment = blankPath(chainDeployment);
    if (rpc == null) {
      if (key != null || deployment != null) {
        throw new IllegalArgumentException("--chain-key-file and --chain-deployment need --chain-rpc");
      }
      return r;
    }
    if (key == null || deployment == null) {
      throw new IllegalArgumentException("--chain-rpc needs --chain-key-file and --chain-deployment");
    }
    return r.withChain(new io.inferium.engine.receipts.ReceiptSettings.Chain(rpc, key, deployment, chainConfirmations,
        io.inferium.engine.receipts.ReceiptSettings.Chain.DEFAULT_CONFIRMATION_LIMIT_MS));
  }

  /** Vert.x for the gateway: {@link #eventLoops} event loops, or {@link io.inferium.engine.Gateway#defaultVertxOptions}. */
  io.vertx.core.VertxOptions vertxOptions() {
    if (eventLoops < 0) {
      throw new IllegalArgumentException("--event-loops: must be 0 (one per two cores) or a number of threads, not " + eventLoops);
    }
    return eventLoops > 0 ? new io.vertx.core.VertxOptions().setEventLoopPoolSize(eventLoops)
        : io.inferium.engine.Gateway.defaultVertxOptions();
  }

  io.inferium.engine.Gateway.Drain drain() {
    return new io.inferium.engine.Gateway.Drain(Math.max(0, drainDelayMs), Math.max(0, drainGraceMs));
  }

  ServerConfig toConfig() {
    ServerConfig.Builder b = ServerConfig.builder().host(host).port(port).dataDir(dataDir).dbUrl(blankToNull(dbUrl)).kafka(blankToNull(kafka)).burnPlatformShare(burnPlatformShare)
        .adminKey(blankToNull(adminKey)).maxUploadBytes(maxUploadMb << 20).maxRequestBytes(maxRequestMb << 20)
        .maxPromptBytes(maxPromptKb << 10);
    if (noLocalWorkers) {
      if (workers > 0 || nodePort < 0) {
        throw new IllegalArgumentException("--no-local-workers: needs --node-port (remote nodes do the work) and no --workers");
      }
      b.workers(0);
    } else if (workers > 0) {
      b.workers(workers);
    }
    b.workerSlots(workerSlots).workerThreads(workerThreads).workerSpinning(workerSpinning).maxInflightPerWorker(maxInflight);
    if (maxWorkers > 0) {
      b.maxWorkers(maxWorkers);
    }
    b.idleUnloadMs(idleUnloadS * 1000);
    b.edges(io.inferium.engine.EdgeLimits.fromEnv(System.getenv()));
    b.workerSandbox(io.inferium.engine.gateway.SandboxSettings.Mode.parse(workerSandbox))
        .workerMemoryBytes(io.inferium.engine.gateway.SandboxSettings.parseBytes(workerMemory)).workerCpus(workerCpus);
    b.standbySandboxes(Math.max(0, sandboxStandby));
    if (tiers != null && !tiers.toString().isBlank()) {
      b.tiersFile(tiers);
    }
    if (nodePort >= 0) {
      b.nodePort(io.inferium.engine.gateway.NodePortSettings.on(nodePort).withHost(nodeHost)
          .withCertificate(blankPath(nodeTlsCert), blankPath(nodeTlsKey)).withMinStake(nodeMinStake));
    }
    b.receipts(receipts());
    if (settlementSeconds < 0) {
      throw new IllegalArgumentException("--settlement-seconds: expected >= 0, got " + settlementSeconds);
    }
    b.settlementIntervalMs(settlementSeconds * 1000);
    if (sharedDb) {
      if (blankToNull(dbUrl) == null) {
        throw new IllegalArgumentException("--shared-db: gateways share a database given with --db-url (the embedded one is this gateway's alone)");
      }
      b.sharedDbSyncMs(ServerConfig.DEFAULT_SHARED_DB_SYNC_MS);
    }
    return b.build();
  }

  private static java.nio.file.Path blankPath(java.nio.file.Path p) {
    return p == null || p.toString().isBlank() ? null : p;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
