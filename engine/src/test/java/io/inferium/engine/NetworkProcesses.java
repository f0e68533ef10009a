package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.gateway.NodeCode;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.infra.KafkaBroker;
import io.inferium.infra.TestDatabase;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The processes of {@link NetworkIT}'s network and how the test talks to them: gateway processes ({@code Main serve}
 * on a shared database and Kafka, each with its own data directory, found by the ports they log) and node processes
 * ({@code NodeMain node}, optionally inside a network namespace), plus the admin's HTTP calls.
 */
final class NetworkProcesses {

  static final String ADMIN_KEY = "network-admin-key-0123456789";
  private static final Pattern READY = Pattern.compile("Inferium ready at http://[^:]+:(\\d+)");
  private static final Pattern NODE_PORT = Pattern.compile("Node port [^ ]+:(\\d+) .*fingerprint ([0-9a-f]{64})");

  /** A gateway process: its HTTP port, its node port and its certificate's fingerprint (what nodes pin). */
  record Gateway(String name, Process process, Path dir, int port, int nodePort, String fingerprint) {}

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  /** Every process started, to be killed at the end. */
  final List<Process> processes = new ArrayList<>();
  /** The node processes, in start order. */
  final List<Process> nodeProcesses = new ArrayList<>();

  Process startGateway(String name, String logName, Path root, TestDatabase db, KafkaBroker kafka) throws Exception {
    Path dir = Files.createDirectories(root.resolve(name));
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss8m", "-Xmx384m",
        "-cp", System.getProperty("java.class.path"), "io.inferium.engine.cli.Main", "serve", "--port", "0",
        "--data-dir", dir.toString(), "--db-url", db.url(), "--shared-db", "--kafka", kafka.bootstrap(), "--workers", "1",
        "--admin-key", ADMIN_KEY, "--node-port", "0", "--node-host", "0.0.0.0", "--node-min-stake", "1000000",
        // Only g1 deploys: g2 keeps no standby sandbox (one JVM less on a small machine).
        "--sandbox-standby", name.equals("g1") ? "1" : "0");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(logName).toFile());
    pb.environment().remove("INFERIUM_DB_URL");
    pb.environment().remove("INFERIUM_KAFKA");
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  static Gateway awaitGateway(String name, String logName, Process p, Path root) throws Exception {
    Path logFile = root.resolve(name).resolve(logName);
    String text = Eventually.value(name + " ready", Duration.ofSeconds(120), () -> {
      if (!p.isAlive()) {
        throw new AssertionError(name + " exited " + p.exitValue() + ": " + Files.readString(logFile));
      }
      return Files.readString(logFile);
    }, t -> READY.matcher(t).find() && NODE_PORT.matcher(t).find());
    Matcher ready = READY.matcher(text);
    Matcher node = NODE_PORT.matcher(text);
    assertTrue(ready.find() && node.find());
    return new Gateway(name, p, root.resolve(name), Integer.parseInt(ready.group(1)), Integer.parseInt(node.group(1)),
        node.group(2));
  }

  /** A node process in {@code slot}, serving every gateway. */
  void startNode(Path dir, NetNamespaces.Slot slot, String operatorKey, List<Gateway> gateways, String fault)
      throws Exception {
    Files.createDirectories(dir);
    Path keyFile = dir.resolve("operator.key");
    Files.writeString(keyFile, operatorKey + "\n", StandardCharsets.UTF_8);
    List<String> cmd = nodeCommand(dir, String.join(",", gateways.stream().map(g -> slot.hostAddress() + ":" + g.nodePort()).toList()),
        String.join(",", gateways.stream().map(Gateway::fingerprint).toList()), keyFile);
    if (fault != null) {
      cmd.addAll(List.of("--test-fault", fault));
    }
    Process p = new ProcessBuilder(slot.wrap(cmd)).redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile())
        .start();
    processes.add(p);
    nodeProcesses.add(p);
  }

  static List<String> nodeCommand(Path dir, String gateways, String pins, Path operatorKey) {
    return new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss8m",
        "-Xmx256m", "-cp", NodeCode.resolve().classPath(), "io.inferium.node.NodeMain", "node", "--gateway", gateways,
        "--gateway-fingerprint", pins, "--operator-key", operatorKey.toString(), "--data-dir", dir.toString(), "--slots", "2",
        "--credits", "4", "--label", dir.getFileName().toString()));
  }

  /** The id of the node of {@code dir}, once its key exists. */
  static String nodeId(Path dir, Process p) {
    return Eventually.value("the key of " + dir, Duration.ofSeconds(60), () -> {
      if (!p.isAlive()) {
        throw new AssertionError(dir + " exited " + p.exitValue() + ": " + Files.readString(dir.resolve("node.log")));
      }
      Path f = dir.resolve("node.key");
      return Files.exists(f) && Files.size(f) > 0 ? NodeKeys.loadOrCreate(f).nodeId() : null;
    }, id -> id != null);
  }

  void deploy(Gateway g, JsonObject spec) throws Exception {
    String boundary = "inferium-" + System.nanoTime();
    byte[] model = Files.readAllBytes(TestGateway.model("add.onnx"));
    var body = new java.io.ByteArrayOutputStream();
    body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n" + spec.encode() + "\r\n--" + boundary
        + "\r\nContent-Disposition: form-data; name=\"model\"; filename=\"add.onnx\"\r\nContent-Type: application/octet-stream"
        + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    body.write(model);
    body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port() + "/api/functions"))
        .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
  }

  HttpResponse<String> send(Gateway g, String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port() + path))
        .header("Authorization", "Bearer " + ADMIN_KEY).timeout(Duration.ofSeconds(30));
    b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
        : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject json(HttpResponse<String> r, int expected) {
    assertEquals(expected, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  JsonObject nodeView(Gateway g, String nodeId) throws Exception {
    return json(send(g, "GET", "/api/nodes", null), 200).getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> nodeId.equals(n.getString("node_id"))).findFirst().orElse(new JsonObject());
  }
}
