package io.inferium.engine;

import static io.inferium.engine.GatewayIT.assertError;
import static io.inferium.engine.TestGateway.poll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What one tenant can see of, and do to, another (issue #15 item 6), against a real gateway with a
 * real worker: an attacker tenant (mallory, and eve on a small tier) tries each attack and gets a
 * clear 4xx, while the victim tenant (acme) keeps getting right answers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IsolationIT {

  private static final Path DEMO = Path.of("src/main/resources/demo");
  private static final String CATEGORY = "flowers";
  private static final JsonArray LABELS = new JsonArray().add("setosa").add("versicolor").add("virginica");
  private static final String SECRET_NAME = "acme-secret-iris";

  private TestGateway gw;
  private String acmeDev;
  private String acmeUser;
  private String malloryDev;
  private String malloryUser;
  private String eveUser;
  private String irisCsv;
  private String irisDataset;

  @BeforeAll
  void start() throws Exception {
    Path tiers = Files.createTempFile("tiers-", ".json");
    Files.writeString(tiers, """
        {"default_tier": "pro",
         "tiers": {
           "small": {"requests_per_minute": 4, "monthly_included_micro_usd": null, "max_concurrent_generations": 1,
                     "storage_bytes": 10000000},
           "pro":   {"requests_per_minute": 10000, "monthly_included_micro_usd": null, "max_concurrent_generations": 8,
                     "storage_bytes": 10000000}},
         "upgrade_order": ["small", "pro"]}""");
    System.setProperty("inferium.bench.daily", "3");
    gw = TestGateway.start(1, b -> b.tiersFile(tiers));
    System.clearProperty("inferium.bench.daily");
    for (String t : List.of("acme", "mallory")) {
      assertEquals(201, gw.post("/api/tenants", new JsonObject().put("id", t).put("tier", "pro").encode()).statusCode());
    }
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"eve\",\"tier\":\"small\"}").statusCode());
    acmeDev = key("acme", "developer");
    acmeUser = key("acme", "user");
    malloryDev = key("mallory", "developer");
    malloryUser = key("mallory", "user");
    eveUser = key("eve", "user");
    irisCsv = Files.readString(DEMO.resolve("iris.csv"));

    // Two public platform functions, the victim's private one and the attacker's public one, all in one category.
    assertEquals("ready", deploy(TestGateway.ADMIN_KEY, spec("logreg"), "iris.onnx").getString("state"));
    assertEquals("ready", deploy(TestGateway.ADMIN_KEY, spec("centroid"), "iris-centroid.onnx").getString("state"));
    assertEquals("ready", deploy(acmeDev, spec(SECRET_NAME).put("visibility", "private"), "iris.onnx").getString("state"));
    assertEquals("ready", deploy(malloryDev, spec("mallory-iris"), "iris-centroid.onnx").getString("state"));
    HttpResponse<Buffer> up = post(TestGateway.ADMIN_KEY, "/api/datasets", dataset("iris", irisCsv));
    assertEquals(201, up.statusCode(), up.bodyAsString());
    assertTrue(up.bodyAsJsonObject().getBoolean("approved"), "the platform's dataset is approved at upload");
    irisDataset = up.bodyAsJsonObject().getString("id");
  }

  @AfterAll
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  @Test
  @Order(1)
  void metricsNeedAnAdminOrOperatorKey() throws Exception {
    assertEquals(200, infer(acmeUser, SECRET_NAME).statusCode(), "a request, so the private name is in some series");
    HttpResponse<Buffer> open = gw.client.get(gw.port(), "127.0.0.1", "/metrics").send().await(30, TimeUnit.SECONDS);
    assertEquals(401, open.statusCode());
    assertFalse(open.bodyAsString().contains(SECRET_NAME));
    for (String key : List.of(malloryDev, malloryUser, acmeDev, acmeUser)) {
      HttpResponse<Buffer> r = get(key, "/metrics");
      assertError(r, 403, "admin or operator key");
      assertFalse(r.bodyAsString().contains(SECRET_NAME));
    }
    assertError(post(malloryDev, "/api/operator-keys", new JsonObject()), 403, "only an admin");

    HttpResponse<Buffer> issued = post(TestGateway.ADMIN_KEY, "/api/operator-keys", new JsonObject().put("name", "prometheus"));
    assertEquals(201, issued.statusCode(), issued.bodyAsString());
    assertEquals("operator", issued.bodyAsJsonObject().getString("role"));
    String operator = issued.bodyAsJsonObject().getString("secret");
    HttpResponse<Buffer> scrape = get(operator, "/metrics");
    assertEquals(200, scrape.statusCode());
    assertTrue(scrape.bodyAsString().contains("inferium_requests_total{function=\"" + SECRET_NAME + "\""),
        "operators see every function's series");
    assertEquals(200, get(operator, "/api/nodes").statusCode(), "and node info");
    assertError(get(operator, "/api/functions"), 403, "operator key may only read");
    assertError(post(operator, "/api/tenants", new JsonObject().put("id", "evil")), 403, "operator key may only read");
    assertError(infer(operator, "logreg"), 403, "operator key may only read");
    assertEquals(200, gw.delete("/api/operator-keys/" + issued.bodyAsJsonObject().getString("id")).statusCode());
    assertEquals(401, get(operator, "/metrics").statusCode(), "revoked at once");

    assertVictimServed();
  }

  @Test
  @Order(2)
  void datasetsAreListedOnlyToTheirOwnersUntilPublicOrApproved() throws Exception {
    HttpResponse<Buffer> own = post(acmeDev, "/api/datasets", dataset("acme-holdout", irisCsv));
    assertEquals(201, own.statusCode(), own.bodyAsString());
    String holdout = own.bodyAsJsonObject().getString("id");
    assertFalse(own.bodyAsJsonObject().getBoolean("approved"));
    assertFalse(own.bodyAsJsonObject().getBoolean("public"));

    assertEquals(Set.of(irisDataset), ids(get(malloryDev, "/api/datasets?category=" + CATEGORY)), "acme's dataset is hidden");
    assertEquals(Set.of(irisDataset), ids(get(malloryUser, "/api/datasets")));
    assertEquals(Set.of(irisDataset, holdout), ids(get(acmeUser, "/api/datasets?category=" + CATEGORY)));
    assertEquals(Set.of(irisDataset, holdout), ids(gw.get("/api/datasets?category=" + CATEGORY)));
    // Nor can the attacker use it by id: not for a run, not for a contest.
    assertError(post(malloryDev, "/api/benchmarks", new JsonObject().put("function", "mallory-iris").put("dataset", holdout)),
        404, "no dataset");
    assertError(post(malloryDev, "/api/contests", new JsonObject().put("name", "c").put("category", CATEGORY)
        .put("dataset", holdout).put("metric", "accuracy").put("starts_at", "2026-01-01T00:00:00Z")
        .put("ends_at", "2099-01-01T00:00:00Z")), 404, "no dataset");
    assertError(post(malloryDev, "/api/datasets/" + holdout + "/approve", new JsonObject()), 403, "only an admin");

    HttpResponse<Buffer> shared = post(acmeDev, "/api/datasets", dataset("acme-shared", irisCsv).put("public", true));
    assertEquals(201, shared.statusCode(), shared.bodyAsString());
    assertTrue(ids(get(malloryDev, "/api/datasets")).contains(shared.bodyAsJsonObject().getString("id")),
        "a dataset uploaded as public is listed to all");
    assertVictimServed();
  }

  @Test
  @Order(3)
  void anAttackersCategoryDatasetCountsForNoBoardUntilApproved() throws Exception {
    // The rigged dataset claims every flower is a setosa: it would drag every rival's metric down.
    StringBuilder rigged = new StringBuilder("sepal_length,sepal_width,petal_length,petal_width,expected\n");
    irisCsv.lines().skip(1).forEach(l -> rigged.append(l, 0, l.lastIndexOf(',')).append(",setosa\n"));
    HttpResponse<Buffer> up = post(malloryDev, "/api/datasets", dataset("rigged", rigged.toString()));
    assertEquals(201, up.statusCode(), up.bodyAsString());
    String riggedId = up.bodyAsJsonObject().getString("id");

    // The scheduler runs it on mallory's own function only; the board still averages the approved dataset alone.
    JsonObject runOnRigged = poll("mallory's function benchmarked on the rigged dataset",
        () -> runs(malloryDev, "mallory-iris"), rs -> done(rs, riggedId) != null && done(rs, irisDataset) != null);
    assertNotNull(runOnRigged);
    JsonObject logregRun = poll("logreg benchmarked on the iris dataset", () -> runs(TestGateway.ADMIN_KEY, "logreg"),
        rs -> done(rs, irisDataset) != null);
    assertTrue(logregRun.getJsonArray("runs").stream().noneMatch(r -> riggedId.equals(((JsonObject) r).getString("dataset_id"))),
        "never run on another tenant's function");
    JsonArray board = board(acmeUser);
    for (String fn : List.of("logreg", "centroid", "mallory-iris", SECRET_NAME)) {
      JsonObject metric = row(board, fn).getJsonObject("parts").getJsonObject("metric");
      assertNotNull(metric, fn + " has a metric: " + board.encode());
      assertEquals(1, metric.getInteger("datasets"), fn + ": only the approved dataset counts");
    }
    assertTrue(row(board, "logreg").getJsonObject("parts").getJsonObject("metric").getDouble("value") >= 0.95);
    assertFalse(names(board(malloryUser)).contains(SECRET_NAME), "a private function is on its owner's board only");
    // mallory sees no run of a rival on a dataset she may not see; acme's developer sees its own.
    assertTrue(runs(malloryDev, "logreg").getJsonArray("runs").stream()
        .allMatch(r -> irisDataset.equals(((JsonObject) r).getString("dataset_id"))));

    // Approved by an admin, it is run on everyone and averaged in.
    HttpResponse<Buffer> approved = post(TestGateway.ADMIN_KEY, "/api/datasets/" + riggedId + "/approve",
        new JsonObject().put("approved", true));
    assertEquals(200, approved.statusCode(), approved.bodyAsString());
    assertTrue(approved.bodyAsJsonObject().getBoolean("approved"));
    poll("logreg's metric over both approved datasets", () -> row(board(acmeUser), "logreg"),
        r -> r.getJsonObject("parts").getJsonObject("metric") != null
            && r.getJsonObject("parts").getJsonObject("metric").getInteger("datasets") == 2);
    assertEquals(200, post(TestGateway.ADMIN_KEY, "/api/datasets/" + riggedId + "/approve",
        new JsonObject().put("approved", false)).statusCode());
    assertEquals(1, row(board(acmeUser), "logreg").getJsonObject("parts").getJsonObject("metric").getInteger("datasets"),
        "withdrawn approval: out again");
    assertError(post(TestGateway.ADMIN_KEY, "/api/datasets/ds-nope/approve", new JsonObject()), 404, "no dataset");
    assertVictimServed();
  }

  @Test
  @Order(4)
  void benchmarkRunsAreTheDevelopersOwnCappedAndBilled() throws Exception {
    JsonObject onVictim = new JsonObject().put("function", SECRET_NAME).put("dataset", irisDataset);
    assertError(post(malloryUser, "/api/benchmarks", onVictim), 404, "no function");
    assertError(post(malloryDev, "/api/benchmarks", onVictim), 404, "no function");
    assertError(post(malloryDev, "/api/benchmarks", new JsonObject().put("function", "logreg").put("dataset", irisDataset)),
        403, "only the developer of 'logreg'");
    assertError(post(acmeUser, "/api/benchmarks", onVictim), 403, "only the developer");

    // A big dataset keeps a run going while a second one is asked for: one at a time per tenant.
    StringBuilder big = new StringBuilder("sepal_length,sepal_width,petal_length,petal_width,expected\n");
    for (int i = 0; i < 12; i++) {
      irisCsv.lines().skip(1).forEach(l -> big.append(l).append('\n'));
    }
    HttpResponse<Buffer> up = post(malloryDev, "/api/datasets",
        new JsonObject().put("name", "big").put("function", "mallory-iris").put("format", "csv").put("content", big.toString()));
    assertEquals(201, up.statusCode(), up.bodyAsString());
    JsonObject onOwn = new JsonObject().put("function", "mallory-iris").put("dataset", up.bodyAsJsonObject().getString("id"));
    long billedBefore = charge("mallory");
    List<Future<HttpResponse<Buffer>>> both = List.of(
        gw.client.post(gw.port(), "127.0.0.1", "/api/benchmarks").bearerTokenAuthentication(malloryDev).sendJsonObject(onOwn),
        gw.client.post(gw.port(), "127.0.0.1", "/api/benchmarks").bearerTokenAuthentication(malloryDev).sendJsonObject(onOwn));
    Future.all(both).await(120, TimeUnit.SECONDS);
    List<Integer> statuses = new ArrayList<>(both.stream().map(f -> f.result().statusCode()).sorted().toList());
    assertEquals(List.of(200, 429), statuses, both.stream().map(f -> f.result().bodyAsString()).toList().toString());
    HttpResponse<Buffer> refused = both.stream().map(Future::result).filter(r -> r.statusCode() == 429).findFirst().orElseThrow();
    assertEquals("30", refused.getHeader("Retry-After"));
    assertTrue(refused.bodyAsString().contains("benchmark run(s) running"), refused.bodyAsString());
    JsonObject run = both.stream().map(Future::result).filter(r -> r.statusCode() == 200).findFirst().orElseThrow()
        .bodyAsJsonObject();
    assertEquals("done", run.getString("state"), run.encode());
    long cost = run.getLong("cost_micro_usd");
    assertTrue(cost > 0);
    assertEquals(billedBefore + cost, charge("mallory"), "the run is billed to the tenant that started it");

    // At most 3 a day here (the test's setting): the first counted, two more, then 429.
    JsonObject small = new JsonObject().put("function", "mallory-iris").put("dataset", irisDataset);
    assertEquals(200, post(malloryDev, "/api/benchmarks", small).statusCode());
    assertEquals(200, post(malloryDev, "/api/benchmarks", small).statusCode());
    HttpResponse<Buffer> daily = post(malloryDev, "/api/benchmarks", small);
    assertError(daily, 429, "in the last 24 hours");
    assertEquals("3600", daily.getHeader("Retry-After"));
    // The victim's developer is not held back by the attacker's caps.
    HttpResponse<Buffer> acmeRun = post(acmeDev, "/api/benchmarks", onVictim);
    assertEquals(200, acmeRun.statusCode(), acmeRun.bodyAsString());
    assertEquals("done", acmeRun.bodyAsJsonObject().getString("state"));
    assertVictimServed();
  }

  @Test
  @Order(5)
  void arenaBattlesCountAgainstTheRateAndAreBilled() throws Exception {
    JsonObject battle = new JsonObject().put("category", CATEGORY).put("input", new JsonObject().put("inputs",
        new JsonArray().add(features(6.7, 3.0, 5.2, 2.3))));
    // eve's tier allows 4 requests a minute; eve sees 3 functions of the category, so a battle is 3 calls.
    HttpResponse<Buffer> first = post(eveUser, "/api/arena/battles", battle);
    assertEquals(201, first.statusCode(), first.bodyAsString());
    assertEquals(3, first.bodyAsJsonObject().getJsonArray("models").size());
    assertNull(first.getHeader("X-Inferium-Charge-Micro-Usd"), "no charge before the vote: prices tell models apart");
    long charged = 3 * 10; // three calls at the default 10 micro-dollars each, as the usage below shows
    HttpResponse<Buffer> second = post(eveUser, "/api/arena/battles", battle);
    assertError(second, 429, "rate limit of tier small");
    assertNotNull(second.getHeader("Retry-After"));
    assertError(post(eveUser, "/api/arena/battles", battle), 429, "rate limit of tier small");
    JsonObject usage = new JsonObject(get(TestGateway.ADMIN_KEY, "/api/usage?tenant=eve").bodyAsString());
    assertEquals(charged, usage.getLong("charge_micro_usd"), usage.encode());
    assertEquals(3, usage.getLong("requests"), "one usage event per arena run");
    assertVictimServed();
  }

  @Test
  @Order(6)
  void aNulInAStoredNameIsA400WithoutTheDatabasesText() throws Exception {
    // PostgreSQL refuses a NUL in text: that is the caller's input (400), and the driver's message (which quotes
    // SQL) must not reach the caller. Unexpected errors answer only an id: FailuresTest.
    HttpResponse<Buffer> r = post(malloryDev, "/api/datasets", dataset("bad\u0000name", irisCsv));
    assertEquals(400, r.statusCode(), r.bodyAsString());
    JsonObject body = r.bodyAsJsonObject();
    assertTrue(body.getString("error").contains("NUL character (U+0000)"), body.encode());
    assertFalse(body.encode().toLowerCase(java.util.Locale.ROOT).contains("sql"), body.encode());
    assertFalse(body.encode().contains("0x00"), body.encode());
    assertVictimServed();
  }

  @Test
  @Order(7)
  void aFloodOfRandomKeysNeitherEvictsRealKeysNorQueriesTheDatabaseForEach() throws Exception {
    // A fresh key, so its cache entry (30 s) outlives the flood.
    acmeUser = key("acme", "user");
    assertVictimServed();
    double dbBefore = lookups("db_hit") + lookups("db_miss");
    double cachedBefore = lookups("cached");
    int flood = 3000;
    long started = System.nanoTime();
    List<Integer> statuses = new ArrayList<>();
    for (int batch = 0; batch < flood / 100; batch++) {
      List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        sent.add(gw.client.get(gw.port(), "127.0.0.1", "/api/functions")
            .bearerTokenAuthentication("inf_random_" + batch + "_" + i + "_" + System.nanoTime()).send());
      }
      Future.all(sent).await(60, TimeUnit.SECONDS);
      sent.forEach(f -> statuses.add(f.result().statusCode()));
    }
    long unauthorized = statuses.stream().filter(s -> s == 401).count();
    long throttled = statuses.stream().filter(s -> s == 429).count();
    assertEquals(flood, unauthorized + throttled, "every random key is refused");
    // The miss budget is a bucket of 20 refilled at 1/s, shared with any earlier bad key from this address.
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + 1;
    assertTrue(unauthorized >= 1 && unauthorized <= 20 + seconds,
        "the first ones are looked up and refused, within the budget: " + unauthorized);
    assertTrue(throttled > flood / 2, "most never reach the database: " + throttled);
    double dbQueries = lookups("db_hit") + lookups("db_miss") - dbBefore;
    System.out.printf("random-key flood: %d keys in %.1f s -> %d x 401, %d x 429, %.0f database lookups%n", flood,
        (System.nanoTime() - started) / 1e9, unauthorized, throttled, dbQueries);
    assertTrue(dbQueries < 100, "database lookups for " + flood + " random keys: " + dbQueries);
    HttpResponse<Buffer> limited = gw.client.get(gw.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication("inf_one_more_random").send().await(30, TimeUnit.SECONDS);
    assertError(limited, 429, "too many invalid API keys");
    assertNotNull(limited.getHeader("Retry-After"));

    // The real keys stay cached: served without a database lookup, with the right answer.
    double dbAfterFlood = lookups("db_hit") + lookups("db_miss");
    assertVictimServed();
    assertEquals(dbAfterFlood, lookups("db_hit") + lookups("db_miss"), "the victim's key came from the cache");
    assertTrue(lookups("cached") > cachedBefore);
  }

  // --- helpers ---

  /** The victim's own private function answers right: setosa for the first iris row, virginica for another. */
  private void assertVictimServed() throws Exception {
    HttpResponse<Buffer> r = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/" + SECRET_NAME + "/infer")
        .bearerTokenAuthentication(acmeUser).sendJsonObject(new JsonObject().put("inputs", new JsonArray()
            .add(features(5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3)))).await(60, TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    JsonObject label = r.bodyAsJsonObject().getJsonArray("outputs").stream().map(o -> (JsonObject) o)
        .filter(o -> o.getString("name").equals("label")).findFirst().orElseThrow();
    assertEquals(new JsonArray().add(0).add(2), label.getJsonArray("data"), r.bodyAsString());
  }

  private static JsonObject features(double... v) {
    JsonArray data = new JsonArray();
    for (double x : v) {
      data.add(x);
    }
    return new JsonObject().put("name", "features").put("shape", new JsonArray().add(v.length / 4).add(4))
        .put("datatype", "FP32").put("data", data);
  }

  private HttpResponse<Buffer> infer(String key, String fn) throws Exception {
    return post(key, "/v2/models/" + fn + "/infer", new JsonObject().put("inputs", new JsonArray()
        .add(features(5.1, 3.5, 1.4, 0.2))));
  }

  private double lookups(String result) {
    String series = "inferium_api_key_lookups_total{result=\"" + result + "\"} ";
    return gw.metrics.scrape().lines().filter(l -> l.startsWith(series)).findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length()).trim())).orElse(0.0);
  }

  private long charge(String tenant) throws Exception {
    return new JsonObject(get(TestGateway.ADMIN_KEY, "/api/usage?tenant=" + tenant).bodyAsString()).getLong("charge_micro_usd");
  }

  private static JsonObject spec(String name) {
    return new JsonObject().put("name", name).put("kind", "classifier").put("category", CATEGORY).put("labels", LABELS);
  }

  private JsonObject dataset(String name, String csv) {
    return new JsonObject().put("name", name).put("category", CATEGORY).put("format", "csv").put("content", csv);
  }

  private JsonObject deploy(String key, JsonObject spec, String model) throws Exception {
    MultipartForm form = MultipartForm.create().attribute("spec", spec.encode())
        .binaryFileUpload("model", model, DEMO.resolve(model).toString(), "application/octet-stream");
    HttpResponse<Buffer> r = gw.client.post(gw.port(), "127.0.0.1", "/api/functions").bearerTokenAuthentication(key)
        .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    assertEquals(202, r.statusCode(), r.bodyAsString());
    String path = "/api/functions/" + spec.getString("name") + "/versions/" + r.bodyAsJsonObject().getInteger("version");
    return poll(path + " verified", () -> gw.get(path).bodyAsJsonObject(), v -> !"verifying".equals(v.getString("state")));
  }

  private String key(String tenant, String role) throws Exception {
    return gw.newKey(tenant, role);
  }

  private HttpResponse<Buffer> get(String key, String path) throws Exception {
    return gw.client.get(gw.port(), "127.0.0.1", path).bearerTokenAuthentication(key).send().await(60, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> post(String key, String path, JsonObject body) throws Exception {
    return gw.postAs(key, path, body);
  }

  private static Set<String> ids(HttpResponse<Buffer> r) {
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return Set.copyOf(r.bodyAsJsonObject().getJsonArray("datasets").stream()
        .map(d -> ((JsonObject) d).getString("id")).toList());
  }

  private JsonObject runs(String key, String fn) throws Exception {
    HttpResponse<Buffer> r = get(key, "/api/benchmarks?function=" + fn);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  private static JsonObject done(JsonObject runs, String dataset) {
    return runs.getJsonArray("runs").stream().map(r -> (JsonObject) r)
        .filter(r -> dataset.equals(r.getString("dataset_id")) && "done".equals(r.getString("state"))).findFirst().orElse(null);
  }

  private JsonArray board(String key) throws Exception {
    HttpResponse<Buffer> r = get(key, "/api/leaderboard?category=" + CATEGORY);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject().getJsonArray("rows");
  }

  private static JsonObject row(JsonArray rows, String name) {
    return rows.stream().map(r -> (JsonObject) r).filter(r -> r.getString("name").equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no row " + name + " in " + rows.encode()));
  }

  private static List<String> names(JsonArray rows) {
    return rows.stream().map(r -> ((JsonObject) r).getString("name")).toList();
  }
}
