package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.inferium.engine.deploy.DeploySettings;
import io.inferium.functions.onnx.StaticCheckConfig;
import io.inferium.infra.Metrics;
import io.inferium.infra.TestDatabase;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real gateway for integration tests: real PostgreSQL (the machine's service or embedded), real
 * worker processes, an HTTP client holding the admin key. Timeouts are shortened so hanging models
 * are judged in seconds.
 */
final class TestGateway implements AutoCloseable {

  static final String ADMIN_KEY = "test-admin-key-0123456789";
  static final long SMOKE_TIMEOUT_MS = 4_000;

  final Vertx vertx;
  final Metrics metrics;
  final TestDatabase db;
  final Path dataDir;
  final ServerConfig config;
  Gateway gateway;
  final WebClient client;

  private TestGateway(Vertx vertx, Metrics metrics, TestDatabase db, Path dataDir, ServerConfig config) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.db = db;
    this.dataDir = dataDir;
    this.config = config;
    // Enough connections that concurrency tests reach the server concurrently (the default pool is 5).
    this.client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(64));
  }

  static TestGateway start(int workers) throws Exception {
    return start(workers, b -> { });
  }

  /** A gateway whose config the test adjusts (scaling bounds, idle times, ...). */
  static TestGateway start(int workers, java.util.function.Consumer<ServerConfig.Builder> tweak) throws Exception {
    Metrics metrics = new Metrics();
    Vertx vertx = metrics.newVertx(Gateway.defaultVertxOptions());
    TestDatabase db = TestDatabase.create();
    Path dataDir = Files.createTempDirectory("inferium-it-");
    ServerConfig.Builder builder = ServerConfig.builder()
        .port(0)
        .dataDir(dataDir)
        .dbUrl(db.url())
        .workers(workers)
        .adminKey(ADMIN_KEY)
        .maxUploadBytes(8L << 20)
        .maxRequestBytes(1L << 20)
        .deploy(new DeploySettings(StaticCheckConfig.defaults(), 30_000, SMOKE_TIMEOUT_MS, 1, 32));
    tweak.accept(builder);
    ServerConfig config = builder.build();
    TestGateway t = new TestGateway(vertx, metrics, db, dataDir, config);
    t.gateway = Gateway.start(vertx, metrics, config).await(2, TimeUnit.MINUTES);
    return t;
  }

  /** Stops the gateway and starts a new one on the same database and data directory. */
  void restart() throws Exception {
    gateway.stop().await(1, TimeUnit.MINUTES);
    gateway = Gateway.start(vertx, metrics, config).await(2, TimeUnit.MINUTES);
  }

  int port() {
    return gateway.port();
  }

  static Path model(String file) {
    return Path.of(System.getProperty("inferium.test.models", "../functions/src/test/resources/models")).resolve(file);
  }

  HttpResponse<Buffer> get(String path) throws Exception {
    return client.get(port(), "127.0.0.1", path).bearerTokenAuthentication(ADMIN_KEY).send().await(30, TimeUnit.SECONDS);
  }

  HttpResponse<Buffer> delete(String path) throws Exception {
    return client.delete(port(), "127.0.0.1", path).bearerTokenAuthentication(ADMIN_KEY).send().await(30, TimeUnit.SECONDS);
  }

  HttpResponse<Buffer> post(String path, String body) throws Exception {
    return client.post(port(), "127.0.0.1", path).bearerTokenAuthentication(ADMIN_KEY)
        .putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer(body)).await(60, TimeUnit.SECONDS);
  }

  /** POSTs a JSON body with {@code key} instead of the admin key. */
  HttpResponse<Buffer> postAs(String key, String path, JsonObject body) throws Exception {
    return client.post(port(), "127.0.0.1", path).bearerTokenAuthentication(key).sendJsonObject(body)
        .await(120, TimeUnit.SECONDS);
  }

  /** A new key of {@code role} for {@code tenant} (created by the admin); returns its secret. */
  String newKey(String tenant, String role) throws Exception {
    HttpResponse<Buffer> resp = post("/api/tenants/" + tenant + "/keys", new JsonObject().put("role", role).encode());
    org.junit.jupiter.api.Assertions.assertEquals(201, resp.statusCode(), resp.bodyAsString());
    return resp.bodyAsJsonObject().getString("secret");
  }

  HttpResponse<Buffer> infer(String function, JsonObject request) throws Exception {
    return post("/v2/models/" + function + "/infer", request.encode());
  }

  /** Uploads a model; returns the 202 body. */
  JsonObject deploy(JsonObject spec, Path model) throws Exception {
    HttpResponse<Buffer> resp = upload(spec.encode(), model);
    assertEquals(202, resp.statusCode(), resp.bodyAsString());
    return resp.bodyAsJsonObject();
  }

  HttpResponse<Buffer> upload(String spec, Path model) throws Exception {
    return uploadAs(ADMIN_KEY, spec, model);
  }

  /** Uploads a model with {@code key} (the function is owned by that key's tenant). */
  HttpResponse<Buffer> uploadAs(String key, String spec, Path model) throws Exception {
    MultipartForm form = MultipartForm.create();
    if (spec != null) {
      form.attribute("spec", spec);
    }
    if (model != null) {
      form.binaryFileUpload("model", model.getFileName().toString(), model.toString(), "application/octet-stream");
    }
    return client.post(port(), "127.0.0.1", "/api/functions").bearerTokenAuthentication(key)
        .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
  }

  /** Deploys and waits (polling with a deadline) until the version leaves {@code verifying}. */
  JsonObject deployAndWait(JsonObject spec, Path model) throws Exception {
    JsonObject rec = deploy(spec, model);
    String path = "/api/functions/" + rec.getString("name") + "/versions/" + rec.getInteger("version");
    return Eventually.value(path + " to leave verifying", java.time.Duration.ofSeconds(90), () -> get(path).bodyAsJsonObject(),
        now -> !"verifying".equals(now.getString("state")));
  }

  /**
   * The node id (derived from its key) of the worker now attached in pool slot {@code slot} ({@code w1},
   * ...): test faults are set per slot, identities are per key.
   */
  String nodeIdOfSlot(String slot) throws Exception {
    return get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> slot.equals(n.getString("slot"))).map(n -> n.getString("node_id")).findFirst()
        .orElseThrow(() -> new AssertionError("no node attached in slot " + slot));
  }

  /** Polls {@code probe} until {@code done} holds, for at most 120 s; returns that value. */
  static <T> T poll(String what, Eventually.Probe<T> probe, java.util.function.Predicate<T> done) {
    return Eventually.value(what, java.time.Duration.ofSeconds(120), probe, done);
  }

  @Override
  public void close() throws Exception {
    try {
      gateway.stop().await(1, TimeUnit.MINUTES);
      vertx.close().await(30, TimeUnit.SECONDS);
    } finally {
      db.close();
    }
  }
}
