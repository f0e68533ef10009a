package io.inferium.engine;

import io.inferium.engine.deploy.DeploySettings;
import io.inferium.engine.gateway.SupervisorSettings;
import io.inferium.functions.runtime.ExecutionDevice;
import java.nio.file.Path;

/**
 * Everything {@code inferium serve} can be told, with its defaults in one place. The CLI fills it
 * from flags and {@code INFERIUM_*} environment variables.
 *
 * @param dbUrl    null for the embedded PostgreSQL under {@code dataDir/pg}
 * @param adminKey null to read or generate {@code dataDir/admin.key}
 * @param deploy   limits of deploy-time verification
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
    long heartbeatMs,
    DeploySettings deploy) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8080;
  public static final String DEFAULT_DATA_DIR = ".inferium";
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 512L << 20;
  public static final long DEFAULT_MAX_REQUEST_BYTES = 64L << 20;

  public static ServerConfig defaults() {
    return new ServerConfig(DEFAULT_HOST, DEFAULT_PORT, Path.of(DEFAULT_DATA_DIR), null,
        SupervisorSettings.defaultWorkers(), null, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_REQUEST_BYTES,
        ExecutionDevice.AUTO, 2, 1, 1000, DeploySettings.defaults());
  }

  public ServerConfig withPort(int p) {
    return new ServerConfig(host, p, dataDir, dbUrl, workers, adminKey, maxUploadBytes, maxRequestBytes, device,
        workerSlots, workerThreads, heartbeatMs, deploy);
  }

  public ServerConfig withDataDir(Path d) {
    return new ServerConfig(host, port, d, dbUrl, workers, adminKey, maxUploadBytes, maxRequestBytes, device,
        workerSlots, workerThreads, heartbeatMs, deploy);
  }

  public ServerConfig withDbUrl(String url) {
    return new ServerConfig(host, port, dataDir, url, workers, adminKey, maxUploadBytes, maxRequestBytes, device,
        workerSlots, workerThreads, heartbeatMs, deploy);
  }

  public ServerConfig withWorkers(int n) {
    return new ServerConfig(host, port, dataDir, dbUrl, n, adminKey, maxUploadBytes, maxRequestBytes, device,
        workerSlots, workerThreads, heartbeatMs, deploy);
  }

  public ServerConfig withLimits(long upload, long request) {
    return new ServerConfig(host, port, dataDir, dbUrl, workers, adminKey, upload, request, device,
        workerSlots, workerThreads, heartbeatMs, deploy);
  }

  public ServerConfig withAdminKey(String key) {
    return new ServerConfig(host, port, dataDir, dbUrl, workers, key, maxUploadBytes, maxRequestBytes, device,
        workerSlots, workerThreads, heartbeatMs, deploy);
  }

  public ServerConfig withDeploy(DeploySettings d) {
    return new ServerConfig(host, port, dataDir, dbUrl, workers, adminKey, maxUploadBytes, maxRequestBytes, device,
        workerSlots, workerThreads, heartbeatMs, d);
  }

  SupervisorSettings supervisorSettings() {
    return new SupervisorSettings(workers, dataDir.resolve("logs"), device, workerSlots, workerThreads,
        SupervisorSettings.DEFAULT_MAX_OUTSTANDING, heartbeatMs, SupervisorSettings.DEFAULT_HEARTBEAT_MISSES,
        SupervisorSettings.DEFAULT_ATTACH_TIMEOUT_MS, SupervisorSettings.DEFAULT_JVM_OPTIONS,
        SupervisorSettings.DEFAULT_CANCEL_GRACE_MS);
  }
}
