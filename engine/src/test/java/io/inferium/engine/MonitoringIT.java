package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Monitoring as code against the real thing: the shipped alert rules pass {@code promtool check rules} and their
 * unit tests, the shipped scrape config passes {@code promtool check config} and a real Prometheus (Debian's
 * package) runs it against a real gateway under traffic, evaluates every alert rule without error, and every query
 * of the shipped Grafana dashboard returns data.
 */
class MonitoringIT {

  private static final Path MONITORING = Path.of(System.getProperty("inferium.monitoring", "../infra/monitoring"));
  private static final String PROMETHEUS = "/usr/bin/prometheus";
  private static final String PROMTOOL = "/usr/bin/promtool";

  @Test
  void prometheusScrapesTheGatewayEvaluatesEveryRuleAndEveryDashboardQueryHasData() throws Exception {
    assertTrue(Files.isExecutable(Path.of(PROMETHEUS)) && Files.isExecutable(Path.of(PROMTOOL)),
        "Prometheus is missing: the build installs Debian's prometheus package (engine/src/test/sh/ensure-test-packages.sh)");
    assertEquals("", run(MONITORING, PROMTOOL, "check", "rules", "alerts.yml"));
    assertEquals("", run(MONITORING, PROMTOOL, "test", "rules", "alerts_test.yml"));

    try (TestGateway gw = TestGateway.start(1)) {
      assertEquals("ready", gw.deployAndWait(new JsonObject().put("name", "adder"), TestGateway.model("add.onnx"))
          .getString("state"));
      assertEquals("ready", OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject()).getString("state"));

      Path dir = Files.createTempDirectory("inferium-prometheus-");
      Files.writeString(dir.resolve("operator.key"), TestGateway.ADMIN_KEY + "\n");
      Files.copy(MONITORING.resolve("alerts.yml"), dir.resolve("alerts.yml"));
      // The shipped config with this test's target, key file and a fast clock; nothing else changed.
      String config = Files.readString(MONITORING.resolve("prometheus.yml"))
          .replace("/etc/prometheus/inferium-operator.key", dir.resolve("operator.key").toString())
          .replace("127.0.0.1:8080", "127.0.0.1:" + gw.port())
          .replace("scrape_interval: 15s", "scrape_interval: 1s")
          .replace("evaluation_interval: 15s", "evaluation_interval: 1s");
      Files.writeString(dir.resolve("prometheus.yml"), config);
      assertEquals("", run(dir, PROMTOOL, "check", "config", "prometheus.yml"));

      int port = freePort();
      Process prometheus = new ProcessBuilder(PROMETHEUS, "--config.file=" + dir.resolve("prometheus.yml"),
          "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
          .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
      AtomicBoolean traffic = new AtomicBoolean(true);
      Thread load = new Thread(() -> traffic(gw, traffic), "monitoring-traffic");
      load.start();
      try {
        Eventually.value("Prometheus to scrape the gateway", Duration.ofSeconds(60),
            () -> query(gw, port, "up{job=\"inferium\"}"), up -> "1".equals(value(up)));
        List<String> exprs = dashboardQueries();
        assertTrue(exprs.size() >= 20, "the dashboard's queries: " + exprs);
        Map<String, String> empty = new TreeMap<>();
        // Rates need a few scrapes of traffic; give every query the same deadline, then name the ones without data.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        do {
          empty.clear();
          for (String expr : exprs) {
            JsonObject answer = query(gw, port, expr.replace("$__rate_interval", "30s"));
            if (!"success".equals(answer.getString("status"))) {
              empty.put(expr, "error: " + answer.encode());
            } else if (!hasNumber(answer)) {
              empty.put(expr, "no data: " + answer.getJsonObject("data").encode());
            }
          }
          if (!empty.isEmpty()) {
            Thread.sleep(1000);
          }
        } while (!empty.isEmpty() && System.nanoTime() < deadline);
        assertEquals(Map.of(), empty, "every dashboard query returns data");

        JsonObject rules = Eventually.value("every alert rule evaluated", Duration.ofSeconds(30),
            () -> get(gw, port, "/api/v1/rules"), r -> rules(r).stream()
                .allMatch(rule -> rule.getString("lastEvaluation", "").compareTo("2000") > 0));
        List<JsonObject> all = rules(rules);
        long shipped = Files.readAllLines(MONITORING.resolve("alerts.yml")).stream()
            .filter(l -> l.strip().startsWith("- alert:")).count();
        assertEquals(13, shipped, "the rules alerts.yml ships");
        assertEquals(shipped, all.size(), rules.encode());
        for (JsonObject rule : all) {
          assertEquals("ok", rule.getString("health"), rule.getString("name") + ": " + rule.encode());
        }
        // The gateway is healthy: nothing fires that is about health (pending is fine for rules with `for`).
        for (JsonObject rule : all) {
          assertTrue(!"firing".equals(rule.getString("state")), rule.getString("name") + " fires: " + rule.encode());
        }
      } finally {
        traffic.set(false);
        load.join(30_000);
        prometheus.destroy();
        prometheus.waitFor(10, TimeUnit.SECONDS);
        prometheus.destroyForcibly();
      }
    }
  }

  /** A tensor request every 100 ms and a short completion every 500 ms, until told to stop. */
  private static void traffic(TestGateway gw, AtomicBoolean on) {
    JsonObject add = new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, 1, 2, 3, 4)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 2, 3, 4))));
    JsonObject completion = new JsonObject().put("model", "tiny-gpt").put("prompt", "Permission is granted")
        .put("max_tokens", 4).put("temperature", 0);
    int i = 0;
    while (on.get()) {
      try {
        assertEquals(200, gw.infer("adder", add).statusCode());
        if (i++ % 5 == 0) {
          assertEquals(200, gw.post("/v1/completions", completion.encode()).statusCode());
        }
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      } catch (Exception | AssertionError e) {
        throw new IllegalStateException("traffic failed", e);
      }
    }
  }

  private static List<String> dashboardQueries() throws IOException {
    JsonObject dashboard = new JsonObject(Files.readString(MONITORING.resolve("grafana/inferium.json")));
    List<String> out = new ArrayList<>();
    for (Object p : dashboard.getJsonArray("panels")) {
      for (Object t : ((JsonObject) p).getJsonArray("targets")) {
        out.add(((JsonObject) t).getString("expr"));
      }
    }
    return out;
  }

  private static List<JsonObject> rules(JsonObject answer) {
    List<JsonObject> out = new ArrayList<>();
    for (Object g : answer.getJsonObject("data").getJsonArray("groups")) {
      for (Object r : ((JsonObject) g).getJsonArray("rules")) {
        out.add((JsonObject) r);
      }
    }
    return out;
  }

  private static boolean hasNumber(JsonObject answer) {
    JsonArray result = answer.getJsonObject("data").getJsonArray("result");
    for (Object r : result) {
      JsonArray v = ((JsonObject) r).getJsonArray("value");
      if (v != null && !"NaN".equals(v.getString(1))) {
        return true;
      }
    }
    return false;
  }

  private static String value(JsonObject answer) {
    JsonArray result = answer.getJsonObject("data").getJsonArray("result");
    return result.isEmpty() ? null : result.getJsonObject(0).getJsonArray("value").getString(1);
  }

  private static JsonObject query(TestGateway gw, int port, String expr) throws Exception {
    return get(gw, port, "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
  }

  private static JsonObject get(TestGateway gw, int port, String path) throws Exception {
    HttpResponse<Buffer> resp = gw.client.get(port, "127.0.0.1", path).send().await(10, TimeUnit.SECONDS);
    return resp.bodyAsJsonObject();
  }

  /** Runs a command in {@code dir}; returns "" on exit 0, else its output (so assertEquals shows it). */
  private static String run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
    return p.exitValue() == 0 ? "" : String.join(" ", command) + " exited " + p.exitValue() + ":\n" + out;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
