package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.api.OpenApiDocument;
import io.inferium.engine.api.OpenApiModel;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.ValidatableResponse;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code /openapi.json} against a running gateway: every route the router has is documented, and every documented
 * path and method reaches a handler (with the admin key and placeholder values it may answer 400, 403 or our own
 * 404, never the router's "no such route" 404 or its 405) with a status and error shape the document lists. Then the
 * clients written from it, Python ({@code clients/python}) and JavaScript ({@code clients/js}), pass their own test
 * suites against the same gateway, each as its own process as a user would run it, with a tensor function (the
 * adder), a text-generation and an embedding function deployed through the normal upload path. The gateway and its
 * functions are OpenAiIT's (SharedTextGateway).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.extension.ExtendWith(SharedTextGateway.class)
class OpenApiIT {

  private static final Pattern TEMPLATE = Pattern.compile("\\{([^}]+)}");
  private static final Path CLIENTS = Path.of(System.getProperty("inferium.clients", "../clients")).toAbsolutePath();
  private TestGateway gw;
  private JsonObject doc;
  private Map<String, String> env;
  private OpenAPIContract contract;
  private ResponseValidator validator;

  @BeforeAll
  void start(TestGateway shared) throws Exception {
    gw = shared; // OpenAiIT's gateway and functions (SharedTextGateway), closed at the end of the run
    doc = new JsonObject(OpenApiDocument.read());
    contract = OpenAPIContract.from(gw.vertx, OpenApiModel.modelled(doc)).await(30, TimeUnit.SECONDS);
    validator = ResponseValidator.create(gw.vertx, contract);
    env = Map.of("INFERIUM_URL", "http://127.0.0.1:" + gw.port(), "INFERIUM_KEY", TestGateway.ADMIN_KEY,
        "INFERIUM_TENSOR_MODEL", "adder", "INFERIUM_TEXT_MODEL", "tiny-gpt", "INFERIUM_EMBED_MODEL", "tiny-embed");
  }

  /** "GET /api/functions/{name}" for each documented operation. */
  private Set<String> documented() {
    Set<String> out = new TreeSet<>();
    JsonObject paths = doc.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        out.add(method.toUpperCase(Locale.ROOT) + " " + path);
      }
    }
    return out;
  }

  /** The path template as a pattern: each {param} is one segment. */
  private static Pattern pattern(String template) {
    Matcher m = TEMPLATE.matcher(template);
    StringBuilder re = new StringBuilder();
    int last = 0;
    while (m.find()) {
      re.append(Pattern.quote(template.substring(last, m.start()))).append("[^/]+");
      last = m.end();
    }
    return Pattern.compile(re.append(Pattern.quote(template.substring(last))).toString());
  }

  @Test
  void servesTheDocumentWithoutAKey() throws Exception {
    HttpResponse<Buffer> resp = gw.client.get(gw.port(), "127.0.0.1", OpenApiDocument.PATH).send().await(30, TimeUnit.SECONDS);
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    assertTrue(resp.getHeader("Content-Type").startsWith("application/json"));
    assertEquals(doc, resp.bodyAsJsonObject());
    assertEquals("3.1.0", resp.bodyAsJsonObject().getString("openapi"));
  }

  @Test
  void everyRouteIsDocumented() {
    Set<String> documented = documented();
    List<String> missing = new ArrayList<>();
    int endpoints = 0;
    for (Route route : gw.gateway.http().routes()) {
      Set<HttpMethod> methods = route.methods();
      // Routes for every method are the shared handlers (authentication, connection guard, failures), not endpoints.
      if (route.getPath() == null || methods == null || methods.isEmpty()) {
        continue;
      }
      // A router path as a concrete request path: ":name" and a trailing "*" become one placeholder segment.
      String concrete = route.getPath().replaceAll(":[A-Za-z]+", "x") + (route.isExactPath() ? "" : "x");
      for (HttpMethod m : methods) {
        endpoints++;
        boolean found = documented.stream().anyMatch(op -> op.startsWith(m.name() + " ")
            && pattern(op.substring(op.indexOf(' ') + 1)).matcher(concrete).matches());
        if (!found) {
          missing.add(m.name() + " " + route.getPath());
        }
      }
    }
    assertTrue(endpoints >= 60, "routes seen: " + endpoints);
    assertEquals(List.of(), missing, "routes the router has that /openapi.json does not document");
  }

  @Test
  void everyDocumentedRouteAnswers() throws Exception {
    List<String> unrouted = new ArrayList<>();
    List<String> undocumented = new ArrayList<>();
    for (String op : documented()) {
      String method = op.substring(0, op.indexOf(' '));
      // Placeholders only: no query parameters, so the leaderboard's endless stream answers 400 for want of a category.
      String path = TEMPLATE.matcher(op.substring(op.indexOf(' ') + 1)).replaceAll(m -> m.group(1).equals("version") ? "1"
          : m.group(1).equals("asset") ? "no-such-file.js" : "openapi-probe");
      HttpRequest<Buffer> req = gw.client.request(HttpMethod.valueOf(method), gw.port(), "127.0.0.1", path)
          .bearerTokenAuthentication(TestGateway.ADMIN_KEY);
      HttpResponse<Buffer> resp = method.equals("GET") || method.equals("HEAD") || method.equals("DELETE")
          ? req.send().await(30, TimeUnit.SECONDS)
          : req.putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer("{}")).await(30, TimeUnit.SECONDS);
      String body = resp.bodyAsString();
      boolean routerAnswer = resp.statusCode() == 405 || resp.statusCode() == 501
          || resp.statusCode() == 404 && body != null && body.contains("\"no such route\"");
      if (routerAnswer || resp.statusCode() >= 500) {
        unrouted.add(op + " -> " + resp.statusCode() + " " + body);
        continue;
      }
      // The answer is one the document lists for the operation, errors in the shape it promises.
      JsonObject responses = doc.getJsonObject("paths").getJsonObject(op.substring(op.indexOf(' ') + 1))
          .getJsonObject(method.toLowerCase(Locale.ROOT)).getJsonObject("responses");
      if (!responses.containsKey(Integer.toString(resp.statusCode()))) {
        undocumented.add(op + " -> " + resp.statusCode() + " " + body);
      }
      String mismatch = mismatch(method, path, resp);
      if (mismatch != null) {
        undocumented.add(op + " -> " + mismatch);
      }
      if (resp.statusCode() >= 400 && !method.equals("HEAD")) {
        Object error = resp.bodyAsJsonObject().getValue("error");
        if (!(path.startsWith("/v1/") ? error instanceof JsonObject o && o.getValue("message") instanceof String
            : error instanceof String)) {
          undocumented.add(op + " -> an error body not in the documented shape: " + body);
        }
      }
    }
    assertEquals(List.of(), unrouted, "documented routes that no handler answers");
    assertEquals(List.of(), undocumented, "answers the document does not describe");
  }

  /**
   * Why a JSON answer does not match the schema the document gives its operation and status (Vert.x's response
   * validator on the modelled document), or null when it matches or is not JSON.
   */
  private String mismatch(String method, String path, HttpResponse<Buffer> resp) {
    String type = resp.getHeader("Content-Type");
    if (type == null || !type.startsWith("application/json") || method.equals("HEAD")) {
      return null;
    }
    Operation operation = contract.findOperation(path, HttpMethod.valueOf(method));
    if (operation == null) {
      return "no documented operation for " + method + " " + path;
    }
    try {
      validator.validate(ValidatableResponse.create(resp.statusCode(), resp.body(), "application/json"),
          operation.getOperationId()).await(30, TimeUnit.SECONDS);
      return null;
    } catch (Exception e) {
      StringBuilder why = new StringBuilder(resp.statusCode() + " does not match " + operation.getOperationId() + ":");
      for (Throwable t = e; t != null; t = t.getCause()) {
        why.append(' ').append(t.getMessage());
      }
      return why + " in " + resp.bodyAsString();
    }
  }

  /** Real calls with real arguments: each answer (a success) matches its documented schema. */
  @Test
  void mainAnswersMatchTheirSchemas() throws Exception {
    JsonObject tensors = new JsonObject().put("inputs", new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("name", "a").put("datatype", "FP32").put("shape", new io.vertx.core.json.JsonArray().add(1).add(4))
            .put("data", new io.vertx.core.json.JsonArray().add(1).add(2).add(3).add(4)))
        .add(new JsonObject().put("name", "b").put("datatype", "FP32").put("shape", new io.vertx.core.json.JsonArray().add(1).add(4))
            .put("data", new io.vertx.core.json.JsonArray().add(4).add(3).add(2).add(1))));
    HttpResponse<Buffer> inferred = gw.post("/v2/models/adder/infer", tensors.encode());
    String requestId = inferred.getHeader("X-Inferium-Request-Id");
    String operator = gw.post("/api/operator-keys", new JsonObject().put("name", "openapi-op").encode()).bodyAsJsonObject()
        .getString("id");
    List<Object[]> calls = List.of(
        new Object[] {"GET", "/api/functions", null}, new Object[] {"GET", "/api/functions/adder", null},
        new Object[] {"GET", "/api/functions/tiny-gpt/versions/1", null}, new Object[] {"GET", "/v2", null},
        new Object[] {"GET", "/v2/health/live", null}, new Object[] {"GET", "/v2/health/ready", null},
        new Object[] {"GET", "/v2/models/adder", null}, new Object[] {"GET", "/v2/models/adder/versions/1/ready", null},
        new Object[] {"POST", "/v2/models/adder/infer", tensors}, new Object[] {"GET", "/v1/models", null},
        new Object[] {"GET", "/v1/models/tiny-gpt", null},
        new Object[] {"POST", "/v1/completions", new JsonObject().put("model", "tiny-gpt").put("prompt", "The").put("max_tokens", 3)},
        new Object[] {"POST", "/v1/chat/completions", new JsonObject().put("model", "tiny-gpt").put("max_tokens", 3)
            .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi")))},
        new Object[] {"POST", "/v1/embeddings", new JsonObject().put("model", "tiny-embed").put("input", "one")},
        new Object[] {"POST", "/v1/embeddings", new JsonObject().put("model", "tiny-embed").put("input", "one")
            .put("encoding_format", "base64")},
        new Object[] {"GET", "/api/usage?group_by=day", null}, new Object[] {"GET", "/api/tiers", null},
        new Object[] {"GET", "/api/tenants", null}, new Object[] {"GET", "/api/nodes", null},
        new Object[] {"GET", "/api/session", null}, new Object[] {"GET", "/api/leaderboard?category=text", null},
        new Object[] {"GET", "/api/datasets", null}, new Object[] {"GET", "/api/contests", null},
        new Object[] {"POST", "/api/tenants", new JsonObject().put("id", "openapi-tenant")},
        new Object[] {"GET", "/api/tenants/openapi-tenant", null},
        new Object[] {"POST", "/api/tenants/openapi-tenant/keys", new JsonObject().put("role", "user")},
        new Object[] {"GET", "/api/tenants/openapi-tenant/keys", null},
        new Object[] {"GET", "/api/invoices?tenant=openapi-tenant", null},
        new Object[] {"GET", "/api/earnings?developer=openapi-tenant", null},
        new Object[] {"GET", "/api/earnings?operator=" + operator, null});
    List<String> problems = new ArrayList<>();
    for (Object[] call : calls) {
      String path = (String) call[1];
      HttpResponse<Buffer> resp = call[2] == null ? gw.get(path) : gw.post(path, ((JsonObject) call[2]).encode());
      String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
      String why = resp.statusCode() >= 300 ? resp.statusCode() + " " + resp.bodyAsString()
          : mismatch((String) call[0], bare, resp);
      if (why != null) {
        problems.add(call[0] + " " + path + " -> " + why);
      }
    }
    JsonObject receipt = TestGateway.poll("the receipt of " + requestId, () -> gw.get("/api/receipts/" + requestId),
        r -> r.statusCode() == 200).bodyAsJsonObject();
    String receiptMismatch = mismatch("GET", "/api/receipts/" + requestId, gw.get("/api/receipts/" + requestId));
    if (receiptMismatch != null) {
      problems.add("GET /api/receipts -> " + receiptMismatch);
    }
    assertEquals(requestId, receipt.getString("request_id"));
    assertEquals(List.of(), problems, "answers that do not match their documented schema");
  }

  /** Runs a command in {@code dir}; returns its output (stdout and stderr together), failing on a non-zero exit. */
  private String run(Path dir, String... command) throws Exception {
    Path out = Files.createTempFile("client-", ".out");
    try {
      ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(out.toFile());
      pb.environment().putAll(env);
      // No bytecode files left in the source tree.
      pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
      Process p = pb.start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " did not finish in 120 s: " + Files.readString(out));
      }
      String output = Files.readString(out, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + output);
      return output;
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private static int count(String output, String regex) {
    Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(output);
    assertTrue(m.find(), "no /" + regex + "/ in:\n" + output);
    return Integer.parseInt(m.group(1));
  }

  @Test
  void pythonClientPassesItsTests() throws Exception {
    String output = run(CLIENTS.resolve("python"), "python3", "-m", "unittest", "discover", "-s", "tests", "-v");
    assertTrue(count(output, "^Ran (\\d+) tests?") >= 9, output);
    assertTrue(output.strip().endsWith("OK"), "every test ran (none skipped) and passed:\n" + output);
  }

  @Test
  void javascriptClientPassesItsTests() throws Exception {
    String output = run(CLIENTS.resolve("js"), "node", "--test");
    assertTrue(count(output, "^# pass (\\d+)") >= 9, output);
    assertEquals(0, count(output, "^# fail (\\d+)"), output);
    assertEquals(0, count(output, "^# skipped (\\d+)"), output);
  }
}
