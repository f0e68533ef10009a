package io.inferium.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * The shipped ways to run Inferium (infra/deploy: systemd unit, Dockerfile, Kubernetes manifests) stay true to the
 * code: every command line parses with today's options, probes hit the health routes, and each stop timeout leaves
 * room for the drain it configures. They are not run here (no Docker engine or cluster on our machines).
 */
class DeployFilesTest {

  private static final Path DEPLOY = Path.of("../infra/deploy");
  private static final Set<String> HEALTH = Set.of("/v2/health/live", "/v2/health/ready");

  /** Parses a gateway command line (after the jar) with the real CLI and returns the serve options' drain. */
  private static ServerOptions serve(List<String> args) {
    CommandLine cli = new CommandLine(new Main());
    CommandLine.ParseResult parsed = cli.parseArgs(args.toArray(String[]::new));
    assertTrue(parsed.hasSubcommand(), "a subcommand in " + args);
    assertEquals("serve", parsed.subcommand().commandSpec().name(), args.toString());
    return ((ServeCommand) parsed.subcommand().commandSpec().userObject()).options;
  }

  private static long drainMs(ServerOptions options) {
    return options.drain().delayMs() + options.drain().graceMs();
  }

  @Test
  void systemdUnitParsesAndWaitsForTheDrain() throws Exception {
    List<String> lines = Files.readAllLines(DEPLOY.resolve("systemd/inferium.service"));
    String exec = lines.stream().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
    List<String> words = Arrays.asList(exec.substring("ExecStart=".length()).split(" "));
    ServerOptions options = serve(words.subList(words.indexOf("-jar") + 2, words.size()));
    long stopS = Long.parseLong(value(lines, "TimeoutStopSec="));
    assertTrue(stopS * 1000 >= drainMs(options) + 10_000, "TimeoutStopSec " + stopS + " s vs a drain of " + drainMs(options));
    // Only the gateway gets SIGTERM: the workers must keep running until it has drained.
    assertEquals("mixed", value(lines, "KillMode="));
  }

  @Test
  void dockerfileCommandParses() throws Exception {
    List<String> lines = Files.readAllLines(DEPLOY.resolve("Dockerfile"));
    String cmd = lines.stream().filter(l -> l.startsWith("CMD ")).findFirst().orElseThrow();
    List<String> args = new ArrayList<>();
    new JsonArray(cmd.substring(4)).forEach(a -> args.add((String) a));
    assertTrue(drainMs(serve(args)) > 0);
    String entry = lines.stream().filter(l -> l.startsWith("ENTRYPOINT ")).findFirst().orElseThrow();
    assertTrue(entry.contains("\"-Xss8m\""), "ONNX Runtime needs the larger stack: " + entry);
  }

  @Test
  @SuppressWarnings("unchecked")
  void kubernetesGatewayParsesProbesHitHealthAndGraceCoversTheDrain() throws Exception {
    Map<String, Object> pod = podSpec(document(DEPLOY.resolve("kubernetes/gateway.yaml"), "Deployment"));
    Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).get(0);
    ServerOptions options = serve((List<String>) container.get("args"));
    long graceS = ((Number) pod.get("terminationGracePeriodSeconds")).longValue();
    assertTrue(graceS * 1000 >= drainMs(options) + 10_000, "grace " + graceS + " s vs a drain of " + drainMs(options));
    for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
      Map<String, Object> get = (Map<String, Object>) ((Map<String, Object>) container.get(probe)).get("httpGet");
      assertTrue(HEALTH.contains((String) get.get("path")), probe + ": " + get);
    }
    assertNotNull(document(DEPLOY.resolve("kubernetes/gateway.yaml"), "PodDisruptionBudget"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void kubernetesNodesParseWithTheNodeCommand() throws Exception {
    Map<String, Object> pod = podSpec(document(DEPLOY.resolve("kubernetes/nodes.yaml"), "DaemonSet"));
    Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).get(0);
    List<String> args = (List<String>) container.get("args");
    CommandLine.ParseResult parsed = new CommandLine(io.inferium.node.NodeMain.class).parseArgs(args.toArray(String[]::new));
    assertEquals("node", parsed.subcommand().commandSpec().name());
  }

  /** spec.template.spec of a workload (Deployment, DaemonSet). */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> podSpec(Map<String, Object> workload) {
    Map<String, Object> template = (Map<String, Object>) ((Map<String, Object>) workload.get("spec")).get("template");
    return (Map<String, Object>) template.get("spec");
  }

  private static String value(List<String> lines, String key) {
    return lines.stream().filter(l -> l.startsWith(key)).map(l -> l.substring(key.length()).strip()).findFirst()
        .orElseThrow(() -> new AssertionError("no " + key));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> document(Path file, String kind) throws Exception {
    for (Object doc : new Yaml().loadAll(Files.readString(file))) {
      if (doc instanceof Map<?, ?> m && kind.equals(m.get("kind"))) {
        return (Map<String, Object>) m;
      }
    }
    throw new AssertionError("no " + kind + " in " + file);
  }
}
