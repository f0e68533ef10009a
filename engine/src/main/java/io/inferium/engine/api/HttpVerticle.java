package io.inferium.engine.api;

import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.engine.auth.ApiKeys;
import io.inferium.engine.gateway.WorkerSupervisor;
import io.inferium.engine.completions.Completions;
import io.inferium.scoring.UsageMeter;
import io.inferium.scoring.board.LeaderboardUsers;
import io.inferium.verifier.NodeLedger;
import io.inferium.engine.auth.Tenants;
import io.inferium.engine.auth.Tiers;
import io.inferium.engine.deploy.DeployPipeline;
import io.inferium.engine.gateway.Dispatcher;
import io.inferium.engine.mempool.Mempool;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.ModelBlobs;
import io.inferium.infra.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's HTTP face: {@code /v2} (KServe), {@code /v1} (OpenAI-compatible), {@code /api} (platform), {@code /metrics},
 * and the web console at {@code /}. Health routes, the console's static files and its sign-in are open; {@code /metrics}
 * needs an admin or operator key; everything else needs a bearer key or the console's session cookie.
 */
public final class HttpVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(HttpVerticle.class);

  /** What the routes need from the rest of the gateway. */
  public record Services(Pool pool, FunctionStore store, ModelBlobs blobs, DeployPipeline pipeline, Dispatcher dispatcher,
      Mempool mempool, ApiKeys keys, Tenants tenants, Tiers tiers, NodeLedger ledger, WorkerSupervisor supervisor,
      UsageMeter meter, io.inferium.infra.events.EventLog events, io.inferium.scoring.Invoices invoices, Metrics metrics,
      EngineMetrics engineMetrics, BooleanSupplier workersReady, String version, Text text,
      io.inferium.engine.gateway.RemoteNodes remoteNodes, io.inferium.engine.receipts.ReceiptService receipts,
      io.inferium.engine.settlement.SettlementService settlement) {}

  /** The text side: generations (the mempool for streams), embeddings, log-likelihoods (scoring), and their meters. */
  public record Text(io.inferium.engine.text.Generations generations, io.inferium.engine.text.Embeddings embeddings,
      io.inferium.engine.text.TextMetrics metrics, io.inferium.engine.text.LogLikelihoods logLikelihoods) {}

  /** Listening address, body limits ({@code maxPromptBytes}: see {@link PromptLimits}) and the timeouts that bound slow clients. */
  public record Listen(String host, int port, long maxUploadBytes, long maxRequestBytes, Path uploadsDir,
      HttpTimeouts timeouts, long maxPromptBytes) {}

  private final Services services;
  private final Listen listen;
  private HttpServer server;
  private Router router;
  private LeaderboardUsers leaderboardUsers;
  private volatile boolean draining;
  /** Draining past its delay: new requests are refused. On this verticle's event loop, as is {@link #inFlight}. */
  private boolean refusing;
  private int inFlight;
  /** When a request (health probes aside) last began or ended: the drain closes only after a quiet spell. */
  private long lastActivityNanos = System.nanoTime();

  /**
   * How long a draining server stays quiet (nothing in flight, no request begun or ended, probes aside) before it
   * closes. Without it the close raced the clients whose stream had just ended: their next request, already on
   * its way, found its connection closed unanswered instead of getting its 503 (DrainIT saw 5 of 6).
   */
  static final long DRAIN_QUIET_MS = 250;

  public HttpVerticle(Services services, Listen listen) {
    this.services = services;
    this.listen = listen;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    ConnectionGuard guard = new ConnectionGuard(vertx, listen.timeouts());
    router.route().handler(RequestLog::start);
    router.route().handler(this::track);
    router.route().handler(guard::route);
    router.route().failureHandler(Failures::handle);
    router.errorHandler(404, Failures::handle);
    router.errorHandler(405, Failures::handle);
    io.inferium.engine.auth.ConsoleSessions sessions = new io.inferium.engine.auth.ConsoleSessions(services.pool(),
        services.keys());
    Authentication auth = new Authentication(services.keys(), sessions);
    // The web console: static files at / and /console/*, signed in through /api/session (the rest is the public API).
    io.inferium.engine.console.ConsoleAssets console = new io.inferium.engine.console.ConsoleAssets();
    console.mount(router);
    SessionRoutes sessionRoutes = new SessionRoutes(services.keys(), sessions);
    sessionRoutes.mountSignIn(router);
    OpenApiDocument contract = new OpenApiDocument();
    contract.mount(router);
    // Metrics name functions (private ones too) and describe the whole platform: admins and operators only.
    router.get("/metrics").handler(auth::handle).handler(Authentication::requireOperator).handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(services.metrics().scrape()));
    Limits limits = new Limits(services.tiers(), services.tenants(), services.engineMetrics());
    limits.meter(services.meter());
    // The one downstream channel: every answering route emits its completion event here, once.
    Completions completions = new Completions(vertx, services.events(), services.meter(),
        services.metrics().registry());
    V2Routes v2 = new V2Routes(services.store(), services.mempool(), services.engineMetrics(),
        services.workersReady(), services.version(), limits, completions);
    v2.mountPublic(router, services.pool(), () -> draining);
    router.route("/api/*").handler(auth::handle);
    router.route("/v2/*").handler(auth::handle);
    router.route("/v2").handler(auth::handle);
    router.route("/v1/*").handler(auth::handle);
    sessionRoutes.mount(router);
    v2.mount(router, listen.maxRequestBytes());
    new PredictRoutes(vertx, v2, services.mempool(), services.engineMetrics(), limits, completions, MediaUpload.Bounds.DEFAULT)
        .mount(router, listen.maxRequestBytes(), listen.uploadsDir());
    new FunctionRoutes(vertx, services.store(), services.blobs(), services.pipeline(), services.dispatcher(), limits)
        .mount(router, listen.maxUploadBytes(), listen.uploadsDir());
    new TenantRoutes(services.tenants(), services.keys(), services.tiers(), sessions).mount(router);
    new NodeRoutes(services.ledger(), services.supervisor(), services.remoteNodes()).mount(router);
    new UsageRoutes(services.meter(), services.invoices(), services.settlement()).mount(router);
    new ReceiptRoutes(services.receipts()).mount(router);
    new SettlementRoutes(services.settlement()).mount(router);
    new OpenAiRoutes(services.store(), services.text().generations(), services.text().embeddings(), services.text().metrics(),
        limits, completions).mount(router, listen.maxRequestBytes(),
            new PromptLimits(listen.maxPromptBytes()));
    io.inferium.engine.scoring.ScoringService scoring = new io.inferium.engine.scoring.ScoringService(vertx, services.pool(),
        services.store(), services.mempool(), services.text().generations(), services.text().logLikelihoods(),
        services.text().embeddings());
    router.get("/api/leaderboard/stream").handler(ctx -> {
      ConnectionGuard.whenDone(ctx, limits.stream(Authentication.principal(ctx)));
      ctx.next();
    });
    new ScoringRoutes(scoring, limits, completions).mount(router);
    new ArenaRoutes(vertx, scoring, services.mempool(), services.text(), limits, completions, MediaUpload.Bounds.DEFAULT)
        .mount(router, listen.maxRequestBytes(), new PromptLimits(listen.maxPromptBytes()), listen.uploadsDir());
    scoring.start();
    // A new user of a function can change its category's board: a consumer of completion events tells the streams.
    leaderboardUsers = new LeaderboardUsers(services.pool(), services.events(), services.metrics().registry());
    this.router = router;
    return console.load(vertx).compose(v -> contract.load(vertx)).compose(v -> leaderboardUsers.start(functions -> scoring.changed(null))).compose(v -> vertx.createHttpServer(ConnectionGuard.serverOptions(listen.timeouts()))
        .connectionHandler(guard::connected)
        .requestHandler(req -> {
          guard.request(req);
          router.handle(req);
        })
        .listen(listen.port(), listen.host()))
        .onSuccess(s -> server = s);
  }

  @Override
  public Future<?> stop() {
    return leaderboardUsers == null ? Future.succeededFuture() : leaderboardUsers.stop();
  }

  /**
   * Readiness turns 503 at once while requests are still served; after {@code delayMs} new requests get a 503
   * with {@code Connection: close} and those in flight (token streams included) get up to {@code graceMs} to
   * finish; then, once {@link #DRAIN_QUIET_MS} have passed with nothing in flight, the server closes. Vert.x's own {@code HttpServer.shutdown} is not used: in 5.0 it cut an HTTP/1.1
   * request in flight after about two seconds whatever the timeout. Completes when the server is closed.
   */
  public Future<Void> drain(long delayMs, long graceMs) {
    draining = true;
    Promise<Void> closed = Promise.promise();
    context.runOnContext(v -> vertx.setTimer(Math.max(1, delayMs), t -> {
      refusing = true;
      closeWhenIdle(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMs), closed);
    }));
    return closed.future();
  }

  private void closeWhenIdle(long deadlineNanos, Promise<Void> closed) {
    long now = System.nanoTime();
    boolean quiet = inFlight == 0 && now - lastActivityNanos >= TimeUnit.MILLISECONDS.toNanos(DRAIN_QUIET_MS);
    if (!quiet && now - deadlineNanos < 0) {
      vertx.setTimer(20, t -> closeWhenIdle(deadlineNanos, closed));
      return;
    }
    if (inFlight > 0) {
      log.warn("Drain: {} request(s) still in flight after the grace period; closing their connections", inFlight);
    }
    server.close().onComplete(closed);
  }

  /**
   * Counts the requests in flight (the leaderboard's endless stream aside) and, once draining refuses new work,
   * answers 503 so the client retries elsewhere.
   */
  private void track(RoutingContext ctx) {
    if (refusing) {
      if (!ctx.request().path().startsWith("/v2/health/")) {
        lastActivityNanos = System.nanoTime();
      }
      ctx.response().putHeader("Connection", "close");
      Failures.send(ctx, new ApiError(503, "the server is shutting down; retry on another instance", 1));
      return;
    }
    String path = ctx.request().path();
    if (!LeaderboardStream.PATH.equals(path)) {
      boolean probe = path != null && path.startsWith("/v2/health/");
      if (!probe) {
        lastActivityNanos = System.nanoTime();
      }
      inFlight++;
      ctx.addEndHandler(ar -> {
        inFlight--;
        if (!probe) {
          lastActivityNanos = System.nanoTime();
        }
      });
    }
    ctx.next();
  }

  /** The routes mounted, in order (the OpenAPI contract test compares them with the document). */
  public java.util.List<io.vertx.ext.web.Route> routes() {
    return router == null ? java.util.List.of() : router.getRoutes();
  }

  public int actualPort() {
    return server.actualPort();
  }
}
