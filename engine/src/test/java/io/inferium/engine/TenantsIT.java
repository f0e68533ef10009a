package io.inferium.engine;

import static io.inferium.engine.GatewayIT.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensors;
import io.inferium.functions.tensor.V2Json;
import io.inferium.infra.testing.Eventually;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Two tenants on different tiers, seen from both sides: isolation, roles, keys and limits. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantsIT {

  private TestGateway gw;
  private String acmeDev;
  private String acmeUser;
  private String globexDev;

  @BeforeAll
  void start() throws Exception {
    Path tiers = Files.createTempFile("tiers-", ".json");
    Files.writeString(tiers, """
        {"default_tier": "free",
         "tiers": {
           "free": {"requests_per_minute": 5, "monthly_included_micro_usd": 1000000, "gpu_access": false,
                    "max_concurrent_generations": 1, "storage_bytes": 600, "max_redundancy": 1},
           "pro":  {"requests_per_minute": 1000, "monthly_included_micro_usd": null, "gpu_access": true,
                    "max_concurrent_generations": 8, "storage_bytes": 10000000},
           "trial": {"requests_per_minute": 1000, "monthly_included_micro_usd": 30, "hard_quota": true,
                    "max_concurrent_generations": 1, "storage_bytes": 10000000}},
         "upgrade_order": ["trial", "free", "pro"]}""");
    gw = TestGateway.start(1, b -> b.tiersFile(tiers));
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"acme\",\"name\":\"Acme\",\"tier\":\"free\"}").statusCode());
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"globex\",\"tier\":\"pro\"}").statusCode());
    acmeDev = key("acme", "developer");
    acmeUser = key("acme", "user");
    globexDev = key("globex", "developer");
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private String key(String tenant, String role) throws Exception {
    return gw.newKey(tenant, role);
  }

  private HttpResponse<Buffer> get(String key, String path) throws Exception {
    return gw.client.get(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).send().await(30, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> post(String key, String path, JsonObject body) throws Exception {
    return gw.postAs(key, path, body);
  }

  private HttpResponse<Buffer> put(String key, String path, JsonObject body) throws Exception {
    return gw.client.put(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).sendJsonObject(body)
        .await(30, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> delete(String key, String path) throws Exception {
    return gw.client.delete(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).send().await(30, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> deploy(String key, JsonObject spec, String model) throws Exception {
    Path file = TestGateway.model(model);
    MultipartForm form = MultipartForm.create().attribute("spec", spec.encode())
        .binaryFileUpload("model", file.getFileName().toString(), file.toString(), "application/octet-stream");
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions").bearerTokenAuthentication(key)
        .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
  }

  private JsonObject awaitReady(String key, String name) throws Exception {
    return Eventually.value(name + " to leave verifying", Duration.ofSeconds(60),
        () -> get(key, "/api/functions/" + name).bodyAsJsonObject(), rec -> !"verifying".equals(rec.getString("state")));
  }

  private static JsonObject addRequest() {
    return new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("a", new long[] {1, 4}, 1, 2, 3, 4)))
        .add(V2Json.encodeOutput(Tensors.fp32("b", new long[] {1, 4}, 1, 1, 1, 1))));
  }

  private static List<String> names(HttpResponse<Buffer> resp) {
    return resp.bodyAsJsonObject().getJsonArray("functions").stream().map(o -> ((JsonObject) o).getString("name")).toList();
  }

  @Test
  void aPrivateFunctionIsInvisibleToOtherTenantsAndRolesAreEnforced() throws Exception {
    assertEquals(202, deploy(acmeDev, new JsonObject().put("name", "acme-private").put("visibility", "private"),
        "add.onnx").statusCode());
    assertEquals("ready", awaitReady(acmeDev, "acme-private").getString("state"));
    assertEquals("acme", get(acmeDev, "/api/functions/acme-private").bodyAsJsonObject().getString("owner"));

    // The other tenant cannot tell it exists.
    assertError(get(globexDev, "/api/functions/acme-private"), 404, "no function named 'acme-private'");
    assertError(get(globexDev, "/v2/models/acme-private"), 404, "unknown model 'acme-private'");
    assertError(post(globexDev, "/v2/models/acme-private/infer", addRequest()), 404, "unknown model");
    assertError(delete(globexDev, "/api/functions/acme-private"), 404, "no function named");
    assertFalse(names(get(globexDev, "/api/functions")).contains("acme-private"));

    // Its own tenant can, each role within its rights.
    assertTrue(names(get(acmeUser, "/api/functions")).contains("acme-private"));
    assertEquals(200, post(acmeUser, "/v2/models/acme-private/infer", addRequest()).statusCode());
    assertError(deploy(acmeUser, new JsonObject().put("name", "by-a-user"), "add.onnx"), 403, "user key may not deploy");
    assertError(delete(acmeUser, "/api/functions/acme-private"), 403, "user key may not delete");
    assertTrue(names(gw.get("/api/functions")).contains("acme-private"), "the admin sees everything");
  }

  @Test
  void aPublicFunctionIsSharedButStillBelongsToItsOwner() throws Exception {
    assertEquals(202, deploy(globexDev, new JsonObject().put("name", "globex-public"), "fixed_shape.onnx").statusCode());
    assertEquals("ready", awaitReady(globexDev, "globex-public").getString("state"));
    JsonObject x = new JsonObject().put("inputs", new JsonArray()
        .add(V2Json.encodeOutput(Tensors.fp32("x", new long[] {2, 3}, 1, 2, 3, 4, 5, 6))));
    assertEquals(200, post(acmeUser, "/v2/models/globex-public/infer", x).statusCode());
    assertError(delete(acmeDev, "/api/functions/globex-public"), 403, "belongs to another tenant");
    assertError(deploy(acmeDev, new JsonObject().put("name", "globex-public"), "add.onnx"), 409, "taken by another tenant");
  }

  @Test
  void tenantsAndTheirKeysAreOnlyVisibleToThemselvesAndAdmins() throws Exception {
    assertError(get(acmeDev, "/api/tenants"), 403, "only an admin");
    assertError(get(globexDev, "/api/tenants/acme"), 404, "no tenant 'acme'");
    JsonObject acme = get(acmeUser, "/api/tenants/acme").bodyAsJsonObject();
    assertEquals("free", acme.getString("tier"));
    assertEquals(5, acme.getJsonObject("limits").getInteger("requests_per_minute"));
    assertError(get(globexDev, "/api/tenants/acme/keys"), 404, "no tenant 'acme'");
    assertError(get(acmeUser, "/api/tenants/acme/keys"), 403, "user key may not manage keys");
    JsonArray keys = get(acmeDev, "/api/tenants/acme/keys").bodyAsJsonObject().getJsonArray("keys");
    assertTrue(keys.size() >= 2);
    assertTrue(keys.stream().noneMatch(k -> ((JsonObject) k).containsKey("secret")), "secrets are shown once only");
    assertError(gw.post("/api/tenants", "{\"id\":\"acme\"}"), 409, "already exists");
    assertError(gw.post("/api/tenants", "{\"id\":\"Bad Id\"}"), 400, "field 'id'");
    assertError(gw.post("/api/tenants", "{\"id\":\"initech\",\"tier\":\"gold\"}"), 400, "expected one of free, pro");
  }

  @Test
  void aRevokedKeyStopsAtOnceAndAnExpiredOneStopsOnTime() throws Exception {
    HttpResponse<Buffer> created = gw.post("/api/tenants/globex/keys", new JsonObject().put("role", "user").encode());
    String secret = created.bodyAsJsonObject().getString("secret");
    String id = created.bodyAsJsonObject().getString("id");
    assertEquals(200, get(secret, "/api/functions").statusCode());
    assertEquals(200, delete(globexDev, "/api/tenants/globex/keys/" + id).statusCode());
    assertError(get(secret, "/api/functions"), 401, "invalid, revoked or expired");

    String soon = OffsetDateTime.now().plusSeconds(2).toString();
    String expiring = gw.post("/api/tenants/globex/keys", new JsonObject().put("role", "user").put("expires_at", soon).encode())
        .bodyAsJsonObject().getString("secret");
    assertEquals(200, get(expiring, "/api/functions").statusCode());
    Eventually.value("the key to expire", Duration.ofSeconds(15), () -> get(expiring, "/api/functions").statusCode(),
        status -> status != 200);
    assertError(get(expiring, "/api/functions"), 401, "invalid, revoked or expired");
    assertError(gw.post("/api/tenants/globex/keys", "{\"role\":\"admin\"}"), 400, "field 'role'");
    assertError(gw.post("/api/tenants/globex/keys", "{\"expires_at\":\"tomorrow\"}"), 400, "RFC 3339");
  }

  @Test
  void exampleInputsCountTowardTheStorageQuota() throws Exception {
    // A tiny model under the quota (203 of 600 bytes) cannot carry free kilobytes of examples in its spec.
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"initech\",\"tier\":\"free\"}").statusCode());
    String dev = key("initech", "developer");
    JsonArray examples = new JsonArray();
    for (int i = 0; i < 8; i++) {
      examples.add(new JsonObject().put("inputs", new JsonArray()
          .add(new JsonObject().put("name", "a").put("datatype", "FP32").put("shape", new JsonArray().add(1).add(4))
              .put("data", new JsonArray().add(i + 0.125).add(i + 0.25).add(i + 0.375).add(i + 0.5)))
          .add(new JsonObject().put("name", "b").put("datatype", "FP32").put("shape", new JsonArray().add(1).add(4))
              .put("data", new JsonArray().add(1).add(2).add(3).add(4)))));
    }
    HttpResponse<Buffer> over = deploy(dev, new JsonObject().put("name", "initech-add").put("examples", examples), "add.onnx");
    assertError(over, 402, "model storage quota of tier free exceeded");
    assertTrue(over.bodyAsJsonObject().getString("error").contains("example inputs"), over.bodyAsString());
    // Without them the same model fits.
    assertEquals(202, deploy(dev, new JsonObject().put("name", "initech-add"), "add.onnx").statusCode());
    awaitReady(dev, "initech-add");
  }

  @Test
  void theFreeTierIsThrottledAndStoppedAtItsStorageQuota() throws Exception {
    // A tenant of its own, so no other test spends its budget.
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"hooli\",\"tier\":\"free\"}").statusCode());
    String dev = key("hooli", "developer");
    String user = key("hooli", "user");
    assertEquals(202, deploy(dev, new JsonObject().put("name", "hooli-small"), "add.onnx").statusCode());
    awaitReady(dev, "hooli-small");
    // 203 bytes (add) + 676 (iris) > the test tier's 600.
    HttpResponse<Buffer> over = deploy(dev, new JsonObject().put("name", "hooli-big"),
        "../../../../../engine/src/main/resources/demo/iris.onnx");
    assertError(over, 402, "model storage quota of tier free exceeded");
    assertTrue(over.bodyAsJsonObject().getString("error").contains("tier pro allows"), over.bodyAsString());

    int ok = 0;
    HttpResponse<Buffer> limited = null;
    for (int i = 0; i < 12 && limited == null; i++) {
      HttpResponse<Buffer> resp = post(user, "/v2/models/hooli-small/infer", addRequest());
      if (resp.statusCode() == 429) {
        limited = resp;
      } else {
        assertEquals(200, resp.statusCode(), resp.bodyAsString());
        ok++;
      }
    }
    assertTrue(limited != null, "never throttled");
    assertTrue(ok <= 5, ok + " requests passed a 5/minute limit");
    assertTrue(Integer.parseInt(limited.getHeader("Retry-After")) >= 1);
    assertTrue(limited.bodyAsJsonObject().getString("error").contains("rate limit of tier free reached (5 requests/minute)"));
    assertTrue(limited.bodyAsJsonObject().getString("error").contains("tier pro allows 1000/minute"));
    assertEquals(200, post(globexDev, "/v2/models/hooli-small/infer", addRequest()).statusCode(),
        "another tenant calling the same public function is not throttled");
    assertTrue(gw.metrics.scrape().contains("inferium_limit_rejections_total{limit=\"rate\",tier=\"free\"}"));

    // Only an admin moves a tenant to another tier; the tenant's cached key takes it at once: the next call passes.
    assertError(put(dev, "/api/tenants/hooli", new JsonObject().put("tier", "pro")), 403, "only an admin");
    assertError(put(TestGateway.ADMIN_KEY, "/api/tenants/hooli", new JsonObject().put("tier", "gold")), 400,
        "field 'tier': expected one of free, pro");
    assertError(put(TestGateway.ADMIN_KEY, "/api/tenants/hooli", new JsonObject().put("tier", "pro").put("name", "x")),
        400, "field 'name': only 'tier' can be changed");
    assertError(put(TestGateway.ADMIN_KEY, "/api/tenants/nobody", new JsonObject().put("tier", "pro")), 404, "no tenant 'nobody'");
    HttpResponse<Buffer> moved = put(TestGateway.ADMIN_KEY, "/api/tenants/hooli", new JsonObject().put("tier", "pro"));
    assertEquals(200, moved.statusCode(), moved.bodyAsString());
    assertEquals("pro", moved.bodyAsJsonObject().getString("tier"));
    assertEquals(200, post(user, "/v2/models/hooli-small/infer", addRequest()).statusCode(), "pro's rate, at once");
  }

  @Test
  void aRequestCannotAskForMoreRedundancyThanItsTierAllows() throws Exception {
    JsonObject asked = addRequest().put("parameters", new JsonObject()
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 2)));
    assertEquals(202, deploy(globexDev, new JsonObject().put("name", "globex-add"), "add.onnx").statusCode());
    awaitReady(globexDev, "globex-add");
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"umbrella\",\"tier\":\"free\"}").statusCode());
    String user = key("umbrella", "user");
    assertError(post(user, "/v2/models/globex-add/infer", asked), 402, "redundant(2) exceeds tier free's limit of 1");
    // Audits run ahead of other callers' batches: asking for them is asking for three workers.
    JsonObject audited = addRequest().put("parameters", new JsonObject()
        .put("verification", new JsonObject().put("policy", "audit").put("p", 1.0)));
    assertError(post(user, "/v2/models/globex-add/infer", audited), 402,
        "audit(1.0), which re-runs an audited batch on 3 workers, exceeds tier free's limit of 1");
    assertEquals(200, post(user, "/v2/models/globex-add/infer", addRequest()).statusCode());
  }

  @Test
  void everyAnsweredRequestIsMeteredOnceAndEachTenantSeesItsOwnUsage() throws Exception {
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"stark\",\"tier\":\"pro\"}").statusCode());
    String dev = key("stark", "developer");
    assertEquals(202, deploy(dev, new JsonObject().put("name", "stark-add")
        .put("price", new JsonObject().put("per_request_micro_usd", 100)), "add.onnx").statusCode());
    awaitReady(dev, "stark-add");
    for (int i = 0; i < 3; i++) {
      HttpResponse<Buffer> ok = post(dev, "/v2/models/stark-add/infer", addRequest());
      assertEquals(200, ok.statusCode(), ok.bodyAsString());
      assertEquals("100", ok.getHeader("X-Inferium-Charge-Micro-Usd"));
    }
    assertEquals(400, post(dev, "/v2/models/stark-add/infer", new JsonObject().put("inputs", new JsonArray())).statusCode(),
        "a failed request is not charged");
    JsonObject usage = get(dev, "/api/usage").bodyAsJsonObject();
    assertEquals(3, usage.getLong("requests"), usage.encode());
    assertEquals(300, usage.getLong("charge_micro_usd"));
    assertEquals("stark-add", usage.getJsonArray("groups").getJsonObject(0).getString("function"));
    assertEquals(0, get(globexDev, "/api/usage?group_by=day").bodyAsJsonObject().getJsonArray("groups").stream()
        .mapToLong(g -> ((JsonObject) g).getLong("charge_micro_usd")).filter(c -> c == 300).count(), "not stark's");
    assertTrue(gw.get("/api/usage?tenant=stark").bodyAsJsonObject().getLong("charge_micro_usd") == 300, "admin view");
    assertError(get(dev, "/api/usage?from=yesterday"), 400, "query parameter 'from'");

    // The month's invoice equals its usage events, and its split adds up to the charges.
    JsonArray invoices = get(dev, "/api/invoices").bodyAsJsonObject().getJsonArray("invoices");
    assertEquals(1, invoices.size(), invoices.encode());
    String id = invoices.getJsonObject(0).getString("id");
    assertTrue(id.startsWith("stark-"), id);
    JsonObject invoice = get(dev, "/api/invoices/" + id).bodyAsJsonObject();
    assertEquals(300, invoice.getLong("total_micro_usd"));
    long lines = invoice.getJsonArray("lines").stream().mapToLong(l -> ((JsonObject) l).getLong("charge_micro_usd")).sum();
    assertEquals(300, lines, "the total is the sum of the lines");
    JsonObject split = invoice.getJsonObject("split");
    assertEquals(300, split.getLong("developer_micro_usd") + split.getLong("operators_micro_usd")
        + split.getLong("platform_micro_usd"), "the split sums to the charge");
    HttpResponse<Buffer> csv = gw.client.get(gw.port(), "127.0.0.1", "/api/invoices/" + id + "?format=csv")
        .bearerTokenAuthentication(dev).send().await(30, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(csv.getHeader("Content-Type").startsWith("text/csv"));
    assertTrue(csv.bodyAsString().contains("stark-add,stark,request,3,3,300,210,60,30"), csv.bodyAsString());
    assertError(get(globexDev, "/api/invoices/" + id), 404, "no invoice");
    assertEquals(210, get(dev, "/api/earnings").bodyAsJsonObject().getLong("earned_micro_usd"), "70 % to the developer");
  }

  @Test
  void aHardQuotaTierIsStoppedWhenItsMonthlyIncludedUsageIsUsedUp() throws Exception {
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"wayne\",\"tier\":\"trial\"}").statusCode());
    String dev = key("wayne", "developer");
    assertEquals(202, deploy(dev, new JsonObject().put("name", "wayne-add"), "add.onnx").statusCode());
    awaitReady(dev, "wayne-add");
    for (int i = 0; i < 3; i++) {
      HttpResponse<Buffer> ok = post(dev, "/v2/models/wayne-add/infer", addRequest());
      assertEquals(200, ok.statusCode(), "request " + i + ": " + ok.bodyAsString());
    }
    HttpResponse<Buffer> stopped = post(dev, "/v2/models/wayne-add/infer", addRequest());
    assertError(stopped, 402, "monthly included usage of tier trial is used up (30 of 30 micro-dollars this month)");
    assertTrue(stopped.bodyAsJsonObject().getString("error").contains("tier free bills usage beyond it"), stopped.bodyAsString());
    assertEquals(30, get(dev, "/api/usage").bodyAsJsonObject().getLong("charge_micro_usd"), "the refused call is not charged");
  }
}
