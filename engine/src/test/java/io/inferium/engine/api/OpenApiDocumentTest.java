package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.OpenAPIVersion;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document in the jar is a valid OpenAPI 3.1 contract (parsed, resolved and validated against the 3.1
 * meta-schema by Vert.x's OpenAPI library) and keeps the conventions clients rely on. That it matches the routes is
 * {@code OpenApiIT}'s job.
 */
class OpenApiDocumentTest {

  private static final Set<String> PUBLIC = Set.of("GET /openapi.json", "GET /", "HEAD /", "GET /console/{asset}",
      "HEAD /console/{asset}", "GET /v2/health/live", "GET /v2/health/ready", "POST /api/session");
  private static final String BASE = "app:///";
  private static Vertx vertx;
  private static JsonObject doc;

  @BeforeAll
  static void load() throws Exception {
    vertx = Vertx.vertx();
    doc = new JsonObject(OpenApiDocument.read());
  }

  @AfterAll
  static void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void isValidAgainstTheOpenApi31Schema() throws Exception {
    assertEquals(OpenAPIVersion.V3_1, OpenAPIVersion.fromContract(doc));
    SchemaRepository repository = OpenAPIVersion.V3_1.getRepository(vertx, BASE).await(30, TimeUnit.SECONDS);
    OutputUnit result = OpenAPIVersion.V3_1.validateContract(vertx, repository, doc.copy()).await(30, TimeUnit.SECONDS);
    assertTrue(result.getValid(), () -> String.valueOf(result.getErrors()));
  }

  @Test
  void aBrokenDocumentIsRefused() throws Exception {
    // The check above means something only if the same call refuses what is not OpenAPI 3.1.
    JsonObject broken = doc.copy();
    broken.getJsonObject("paths").getJsonObject("/v2").getJsonObject("get").put("responses", "none");
    SchemaRepository repository = OpenAPIVersion.V3_1.getRepository(vertx, BASE).await(30, TimeUnit.SECONDS);
    assertFalse(OpenAPIVersion.V3_1.validateContract(vertx, repository, broken).await(30, TimeUnit.SECONDS).getValid());
  }

  /**
   * Vert.x's contract model resolves every {@code $ref}, matches path templates with their parameters and checks each
   * operation (on {@link OpenApiModel#modelled}: its 5.0 release does not model HTML, event streams or CSV).
   */
  @Test
  void buildsIntoVertxsContractModel() throws Exception {
    JsonObject modelled = OpenApiModel.modelled(doc);
    OpenAPIContract contract = OpenAPIContract.from(vertx, modelled).await(30, TimeUnit.SECONDS);
    assertEquals(OpenAPIVersion.V3_1, contract.getVersion());
    assertEquals(doc.getJsonObject("paths").stream().mapToInt(e -> ((JsonObject) e.getValue()).size()).sum(),
        contract.operations().size());
    assertEquals(2, contract.getSecurityRequirements().size(), "default security: a bearer key or the session cookie");
    assertTrue(contract.findOperation("/v2/models/adder/infer", io.vertx.core.http.HttpMethod.POST) != null);
  }

  @Test
  void operationsHaveUniqueIdsAndDeclareHowTheyAreAuthenticated() {
    Set<String> ids = new HashSet<>();
    List<String> problems = new ArrayList<>();
    JsonObject paths = doc.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        JsonObject op = item.getJsonObject(method);
        String key = method.toUpperCase(java.util.Locale.ROOT) + " " + path;
        if (!ids.add(op.getString("operationId"))) {
          problems.add(key + ": operationId " + op.getString("operationId") + " used twice");
        }
        JsonArray security = op.getJsonArray("security");
        if (security == null) {
          problems.add(key + ": no security requirement");
        } else if (security.isEmpty() != PUBLIC.contains(key)) {
          problems.add(key + (security.isEmpty() ? ": documented as open, but the gateway asks for a key"
              : ": the gateway serves it without a key, the document asks for one"));
        }
        // Changes made through the console's cookie need the CSRF token too.
        if (!method.equals("get") && !method.equals("head") && !PUBLIC.contains(key)
            && !security.stream().map(JsonObject.class::cast).anyMatch(r -> r.containsKey("consoleSession")
                && r.containsKey("csrfToken"))) {
          problems.add(key + ": a change through the session cookie must list csrfToken with it");
        }
        String errorSchema = path.startsWith("/v1/") ? "OpenAiError" : "Error";
        JsonObject responses = op.getJsonObject("responses");
        for (String status : responses.fieldNames()) {
          if (status.startsWith("4") || status.startsWith("5")) {
            String ref = responses.getJsonObject(status).getString("$ref", "");
            String name = ref.substring(ref.lastIndexOf('/') + 1);
            JsonObject response = doc.getJsonObject("components").getJsonObject("responses").getJsonObject(name,
                responses.getJsonObject(status));
            String schema = response.getJsonObject("content", new JsonObject()).getJsonObject("application/json",
                new JsonObject()).getJsonObject("schema", new JsonObject()).getString("$ref", "");
            if (!schema.endsWith("/" + errorSchema) && !(path.equals("/v2/health/ready") && status.equals("503"))) {
              problems.add(key + " " + status + ": an error answers " + errorSchema + ", documented " + schema);
            }
          }
        }
      }
    }
    assertEquals(List.of(), problems);
  }
}
