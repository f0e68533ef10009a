package io.inferium.loadtest;

import io.inferium.engine.Gateway;
import io.inferium.engine.ServerConfig;
import io.inferium.infra.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real gateway started in this JVM for the benchmark: its own Vert.x, a temporary data directory,
 * the embedded PostgreSQL or a fresh database created on the given server (dropped afterwards),
 * real worker processes. Functions are deployed through the HTTP API, as a user would.
 */
final class BenchmarkServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BenchmarkServer.class);
  static final long READY_TIMEOUT_MS = 120_000;

  private final Vertx vertx;
  private final Gateway gateway;
  private final Path dataDir;
  private final String adminKey;
  private final FreshDatabase db;
  private final WebClient client;

  private BenchmarkServer(Vertx vertx, Gateway gateway, Path dataDir, String adminKey, FreshDatabase db) {
    this.vertx = vertx;
    this.gateway = gateway;
    this.dataDir = dataDir;
    this.adminKey = adminKey;
    this.db = db;
    this.client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"));
  }

  /**
   * @param workers       0 for the server's default
   * @param dbUrl         null for the embedded PostgreSQL
   * @param workerSlots   batches a worker runs at once, 0 for the server's default
   * @param workerThreads ONNX Runtime intra-op threads per run, 0 for the server's default
   */
  static BenchmarkServer start(int workers, String dbUrl, int workerSlots, int workerThreads) throws Exception {
    Path dataDir = Files.createTempDirectory("inferium-bench-");
    String key = "bench-" + UUID.randomUUID();
    FreshDatabase db = dbUrl == null ? null : FreshDatabase.create(dbUrl);
    Metrics metrics = new Metrics();
    Vertx vertx = metrics.newVertx(Gateway.defaultVertxOptions());
    ServerConfig.Builder config = ServerConfig.builder().port(0).dataDir(dataDir).adminKey(key)
        .dbUrl(db == null ? null : db.url());
    if (workers > 0) {
      config.workers(workers);
    }
    if (workerSlots > 0) {
      config.workerSlots(workerSlots);
    }
    if (workerThreads > 0) {
      config.workerThreads(workerThreads);
    }
    try {
      Gateway g = Gateway.start(vertx, metrics, config.build())
          .await(3, TimeUnit.MINUTES);
      log.info("Gateway on {} ({})", g.url(), db == null ? "embedded PostgreSQL" : "database " + db.name);
      return new BenchmarkServer(vertx, g, dataDir, key, db);
    } catch (Exception e) {
      vertx.close().await(30, TimeUnit.SECONDS);
      if (db != null) {
        db.close();
      }
      deleteTree(dataDir);
      throw e;
    }
  }

  String url() {
    return gateway.url();
  }

  int port() {
    return gateway.port();
  }

  String adminKey() {
    return adminKey;
  }

  int workers() {
    return gateway.supervisor().workers().size();
  }

  /** Deploys through {@code POST /api/functions} and waits until the version is {@code ready}. */
  JsonObject deploy(JsonObject spec, Path model) throws Exception {
    return deploy(spec, MultipartForm.create().attribute("spec", spec.encode())
        .binaryFileUpload("model", model.getFileName().toString(), model.toString(), "application/octet-stream"));
  }

  /**
   * Deploys a text function from a directory holding {@code model.onnx}, {@code tokenizer.json} and
   * optionally {@code tokenizer_config.json} and {@code generation_config.json}, each sent as the
   * multipart part of that name.
   */
  JsonObject deployText(JsonObject spec, Path dir) throws Exception {
    MultipartForm form = MultipartForm.create().attribute("spec", spec.encode())
        .binaryFileUpload("model", "model.onnx", dir.resolve("model.onnx").toString(), "application/octet-stream");
    for (String part : List.of("tokenizer", "tokenizer_config", "generation_config")) {
      Path file = dir.resolve(part + ".json");
      if (Files.exists(file)) {
        form.binaryFileUpload(part, part + ".json", file.toString(), "application/json");
      }
    }
    return deploy(spec, form);
  }

  private JsonObject deploy(JsonObject spec, MultipartForm form) throws Exception {
    HttpResponse<Buffer> resp = client.post(gateway.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication(adminKey).sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    if (resp.statusCode() != 202) {
      throw new IllegalStateException("deploy of " + spec.getString("name") + " answered " + resp.statusCode() + ": "
          + resp.bodyAsString());
    }
    JsonObject rec = resp.bodyAsJsonObject();
    String path = "/api/functions/" + rec.getString("name") + "/versions/" + rec.getInteger("version");
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
    while (System.nanoTime() < deadline) {
      JsonObject now = get(path).bodyAsJsonObject();
      String state = now.getString("state");
      if ("ready".equals(state)) {
        return now;
      }
      if (!"verifying".equals(state)) {
        throw new IllegalStateException(path + " is " + state + ": " + now.encode());
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException(path + " still verifying after " + READY_TIMEOUT_MS + " ms");
  }

  HttpResponse<Buffer> get(String path) throws Exception {
    return client.get(gateway.port(), "127.0.0.1", path).bearerTokenAuthentication(adminKey).send()
        .await(30, TimeUnit.SECONDS);
  }

  MetricsSnapshot metrics() throws Exception {
    return MetricsSnapshot.parse(get("/metrics").bodyAsString());
  }

  @Override
  public void close() throws Exception {
    try {
      gateway.stop().await(1, TimeUnit.MINUTES);
      vertx.close().await(30, TimeUnit.SECONDS);
    } finally {
      try {
        if (db != null) {
          db.close();
        }
      } finally {
        deleteTree(dataDir);
      }
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A database of its own on the server at {@code postgresql://user@host:port/db}, dropped on close. */
  private static final class FreshDatabase implements AutoCloseable {
    final String adminJdbc;
    final String user;
    final String name;
    final URI base;

    private FreshDatabase(URI base) throws SQLException {
      this.base = base;
      LoadTarget.requireLoopback(base.getHost());
      String userInfo = base.getUserInfo() == null ? "postgres" : base.getUserInfo();
      this.user = userInfo.contains(":") ? userInfo.substring(0, userInfo.indexOf(':')) : userInfo;
      String adminDb = base.getPath() == null || base.getPath().length() <= 1 ? "postgres" : base.getPath().substring(1);
      this.adminJdbc = "jdbc:postgresql://" + base.getHost() + ":" + (base.getPort() < 0 ? 5432 : base.getPort()) + "/" + adminDb;
      this.name = "inferium_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      exec("CREATE DATABASE " + name);
    }

    static FreshDatabase create(String url) throws SQLException {
      return new FreshDatabase(URI.create(url));
    }

    String url() {
      return base.getScheme() + "://" + base.getRawAuthority() + "/" + name;
    }

    private void exec(String sql) throws SQLException {
      String password = base.getUserInfo() != null && base.getUserInfo().contains(":")
          ? base.getUserInfo().substring(base.getUserInfo().indexOf(':') + 1) : "";
      try (Connection c = DriverManager.getConnection(adminJdbc, user, password); Statement s = c.createStatement()) {
        s.execute(sql);
      }
    }

    @Override
    public void close() throws SQLException {
      exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
  }
}
