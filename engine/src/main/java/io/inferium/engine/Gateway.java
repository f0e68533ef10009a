package io.inferium.engine;

import io.inferium.engine.metrics.EngineMetrics;

import io.inferium.engine.api.HttpVerticle;
import io.inferium.engine.auth.ApiKeys;
import io.inferium.engine.auth.Tenants;
import io.inferium.engine.auth.Tiers;
import io.inferium.engine.deploy.DeployPipeline;
import io.inferium.engine.gateway.NodeCode;
import io.inferium.engine.gateway.RemoteNodes;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.gateway.WorkerCall;
import io.inferium.engine.schedule.SchedulerLoad;
import io.inferium.engine.gateway.ScaleController;
import io.inferium.engine.mempool.Mempool;
import io.inferium.engine.gateway.WorkerSupervisor;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.ModelBlobs;
import io.inferium.infra.Database;
import io.inferium.infra.DatabaseSettings;
import io.inferium.infra.Metrics;
import io.inferium.infra.events.EventLog;
import io.inferium.scoring.Invoices;
import io.inferium.scoring.PayoutLedger;
import io.inferium.scoring.RevenueSplit;
import io.inferium.scoring.UsageMeter;
import io.inferium.engine.text.Embeddings;
import io.inferium.engine.text.Generations;
import io.inferium.engine.text.LogLikelihoods;
import io.inferium.engine.text.TextLoad;
import io.inferium.engine.text.TextMetrics;
import io.inferium.verifier.NodeLedger;
import io.inferium.verifier.consensus.ConsensusVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway process assembled: database, function store, worker supervisor, deploy pipeline,
 * dispatcher and HTTP verticle, started in that order and stopped in reverse.
 */
public final class Gateway {

  private static final Logger log = LoggerFactory.getLogger(Gateway.class);
  private HttpVerticle http;
  private Future<Void> stopped;
  /** This build's version, from the pom (filtered into {@code build.properties}). */
  public static final String VERSION = buildVersion();

  private static String buildVersion() {
    java.util.Properties p = new java.util.Properties();
    try (java.io.InputStream in = Gateway.class.getResourceAsStream("build.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return p.getProperty("version", "unknown");
  }

  /**
   * For benchmarks only ({@code loadtest/scripts/serving-path.sh}, docs/BENCHMARKS.md): {@code -Dinferium.benchmark.receiptsOff=true}
   * leaves the receipts consumer unstarted, to measure what receipts cost side by side. Not a {@code serve} flag:
   * every answered request has a receipt (issue 13); a gateway started so logs a warning and serves 404s for them.
   */
  static final String RECEIPTS_OFF_PROPERTY = "inferium.benchmark.receiptsOff";

  private final Vertx vertx;
  private final ServerConfig config;
  private Database database;
  private WorkerExecutor files;
  private WorkerSupervisor supervisor;
  private ScaleController scaler;
  private Tiers tiers;
  private UsageMeter meter;
  private io.inferium.engine.receipts.ReceiptService receipts;
  private io.inferium.engine.settlement.SettlementService settlement;
  private io.inferium.engine.stake.ChainStake chainStake;
  private io.inferium.engine.cluster.SharedModels sharedModels;
  private io.inferium.engine.deploy.BlobSweeper sweeper;
  private long ledgerRefresh = -1;
  private EventLog events;
  private DeployPipeline pipeline;
  private FunctionStore store;
  private NodeLedger ledger;
  private RemoteNodes remoteNodes;
  private String deploymentId;
  private int port;
  private String adminKeyLocation;

  private Gateway(Vertx vertx, ServerConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  /**
   * One event loop per two cores, at least one (Vert.x's own default is two per core). The gateway runs one HTTP
   * verticle, and the worker links, the text scheduler and the event consumers land on other loops when there are
   * some: each hop of a request between loops is a task and, when that loop sleeps, a wake-up (an eventfd write, an
   * epoll return). On a machine whose cores the workers need, fewer loops cost less CPU per request
   * (docs/BENCHMARKS.md "Event loops"); on a larger one the links spread over the loops.
   */
  public static int defaultEventLoops(int cores) {
    return Math.max(1, cores / 2);
  }

  /**
   * The Vert.x options {@code inferium serve} starts with when {@code --event-loops} is not given: {@link
   * #defaultEventLoops} of this machine's cores. The test harness and the benchmark server use them too, so what they
   * exercise and measure is the shape that is served.
   */
  public static io.vertx.core.VertxOptions defaultVertxOptions() {
    return new io.vertx.core.VertxOptions().setEventLoopPoolSize(defaultEventLoops(Runtime.getRuntime().availableProcessors()));
  }

  /** Starts everything; on failure stops what had started. */
  public static Future<Gateway> start(Vertx vertx, Metrics metrics, ServerConfig config) {
    Gateway g = new Gateway(vertx, config);
    return g.doStart(metrics).map(g).recover(err -> g.stop().transform(ar -> Future.failedFuture(err)));
  }

  private Future<Void> doStart(Metrics metrics) {
    Path dataDir = config.dataDir().toAbsolutePath();
    EngineMetrics engineMetrics = new EngineMetrics(metrics.registry());
    files = vertx.createSharedWorkerExecutor("inferium-files", 2);
    DatabaseSettings db = config.dbUrl() == null || config.dbUrl().isBlank()
        ? DatabaseSettings.embedded(dataDir.resolve("pg"))
        : DatabaseSettings.url(config.dbUrl());
    return vertx.executeBlocking(() -> {
          Files.createDirectories(dataDir.resolve("uploads"));
          engineMetrics.dataDisk(dataDir);
          tiers = Tiers.load(config.tiersFile());
          return NodeCode.resolve();
        }, false)
        .compose(nodeCode -> Database.open(vertx, db).compose(d -> {
          database = d;
          log.info("Database: {}", d.description());
          ApiKeys keys = new ApiKeys(d.pool(), metrics.registry());
          return keys.bootstrapAdmin(vertx, config.adminKey(), dataDir.resolve("admin.key")).compose(where -> {
            adminKeyLocation = where;
            store = new FunctionStore(d.pool());
            ModelBlobs blobs = new ModelBlobs(dataDir.resolve("models"), files);
            supervisor = new WorkerSupervisor(vertx, config.supervisorSettings(), engineMetrics, nodeCode);
            supervisor.portLimits(config.edges().workerPort());
            NodeLedger ledger = new NodeLedger(d.pool(), config.ledger(), metrics.registry());
            this.ledger = ledger;
            events = config.kafka() == null || config.kafka().isBlank()
                ? EventLog.local(vertx, dataDir.resolve("events"), metrics.registry())
                : EventLog.kafkaWithOutbox(vertx, config.kafka(), dataDir.resolve("outbox"), metrics.registry());
            log.info("Event stream: {}", events.description());
            meter = new UsageMeter(vertx, d.pool(), events, metrics.registry())
                .payouts(new PayoutLedger(RevenueSplit.DEFAULT, config.burnPlatformShare()));
            // Receipts: a consumer group of their own on the completions topic, never on the request path.
            receipts = new io.inferium.engine.receipts.ReceiptService(vertx, d.pool(), events, metrics.registry(),
                config.receipts());
            settlement = new io.inferium.engine.settlement.SettlementService(vertx, d.pool(), metrics.registry(),
                config.receipts().chain(), config.settlementIntervalMs(), config.receipts().retryMinMs(),
                config.receipts().retryMaxMs());
            supervisor.onAttach(link -> ledger.register(link.workerId(), link.hello().getString("public_key"))
                .onFailure(err -> log.warn("Could not register node {}: {}", link.workerId(), err.toString())));
            supervisor.onDetach(ledger::detach);
            supervisor.onMiss((node, what) -> ledger.penalize(node, what[0], what[1])
                .onFailure(err -> log.warn("Could not record {} of {}: {}", what[0], node, err.toString())));
            if (config.nodePort() != null) {
              remoteNodes = new RemoteNodes(vertx, config.nodePort(), dataDir, nodeCode.sha256(),
                  (secret, remote) -> keys.authenticate(secret, remote).map(p -> p
                      .filter(principal -> principal.role() == io.inferium.engine.auth.Principal.Role.OPERATOR)
                      .map(io.inferium.engine.auth.Principal::keyId)),
                  ledger, config.supervisorSettings(), blobs, files);
              remoteNodes.metrics(metrics.registry());
              if (config.receipts().chain() != null) {
                // With a chain, the registry's stake decides which remote nodes work; slashes are sent there.
                chainStake = new io.inferium.engine.stake.ChainStake(vertx, d.pool(), metrics.registry(),
                    config.receipts().chain(), remoteNodes, config.chainStakeRefreshMs());
              }
            }
            RemoteNodes remote = remoteNodes;
            Dispatcher dispatcher = remote == null ? new Dispatcher(supervisor, ledger::isEjected)
                : new Dispatcher(() -> {
                  // Local workers first, then remote nodes that are staked and connected.
                  List<io.inferium.engine.gateway.Worker> all = new java.util.ArrayList<>(supervisor.workers());
                  all.addAll(remote.eligibleLinks());
                  return all;
                }, ledger::isEjected).networked(ledger::reputation);
            engineMetrics.workersEligible(() -> dispatcher.workers().size(),
                () -> Math.max(0, supervisor.workers().size() - dispatcher.workers().size()));
            TextMetrics textMetrics = new TextMetrics(engineMetrics);
            TextLoad textLoad = new TextLoad(vertx, blobs);
            WorkerCall.Factory calls = new WorkerCall.Factory(blobs, textLoad::metaOf, engineMetrics);
            Mempool mempool = new Mempool(vertx, dispatcher, calls, engineMetrics,
                // A secure source: a worker that could predict which answers get audited would lie only on the others.
                ConsensusVerifier.forTensors(ledger, new java.security.SecureRandom()));
            Generations generations = new Generations(vertx, dispatcher, calls, textMetrics);
            generations.verifyWith(new io.inferium.engine.text.RedundantText.Judge<>(new ConsensusVerifier<>(ledger,
                io.inferium.verifier.consensus.TokenAgreement.INSTANCE, new java.security.SecureRandom()),
                io.inferium.verifier.consensus.TokenAgreement.INSTANCE), new io.inferium.engine.text.RedundantText.Judge<>(
                ConsensusVerifier.forTensors(ledger, new java.security.SecureRandom()),
                io.inferium.verifier.consensus.TensorAgreement.INSTANCE), new io.inferium.engine.text.RedundantText.Judge<>(
                new ConsensusVerifier<>(ledger, io.inferium.verifier.consensus.SemanticAgreement.INSTANCE,
                    new java.security.SecureRandom()), io.inferium.verifier.consensus.SemanticAgreement.INSTANCE),
                store::latestReady);
            scaler = new ScaleController(vertx, supervisor, SchedulerLoad.of(List.of(mempool, generations)), store, blobs,
                engineMetrics, config.scale());
            pipeline = new DeployPipeline(vertx, store, blobs, supervisor, files, config.deploy(), engineMetrics);
            sweeper = new io.inferium.engine.deploy.BlobSweeper(vertx, d.pool(), blobs, files, dispatcher::unloadEverywhere,
                () -> sharedModels != null && sharedModels.syncing(), config.blobSweep(), metrics.registry());
            if (config.sharedDbSyncMs() > 0) {
              // Other gateways share this database: models travel through it, and their ledger changes are read.
              sharedModels = new io.inferium.engine.cluster.SharedModels(vertx, d.pool(), blobs, files,
                  config.sharedDbSyncMs(), metrics.registry());
              pipeline.resumeOnlyLocal();
            }
            HttpVerticle http = new HttpVerticle(
                new HttpVerticle.Services(d.pool(), store, blobs, pipeline, dispatcher, mempool, keys, new Tenants(d.pool()),
                    tiers, ledger, supervisor, meter, events, new Invoices(d.pool(), RevenueSplit.DEFAULT), metrics, engineMetrics,
                    dispatcher::anyWorker, VERSION,
                    new HttpVerticle.Text(generations, new Embeddings(generations), textMetrics,
                        new LogLikelihoods(generations)), remoteNodes, receipts, settlement),
                new HttpVerticle.Listen(config.host(), config.port(), config.maxUploadBytes(), config.maxRequestBytes(),
                    dataDir.resolve("uploads"), config.edges().http(), config.maxPromptBytes()));
            return vertx.executeBlocking(() -> {
                  io.inferium.functions.seal.NodeKeys.warmUp(); // hellos are verified on event loops
                  return null;
                }, false)
                .compose(v -> ledger.load()).compose(v -> meter.start()).compose(v -> startReceipts())
                .compose(v -> sharedModels == null ? Future.succeededFuture() : sharedModels.start())
                .onSuccess(v -> {
                  if (sharedModels != null) {
                    ledgerRefresh = vertx.setPeriodic(config.sharedDbSyncMs(), id -> ledger.refresh()
                        .onFailure(err -> log.debug("Node ledger refresh failed: {}", err.toString())));
                  }
                })
                .compose(v -> settlement.start())
                .compose(v -> chainStake == null ? Future.succeededFuture() : chainStake.start(ledger))
                .compose(v -> supervisor.start())
                .compose(v -> remoteNodes == null ? Future.succeededFuture() : remoteNodes.start())
                .onSuccess(v -> {
                  scaler.start();
                  sweeper.start();
                })
                .compose(v -> pipeline.resumePending())
                .compose(n -> vertx.deployVerticle(http))
                .onSuccess(id -> {
                  deploymentId = id;
                  this.http = http;
                  port = http.actualPort();
                })
                .mapEmpty();
          });
        }));
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The HTTP face (null until started): its routes, for the OpenAPI contract test. */
  public HttpVerticle http() {
    return http;
  }

  public int port() {
    return port;
  }

  public String url() {
    return "http://" + config.host() + ":" + port;
  }

  /** Where the admin key can be read: a file path, or the option it came from. */
  public String adminKeyLocation() {
    return adminKeyLocation;
  }

  public DeployPipeline pipeline() {
    return pipeline;
  }

  public FunctionStore store() {
    return store;
  }

  public NodeLedger ledger() {
    return ledger;
  }

  /** The remote node port's nodes; null when the gateway has no node port. */
  public RemoteNodes remoteNodes() {
    return remoteNodes;
  }

  /** Receipts of answered requests, their epochs and (when a chain is configured) their anchoring. */
  private Future<Void> startReceipts() {
    if (Boolean.getBoolean(RECEIPTS_OFF_PROPERTY)) {
      log.warn("Receipts: NOT recorded (-D{}=true, for benchmarks only): answered requests get no receipt",
          RECEIPTS_OFF_PROPERTY);
      return Future.succeededFuture();
    }
    return receipts.start();
  }

  public io.inferium.engine.receipts.ReceiptService receipts() {
    return receipts;
  }

  public WorkerSupervisor supervisor() {
    return supervisor;
  }

  /** The event log (completion events on {@link EventLog#COMPLETIONS}): consumers subscribe here with their own group. */
  public EventLog events() {
    return events;
  }

  /**
   * How a SIGTERM drains the gateway: readiness answers 503 for {@code delayMs} while requests are still served
   * (load balancers see it and stop sending), then the HTTP server takes no new connections and what is in
   * flight (requests, token streams) gets {@code graceMs} to finish before its connection is cut.
   */
  public record Drain(long delayMs, long graceMs) {
    public static final long DEFAULT_DELAY_MS = 1_000;
    public static final long DEFAULT_GRACE_MS = 30_000;
  }

  /** Drains the HTTP side as {@code drain} says, then {@link #stop}s the rest (workers, event log, database). */
  public Future<Void> drain(Drain drain) {
    Future<Void> served = http == null ? Future.succeededFuture() : http.drain(drain.delayMs(), drain.graceMs());
    return served.otherwiseEmpty().compose(v -> stop());
  }

  /** Stops everything at once (in-flight requests are cut); a second call gets the first one's future. */
  public synchronized Future<Void> stop() {
    if (stopped == null) {
      stopped = stopOnce();
    }
    return stopped;
  }

  private Future<Void> stopOnce() {
    Future<Void> f = Future.succeededFuture();
    if (deploymentId != null) {
      f = f.compose(v -> vertx.undeploy(deploymentId)).otherwiseEmpty();
    }
    if (scaler != null) {
      scaler.stop();
    }
    if (sweeper != null) {
      sweeper.stop();
    }
    if (ledgerRefresh >= 0) {
      vertx.cancelTimer(ledgerRefresh);
    }
    if (sharedModels != null) {
      f = f.compose(v -> sharedModels.stop()).otherwiseEmpty();
    }
    if (meter != null) {
      f = f.compose(v -> meter.stop()).otherwiseEmpty();
    }
    if (chainStake != null) {
      f = f.compose(v -> chainStake.stop()).otherwiseEmpty();
    }
    if (settlement != null) {
      f = f.compose(v -> settlement.stop()).otherwiseEmpty();
    }
    if (receipts != null) {
      f = f.compose(v -> receipts.stop()).otherwiseEmpty();
    }
    if (events != null) {
      f = f.compose(v -> events.close()).otherwiseEmpty();
    }
    if (remoteNodes != null) {
      f = f.compose(v -> remoteNodes.stop()).otherwiseEmpty();
    }
    if (supervisor != null) {
      f = f.compose(v -> supervisor.stop()).otherwiseEmpty();
    }
    if (database != null) {
      f = f.compose(v -> database.close()).otherwiseEmpty();
    }
    if (files != null) {
      f = f.compose(v -> files.close()).otherwiseEmpty();
    }
    return f;
  }
}
