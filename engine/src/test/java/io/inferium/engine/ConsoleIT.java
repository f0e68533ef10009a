package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real browser (Debian's Chromium through chromium-driver) against a real gateway: sign in with
 * a user key, search the store, open a function, run the tensor playground, stream a chat and stop one, watch a
 * leaderboard update live, sign out; deploy with the verification steps ticking live, "My functions"; an admin makes
 * a tenant and a key whose secret is shown once; a function's benchmark charts and ratings; a node's reputation over
 * time, slashes with evidence and stake; and the attacks: admin pages (and their API) and another tenant's private
 * function stay out of a user's reach, a cookie without the CSRF token changes nothing, a cross-site form carries no cookie, the key is
 * nowhere a script can read, a signed-out or revoked session is dead, guessed keys at sign-in hit the miss budget.
 * Every browser console message of level error fails the test unless the test expects it. Screenshots of each page
 * land in {@code target/console-screenshots}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

  static final String CHROMIUM = System.getProperty("inferium.chromium", "/usr/bin/chromium");
  static final String CHROMEDRIVER = System.getProperty("inferium.chromedriver", "/usr/bin/chromedriver");
  static final Path SHOTS = Path.of("target", "console-screenshots");

  private TestGateway gw;
  private ChromeDriver browser;
  private WebDriverWait wait;
  private Path profile;
  private String base;
  private String userKey;
  private String rivalKey;
  /** Console errors the current test expects (a 403 it provokes, say): substrings of the message. */
  private final List<String> expectedErrors = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    for (String binary : List.of(CHROMIUM, CHROMEDRIVER)) {
      assertTrue(Files.isExecutable(Path.of(binary)), binary + " is missing: install the Debian packages chromium and "
          + "chromium-driver (the engine build does it when run as root unless -Dskip.test.packages), or point "
          + "-Dinferium.chromium / -Dinferium.chromedriver at a matching pair");
    }
    gw = TestGateway.start(2);
    base = "http://127.0.0.1:" + gw.port();
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"acme\",\"tier\":\"pro\"}").statusCode());
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"rival\",\"tier\":\"pro\"}").statusCode());
    userKey = gw.newKey("acme", "user");
    rivalKey = gw.newKey("rival", "developer");
    JsonObject iris = new JsonObject(Files.readString(Path.of("src/main/resources/demo/iris.json")));
    // The browser starts while the two functions the pages use are verified; another tenant's private function is
    // uploaded last and verified while the tests run (the attacks need it to exist, not to be ready).
    var pool = java.util.concurrent.Executors.newFixedThreadPool(5);
    try {
      var irisUp = pool.submit(() -> gw.deployAndWait(new JsonObject().put("name", "iris").put("kind", "classifier")
          .put("category", "tabular").put("description", "Iris species from sepal and petal measurements")
          .put("labels", iris.getJsonArray("labels")).put("price", new JsonObject().put("per_request_micro_usd", 250))
          .put("verification", new JsonObject().put("policy", "redundant").put("k", 2)),
          Path.of("src/main/resources/demo/iris.onnx")));
      var gpt = pool.submit(() -> OpenAiIT.deployText(gw, "tiny-gpt", new JsonObject()));
      // tiny-gpt's terse sibling, priced above it: the text category's second contender in the arena.
      var terse = pool.submit(() -> ArenaIT.deploy(gw, TestGateway.ADMIN_KEY, Path.of("src/main/resources/demo/tiny-gpt-terse"),
          new JsonObject().put("price", new JsonObject().put("per_request_micro_usd", 20).put("per_1k_tokens_micro_usd", 6000))));
      // Two embedding functions, priced above the rest: the arena's embedding battle.
      var embed = pool.submit(() -> ArenaIT.deploy(gw, TestGateway.ADMIN_KEY, OpenAiIT.MODELS.resolve("tiny-embed"),
          new JsonObject().put("price", new JsonObject().put("per_request_micro_usd", 30).put("per_1k_tokens_micro_usd", 7000))));
      var embedCls = pool.submit(() -> ArenaIT.deploy(gw, TestGateway.ADMIN_KEY, Path.of("src/main/resources/demo/tiny-embed-cls"),
          new JsonObject().put("price", new JsonObject().put("per_request_micro_usd", 40).put("per_1k_tokens_micro_usd", 8000))));
      var chromium = pool.submit(this::startBrowser);
      assertEquals("ready", irisUp.get(120, TimeUnit.SECONDS).getString("state"));
      assertEquals("ready", gpt.get(120, TimeUnit.SECONDS).getString("state"));
      assertEquals("ready", terse.get(120, TimeUnit.SECONDS).getString("state"));
      assertEquals("ready", embed.get(120, TimeUnit.SECONDS).getString("state"));
      assertEquals("ready", embedCls.get(120, TimeUnit.SECONDS).getString("state"));
      browser = chromium.get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertEquals(202, deployAs(rivalKey, new JsonObject().put("name", "rival-secret").put("category", "tabular")
        .put("visibility", "private"), TestGateway.model("add.onnx")).statusCode());
    wait = new WebDriverWait(browser, Duration.ofSeconds(20));
    wait.pollingEvery(Duration.ofMillis(50));
    // Pages re-render while a test waits on them (a deploy's state line, a board): a stale handle is looked up again.
    wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
  }

  private ChromeDriver startBrowser() throws Exception {
    Files.createDirectories(SHOTS);
    profile = Files.createTempDirectory("inferium-chromium-");
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM).addArguments("--headless=new", "--no-sandbox",
        "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-extensions", "--disable-sync", "--user-data-dir=" + profile, "--window-size=1280,900");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, java.util.logging.Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(Path.of(CHROMEDRIVER).toFile())
        .usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (browser != null) {
        browser.quit();
      }
    } finally {
      gw.close();
      if (profile != null) {
        try (var files = Files.walk(profile)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
      }
    }
  }

  /** Fails on any browser console error the test did not expect. */
  @AfterEach
  void noConsoleErrors() {
    List<String> unexpected = new ArrayList<>();
    for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()
          && expectedErrors.stream().noneMatch(e.getMessage()::contains)) {
        unexpected.add(e.getMessage());
      }
    }
    expectedErrors.clear();
    assertEquals(List.of(), unexpected, "browser console errors");
  }

  @Test
  @Order(1)
  void staticFilesComeWithStrictHeaders() throws Exception {
    HttpResponse<Buffer> page = raw("GET", "/").send().await(10, TimeUnit.SECONDS);
    assertEquals(200, page.statusCode());
    assertTrue(page.getHeader("Content-Type").startsWith("text/html"));
    String csp = page.getHeader("Content-Security-Policy");
    assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"), csp);
    assertEquals("nosniff", page.getHeader("X-Content-Type-Options"));
    assertFalse(page.bodyAsString().contains("<script>"), "no inline script");
    HttpResponse<Buffer> js = raw("GET", "/console/app.js").send().await(10, TimeUnit.SECONDS);
    assertEquals(200, js.statusCode());
    assertTrue(js.getHeader("Content-Type").startsWith("text/javascript"));
    assertEquals("no-cache", js.getHeader("Cache-Control"));
    String etag = js.getHeader("ETag");
    assertNotNull(etag);
    assertEquals(304, raw("GET", "/console/app.js").putHeader("If-None-Match", etag).send().await(10, TimeUnit.SECONDS)
        .statusCode());
    for (String path : List.of("/console/nope.js", "/console/assets.txt", "/console/../pom.xml", "/console/%2e%2e/pom.xml")) {
      assertEquals(404, raw("GET", path).send().await(10, TimeUnit.SECONDS).statusCode(), path);
    }
    // No credentials at all: a plain answer, not a 401 the page would log.
    JsonObject anonymous = raw("GET", "/api/session").send().await(10, TimeUnit.SECONDS).bodyAsJsonObject();
    assertEquals(false, anonymous.getBoolean("signed_in"));
  }

  @Test
  @Order(2)
  void signInSearchTheStoreAndOpenAFunction() throws Exception {
    browser.get(base + "/");
    WebElement key = wait.until(d -> d.findElement(By.id("key")));
    shot("signin");
    key.sendKeys(userKey, Keys.ENTER);
    wait.until(d -> cards().size() >= 2);
    assertEquals("acme · user", browser.findElement(By.cssSelector("[data-testid=who]")).getText());
    List<String> names = cards();
    assertTrue(names.containsAll(List.of("iris", "tiny-gpt")), names.toString());
    assertFalse(names.contains("rival-secret"), "another tenant's private function is not in the store: " + names);
    // The user's nav offers no operator pages.
    assertFalse(browser.findElement(By.cssSelector("nav a[data-page=nodes]")).isDisplayed());
    assertFalse(browser.findElement(By.cssSelector("nav a[data-page=deploy]")).isDisplayed(), "a user key may not deploy");
    shot("store");

    browser.findElement(By.id("q")).sendKeys("iris");
    wait.until(d -> cards().equals(List.of("iris")));
    // Keys, not clear(): clear() fires no input event.
    browser.findElement(By.id("q")).sendKeys(Keys.BACK_SPACE, Keys.BACK_SPACE, Keys.BACK_SPACE, Keys.BACK_SPACE);
    wait.until(d -> cards().size() >= 2);
    new Select(browser.findElement(By.id("kind"))).selectByValue("text-generation");
    wait.until(d -> cards().size() == 2 && cards().containsAll(List.of("tiny-gpt", "tiny-gpt-terse")));
    new Select(browser.findElement(By.id("kind"))).selectByValue("");
    wait.until(d -> cards().size() >= 2);
    new Select(browser.findElement(By.id("sort"))).selectByValue("price");
    // iris costs $0.00025 a request; tiny-gpt $0.00001 a request plus $0.003 per 1,000 tokens; the others more.
    wait.until(d -> cards().equals(List.of("iris", "tiny-gpt", "tiny-gpt-terse", "tiny-embed", "tiny-embed-cls")));

    browser.findElement(By.linkText("iris")).click();
    wait.until(d -> d.findElement(By.tagName("h1")).getText().equals("iris"));
    String page = browser.findElement(By.id("main")).getText();
    assertTrue(page.contains("features") || page.contains("FP32"), "inputs shown: " + page);
    assertTrue(page.contains("redundant ×2"), "verification policy shown");
    assertTrue(browser.findElement(By.cssSelector("[data-testid=price]")).getText().contains("$0.00025"), page);
    assertTrue(page.contains("/v2/models/iris/infer"), "a KServe snippet");
    assertNotNull(browser.findElement(By.cssSelector("[data-testid=report]")));
    shot("function");

    assertKeyNowhereScriptsCanRead();
  }

  @Test
  @Order(3)
  void tensorPlaygroundShowsLatencyVerdictAndCharge() throws Exception {
    browser.findElement(By.id("try")).click();
    WebElement data = wait.until(d -> d.findElement(By.id("data-0")));
    data.clear();
    data.sendKeys("5.1, 3.5, 1.4, 0.2");
    browser.findElement(By.id("run")).click();
    wait.until(d -> !d.findElements(By.cssSelector("[data-testid=output-values]")).isEmpty());
    assertTrue(browser.findElement(By.id("latency")).getText().endsWith("ms"));
    assertEquals("$0.00025", browser.findElement(By.id("charge")).getText());
    String verdict = browser.findElement(By.id("verdict")).getText();
    assertFalse(verdict.isBlank() || verdict.equals("—") || verdict.startsWith("not verified"), "a redundant run's verdict: " + verdict);
    String request = browser.findElement(By.id("request")).getAttribute("value");
    assertTrue(new JsonObject(request).getJsonArray("inputs").getJsonObject(0).getJsonArray("data").contains(5.1), request);
    shot("playground-tensor");
  }

  @Test
  @Order(4)
  void chatStreamsTokensAndStopCancels() throws Exception {
    browser.get(base + "/#/play/tiny-gpt");
    WebElement prompt = wait.until(d -> d.findElement(By.id("prompt")));
    prompt.sendKeys("Permission is granted");
    browser.findElement(By.id("send")).click();
    wait.until(d -> "done".equals(d.findElement(By.id("chat-state")).getText()));
    String reply = browser.findElement(By.cssSelector("[data-testid=reply]")).getText();
    assertFalse(reply.isBlank(), "a streamed reply");
    assertTrue(Integer.parseInt(browser.findElement(By.id("tokens")).getText()) > 1);
    shot("playground-chat");

    // A fresh conversation (the model's context is 256 tokens): a long answer, stopped early.
    browser.navigate().refresh();
    WebElement max = wait.until(d -> d.findElement(By.id("max-tokens")));
    max.clear();
    max.sendKeys("200");
    browser.findElement(By.id("prompt")).sendKeys("Tell me a long story");
    // The tiny model writes 200 tokens in well under a second: Stop is pressed by the page's own event, at the first
    // token, rather than raced from here.
    ((JavascriptExecutor) browser).executeScript("""
        const log = document.getElementById('chat-log');
        new MutationObserver((changes, observer) => {
          const replies = log.querySelectorAll('[data-testid=reply]');
          if (replies.length === 1 && replies[0].textContent) { observer.disconnect(); document.getElementById('stop').click(); }
        }).observe(log, {childList: true, subtree: true, characterData: true});""");
    browser.findElement(By.id("send")).click();
    wait.until(d -> "stopped".equals(d.findElement(By.id("chat-state")).getText()));
    assertTrue(browser.findElement(By.id("send")).isEnabled());
    assertTrue(Integer.parseInt(browser.findElement(By.id("tokens")).getText()) < 200, "stopped before the end");
  }

  @Test
  @Order(5)
  void anArenaBattleStreamsSideBySideAndItsVoteMovesTheBoardLive() throws Exception {
    // The battle's category board, open in its own tab: it must follow the vote without a reload.
    String arenaTab = browser.getWindowHandle();
    browser.switchTo().newWindow(WindowType.TAB);
    String boardTab = browser.getWindowHandle();
    browser.get(base + "/#/leaderboards/text");
    wait.until(d -> d.findElements(By.cssSelector("#board tr[data-name]")).size() == 2);
    int before = Integer.parseInt(browser.findElement(By.id("live")).getAttribute("data-updates"));
    browser.switchTo().window(arenaTab);

    browser.get(base + "/#/arena/text/text-generation");
    wait.until(d -> d.findElement(By.id("arena-prompt"))).sendKeys("Permission is granted");
    browser.findElement(By.id("fight")).click();
    wait.until(d -> "vote".equals(d.findElement(By.id("arena-state")).getText()));
    for (String side : List.of("A", "B")) {
      assertFalse(browser.findElement(By.cssSelector("[data-testid=answer-" + side + "]")).getText().isBlank(), side);
    }
    assertTrue(browser.findElements(By.cssSelector("[data-testid=revealed-name]")).isEmpty(), "no names before the vote");
    shot("arena");
    // By keyboard: B ranked 2nd (typed into its select), the ballot sent with Enter on the Vote button.
    browser.findElement(By.id("rank-B")).sendKeys("2");
    browser.findElement(By.id("vote")).sendKeys(Keys.ENTER);
    wait.until(d -> "revealed".equals(d.findElement(By.id("arena-state")).getText()));
    String winner = browser.findElement(By.cssSelector("[data-testid=reveal-A] [data-testid=revealed-name]")).getText();
    String loser = browser.findElement(By.cssSelector("[data-testid=reveal-B] [data-testid=revealed-name]")).getText();
    assertEquals(java.util.Set.of("tiny-gpt", "tiny-gpt-terse"), java.util.Set.of(winner, loser));
    assertTrue(browser.findElement(By.cssSelector("[data-testid=reveal-A] a")).getAttribute("href").endsWith("#/fn/" + winner));
    assertTrue(browser.findElement(By.cssSelector("[data-testid=reveal-A]")).getText().contains("rank 1"));
    shot("arena-reveal");
    browser.manage().window().setSize(new Dimension(360, 780));
    try {
      Long overflow = (Long) ((JavascriptExecutor) browser).executeScript(
          "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
      assertTrue(overflow <= 0, "no sideways scrolling at 360 px: " + overflow);
      shot("arena-phone");
    } finally {
      browser.manage().window().setSize(new Dimension(1280, 900));
    }

    // The other tab: a new board arrived over its stream and the winner's row moved ahead of the loser's.
    browser.switchTo().window(boardTab);
    wait.until(d -> Integer.parseInt(d.findElement(By.id("live")).getAttribute("data-updates")) > before
        && "1".equals(d.findElement(By.cssSelector("#board tr[data-name=" + winner + "] td")).getText())
        && "2".equals(d.findElement(By.cssSelector("#board tr[data-name=" + loser + "] td")).getText()));
    WebElement row = browser.findElement(By.cssSelector("#board tr[data-name=" + winner + "]"));
    assertTrue(row.getAttribute("class").contains("moved"), "the row is marked as moved");
    assertFalse(row.findElements(By.tagName("td")).get(4).getText().equals("—"), "an arena rating: " + row.getText());
    shot("leaderboard-arena");
    browser.close();
    browser.switchTo().window(arenaTab);
  }

  @Test
  @Order(6)
  void anEmbeddingBattleShowsEachSidesNearestTextsAndAllBadRevealsThem() throws Exception {
    browser.get(base + "/#/arena/embedding/embedding");
    wait.until(d -> !d.findElement(By.id("arena-texts")).getAttribute("value").isBlank());
    // By keyboard: the prefilled texts, Fight and then All bad pressed with Enter.
    browser.findElement(By.id("fight")).sendKeys(Keys.ENTER);
    wait.until(d -> "vote".equals(d.findElement(By.id("arena-state")).getText()));
    for (String side : List.of("A", "B")) {
      assertEquals(4, browser.findElements(By.cssSelector("[data-testid=nearest-" + side + "] li")).size(), side);
    }
    assertEquals(2, browser.findElements(By.cssSelector("table.matrix")).size());
    assertTrue(browser.findElements(By.cssSelector("[data-testid=revealed-name]")).isEmpty(), "no names before the vote");
    shot("arena-embedding");
    browser.findElement(By.id("all-bad")).sendKeys(Keys.ENTER);
    wait.until(d -> "revealed".equals(d.findElement(By.id("arena-state")).getText()));
    assertEquals(java.util.Set.of("tiny-embed", "tiny-embed-cls"), java.util.Set.copyOf(browser.findElements(
        By.cssSelector("[data-testid=revealed-name]")).stream().map(WebElement::getText).toList()));
    assertEquals("Marked all bad. Thank you.", browser.findElement(By.cssSelector("[data-testid=voted]")).getText());
  }

  @Test
  @Order(7)
  void leaderboardUpdatesLiveAfterARating() throws Exception {
    browser.get(base + "/#/leaderboards/tabular");
    wait.until(d -> !d.findElements(By.cssSelector("#board tr[data-name=iris]")).isEmpty());
    int before = Integer.parseInt(browser.findElement(By.id("live")).getAttribute("data-updates"));
    String scoreBefore = browser.findElement(By.cssSelector("#board tr[data-name=iris] [data-testid=score]")).getText();
    shot("leaderboard");
    // Another tenant's user rates iris: the open page gets the new board over its event stream, no reload.
    HttpResponse<Buffer> rated = gw.client.put(gw.port(), "127.0.0.1", "/api/functions/iris/rating")
        .bearerTokenAuthentication(userKey).sendJsonObject(new JsonObject().put("stars", 5).put("feedback", "clear"))
        .await(10, TimeUnit.SECONDS);
    assertTrue(rated.statusCode() == 201 || rated.statusCode() == 200, rated.bodyAsString());
    wait.until(d -> Integer.parseInt(d.findElement(By.id("live")).getAttribute("data-updates")) > before);
    String title = browser.findElement(By.cssSelector("#board tr[data-name=iris] [data-testid=score]")).getAttribute("title");
    assertTrue(title.contains("rating 5"), "score parts on hover include the rating: " + title + " (score was " + scoreBefore + ")");
    shot("leaderboard-live");
  }

  @Test
  @Order(8)
  void usageShowsTheCallsJustMade() throws Exception {
    browser.get(base + "/#/usage");
    wait.until(d -> !d.findElements(By.xpath("//div[@id='usage']//td[text()='iris']")).isEmpty());
    assertTrue(Integer.parseInt(browser.findElement(By.id("usage-requests")).getText()) >= 2, "the tensor run and the chats");
    assertTrue(browser.findElement(By.id("usage")).getText().contains("tiny-gpt"));
    // Today's bar in the per-day chart counts the same calls.
    String today = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
    WebElement bar = browser.findElement(By.cssSelector("#usage-chart rect[data-day='" + today + "']"));
    assertEquals(browser.findElement(By.id("usage-requests")).getText(), bar.getAttribute("data-requests"));
    assertTrue(Double.parseDouble(bar.getAttribute("height")) > 0, "a visible bar");
    // This month's invoice, its lines, and no earnings section for a user key.
    WebElement invoice = wait.until(d -> d.findElement(By.cssSelector("#billing li.invoice")));
    invoice.findElement(By.cssSelector("button[aria-expanded]")).click();
    wait.until(d -> !d.findElements(By.cssSelector("#billing li.invoice table")).isEmpty());
    assertTrue(invoice.getText().contains("iris"), invoice.getText());
    // The CSV needs the session: the page fetches it and offers a blob. The anchor's click is caught so that no file
    // is written; the blob is read back instead.
    JavascriptExecutor js = (JavascriptExecutor) browser;
    js.executeScript("""
        window.caughtDownload = null;
        const objectUrl = URL.createObjectURL;
        URL.createObjectURL = (blob) => { window.caughtBlob = blob; return objectUrl(blob); };
        const click = HTMLAnchorElement.prototype.click;
        HTMLAnchorElement.prototype.click = function () {
          if (this.download) window.caughtDownload = {name: this.download, href: this.href}; else click.call(this);
        };""");
    invoice.findElement(By.cssSelector("[data-testid=invoice-csv]")).click();
    wait.until(d -> js.executeScript("return window.caughtDownload") != null);
    @SuppressWarnings("unchecked")
    Map<String, Object> download = (Map<String, Object>) js.executeScript("return window.caughtDownload");
    assertTrue(((String) download.get("name")).matches("acme-\\d{4}-\\d{2}\\.csv"), download.toString());
    assertTrue(((String) download.get("href")).startsWith("blob:"), download.toString());
    String csv = (String) js.executeAsyncScript("window.caughtBlob.text().then(arguments[0]);");
    assertTrue(csv.startsWith("function,developer,modality") && csv.contains("iris"), csv);
    assertTrue(browser.findElements(By.id("earnings")).isEmpty());
    assertFalse(browser.findElement(By.id("main")).getText().contains("null"), "no absent part printed");
    shot("usage");
    browser.manage().window().setSize(new Dimension(360, 780));
    try {
      Long overflow = (Long) ((JavascriptExecutor) browser).executeScript(
          "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
      assertTrue(overflow <= 0, "no sideways scrolling at 360 px: " + overflow);
      shot("usage-phone");
    } finally {
      browser.manage().window().setSize(new Dimension(1280, 900));
    }
  }

  @Test
  @Order(9)
  void aUserReachesNeitherOperatorPagesNorAnotherTenantsPrivateFunction() throws Exception {
    browser.get(base + "/#/nodes");
    assertEquals("A user key may not use this page.",
        wait.until(d -> d.findElement(By.cssSelector("[data-testid=forbidden]"))).getText());
    browser.get(base + "/#/deploy");
    assertEquals("A user key may not use this page.",
        wait.until(d -> d.findElement(By.cssSelector("[data-testid=forbidden]"))).getText());
    expectedErrors.add("rival-secret");
    browser.get(base + "/#/fn/rival-secret");
    WebElement error = wait.until(d -> d.findElement(By.cssSelector("#main .error")));
    assertTrue(error.getText().startsWith("404"), error.getText());
    // The API itself, through the cookie, refuses just the same.
    assertEquals(404, fetch("GET", "/api/functions/rival-secret", null, true));
    assertEquals(403, fetch("GET", "/api/tenants", null, true));
    expectedErrors.add("/api/tenants");
    // The admin page: not offered, not shown, and its API refuses the user's session.
    assertFalse(browser.findElement(By.cssSelector("nav a[data-page=admin]")).isDisplayed());
    browser.get(base + "/#/admin");
    assertEquals("A user key may not use this page.",
        wait.until(d -> d.findElement(By.cssSelector("[data-testid=forbidden]"))).getText());
    assertEquals(403, fetch("POST", "/api/tenants", "{\"id\":\"mine\"}", true));
    assertEquals(403, fetch("GET", "/api/tenants/acme/keys", null, true));
    assertEquals(403, fetch("POST", "/api/tenants/acme/keys", "{\"role\":\"developer\"}", true));
    assertEquals(403, fetch("POST", "/api/operator-keys", "{}", true));
    expectedErrors.add("/api/operator-keys");
  }

  @Test
  @Order(10)
  void cookieWithoutTheCsrfTokenChangesNothing() throws Exception {
    expectedErrors.add("/api/functions/iris/rating");
    // From the console's own origin, a script without the token: 403; with it: through.
    assertEquals(403, fetch("PUT", "/api/functions/iris/rating", "{\"stars\":1}", false));
    assertEquals(200, fetch("PUT", "/api/functions/iris/rating", "{\"stars\":4}", true));
    String session = browser.manage().getCookieNamed("inferium_session").getValue();
    HttpResponse<Buffer> noToken = raw("PUT", "/api/functions/iris/rating").putHeader("Cookie", "inferium_session=" + session)
        .sendJsonObject(new JsonObject().put("stars", 1)).await(10, TimeUnit.SECONDS);
    assertEquals(403, noToken.statusCode());
    assertTrue(noToken.bodyAsJsonObject().getString("error").contains("X-CSRF-Token"), noToken.bodyAsString());
    assertEquals(403, raw("PUT", "/api/functions/iris/rating").putHeader("Cookie", "inferium_session=" + session)
        .putHeader("X-CSRF-Token", "forged").sendJsonObject(new JsonObject().put("stars", 1)).await(10, TimeUnit.SECONDS)
        .statusCode());
    // A bearer request needs no token.
    assertEquals(200, raw("PUT", "/api/functions/iris/rating").bearerTokenAuthentication(userKey)
        .sendJsonObject(new JsonObject().put("stars", 4)).await(10, TimeUnit.SECONDS).statusCode());

    // A page on another site posts a form to the gateway: the SameSite=Strict cookie stays home.
    HttpServer evil = gw.vertx.createHttpServer().requestHandler(req -> req.response().putHeader("Content-Type", "text/html")
        .end("<!doctype html><title>evil</title><form id=f method=post action='" + base + "/api/tenants/acme/keys' "
            + "enctype=text/plain><input name='{\"role\":\"admin\",\"x\":\"' value='\"}'></form>"
            + "<script>document.getElementById('f').submit()</script>")).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    try {
      expectedErrors.add("/api/tenants/acme/keys");
      expectedErrors.add("favicon.ico");
      browser.get("http://localhost:" + evil.actualPort() + "/");
      wait.until(d -> d.getCurrentUrl().startsWith(base + "/api/tenants/acme/keys"));
      String body = browser.findElement(By.tagName("body")).getText();
      assertTrue(body.contains("missing API key"), "the cross-site post arrived without the cookie: " + body);
    } finally {
      evil.close().await(10, TimeUnit.SECONDS);
    }
    assertEquals(1, keysOf("acme").size(), "no key was made");
  }

  @Test
  @Order(11)
  void signOutRevokesTheSessionOnTheServer() throws Exception {
    browser.get(base + "/#/store");
    wait.until(d -> !d.findElements(By.cssSelector("#results li.card")).isEmpty());
    String session = browser.manage().getCookieNamed("inferium_session").getValue();
    browser.findElement(By.id("signout")).click();
    wait.until(d -> !d.findElements(By.id("key")).isEmpty());
    assertNull(browser.manage().getCookieNamed("inferium_session"), "the cookie is cleared");
    HttpResponse<Buffer> after = raw("GET", "/api/functions").putHeader("Cookie", "inferium_session=" + session)
        .send().await(10, TimeUnit.SECONDS);
    assertEquals(401, after.statusCode(), "the old cookie is dead on the server");
    // A page that still holds a dead cookie is told it is signed out (no 401 for its console) and the cookie is cleared.
    HttpResponse<Buffer> who = raw("GET", "/api/session").putHeader("Cookie", "inferium_session=" + session)
        .send().await(10, TimeUnit.SECONDS);
    assertEquals(200, who.statusCode());
    assertEquals(false, who.bodyAsJsonObject().getBoolean("signed_in"));
    assertTrue(who.getHeader("Set-Cookie").contains("Max-Age=0"), who.getHeader("Set-Cookie"));
  }

  @Test
  @Order(12)
  void aDeveloperDeploysAModelWatchesItBecomeReadyAndDeletesIt() throws Exception {
    String developer = gw.newKey("acme", "developer");
    browser.get(base + "/");
    wait.until(d -> d.findElement(By.id("key"))).sendKeys(developer, Keys.ENTER);
    try {
      deployWatchAndDelete();
    } finally {
      // Signed out whatever happened: the tests after this one sign in with other keys.
      browser.switchTo().defaultContent();
      if (!browser.findElements(By.id("signout")).isEmpty()) {
        browser.findElement(By.id("signout")).click();
        wait.until(d -> !d.findElements(By.id("key")).isEmpty());
      }
    }
  }

  private void deployWatchAndDelete() throws Exception {
    wait.until(d -> d.findElement(By.cssSelector("nav a[data-page=deploy]")).isDisplayed());
    browser.findElement(By.cssSelector("nav a[data-page=deploy]")).click();
    WebElement file = wait.until(d -> d.findElement(By.id("deploy-file")));
    file.sendKeys(TestGateway.model("add.onnx").toAbsolutePath().normalize().toString());
    assertEquals("add", browser.findElement(By.id("deploy-name")).getAttribute("value"), "the name follows the file");
    WebElement name = browser.findElement(By.id("deploy-name"));
    name.sendKeys(Keys.chord(Keys.CONTROL, "a"), "console-add");
    browser.findElement(By.id("deploy-category")).sendKeys("math");
    browser.findElement(By.id("deploy-description")).sendKeys("Adds two tensors");
    WebElement price = browser.findElement(By.id("deploy-price"));
    price.sendKeys(Keys.chord(Keys.CONTROL, "a"), "120");
    // Keyboard: the form is sent with Enter from its last field.
    new Select(browser.findElement(By.id("deploy-visibility"))).selectByValue("private");
    price.sendKeys(Keys.ENTER);
    wait.until(d -> "ready".equals(d.findElement(By.cssSelector("#deploy-status [data-testid=deploy-state]")).getText()));
    assertEquals("100", browser.findElement(By.id("deploy-progress")).getAttribute("value"), "the upload reached 100 %");
    assertFalse(browser.findElement(By.id("deploy-status")).getText().contains("null"), "no absent part printed");
    WebElement report = browser.findElement(By.cssSelector("[data-testid=deploy-report]"));
    assertTrue(report.getText().contains("sandbox_load"), report.getText());
    // The steps ticked while it ran: the page saw at least one running, and each is done now.
    WebElement steps = browser.findElement(By.id("deploy-steps"));
    assertFalse(steps.getAttribute("data-seen-running").isBlank(), "a step was seen running");
    assertEquals(6, steps.findElements(By.cssSelector("li[data-state=done]")).size(), steps.getText());
    JsonObject progress = gw.get("/api/functions/console-add/versions/1/verification").bodyAsJsonObject();
    assertEquals("ready", progress.getString("state"));
    assertTrue(progress.getJsonArray("checks").stream().map(JsonObject.class::cast)
        .anyMatch(c -> c.getString("name").equals("sandbox_load") && c.getBoolean("passed")), progress.encode());
    // Another tenant's private version: its verification is not there for them either.
    assertEquals(404, gw.client.get(gw.port(), "127.0.0.1", "/api/functions/console-add/versions/1/verification")
        .bearerTokenAuthentication(rivalKey).send().await(10, TimeUnit.SECONDS).statusCode());
    wait.until(d -> !d.findElements(By.cssSelector("[data-testid=version-console-add-1]")).isEmpty());
    assertTrue(browser.findElement(By.cssSelector("[data-testid=version-console-add-1]")).getText().contains("ready"));
    JsonObject stored = gw.get("/api/functions/console-add").bodyAsJsonObject();
    assertEquals("acme", stored.getString("owner"));
    assertEquals("private", stored.getString("visibility"));
    assertEquals(120, stored.getJsonObject("price").getInteger("per_request_micro_usd"));
    shot("deploy");

    // A bad name is refused by the page before any upload, saying what was wrong.
    name.sendKeys(Keys.chord(Keys.CONTROL, "a"), "Bad Name");
    browser.findElement(By.id("deploy-submit")).click();
    assertTrue(wait.until(d -> d.findElement(By.cssSelector("#deploy-status .error"))).getText().contains("lower-case"));

    // The store's "My functions": the tenant's own only (GET /api/functions?mine=true), and back.
    browser.findElement(By.cssSelector("nav a[data-page=store]")).click();
    wait.until(d -> cards().size() >= 5);
    browser.findElement(By.id("mine")).sendKeys(Keys.SPACE);
    wait.until(d -> cards().equals(List.of("console-add")));
    browser.findElement(By.id("mine")).sendKeys(Keys.SPACE);
    wait.until(d -> cards().size() >= 5);
    assertEquals(400, gw.get("/api/functions?mine=yes").statusCode());
    browser.findElement(By.cssSelector("nav a[data-page=deploy]")).click();
    wait.until(d -> !d.findElements(By.id("delete-console-add")).isEmpty());

    // Delete asks first: dismissed, nothing happens; accepted, the function is gone.
    browser.findElement(By.id("delete-console-add")).click();
    browser.switchTo().alert().dismiss();
    assertEquals(200, gw.get("/api/functions/console-add").statusCode());
    browser.findElement(By.id("delete-console-add")).click();
    browser.switchTo().alert().accept();
    wait.until(d -> d.findElements(By.id("delete-console-add")).isEmpty());
    assertEquals(404, gw.get("/api/functions/console-add").statusCode());

    // The developer's billing page: earnings, credits, settlements and the payout address.
    browser.findElement(By.cssSelector("nav a[data-page=usage]")).click();
    WebElement address = wait.until(d -> d.findElement(By.id("payout-address")));
    assertNotNull(browser.findElement(By.id("earned")));
    address.sendKeys("0x12");
    address.sendKeys(Keys.ENTER);
    assertTrue(wait.until(d -> d.findElement(By.cssSelector("#payout-form .error"))).getText().contains("40 hex digits"));
    address.sendKeys(Keys.chord(Keys.CONTROL, "a"), "0x00000000000000000000000000000000000000aa", Keys.ENTER);
    wait.until(d -> !d.findElements(By.cssSelector("[data-testid=payout-saved]")).isEmpty());
    assertEquals("0x00000000000000000000000000000000000000aa",
        new JsonObject(gw.get("/api/payout-address?tenant=acme").bodyAsString()).getString("address").toLowerCase(java.util.Locale.ROOT));
    shot("billing-developer");
  }

  @Test
  @Order(13)
  void anAdminSeesTheNodesPageOnAPhone() throws Exception {
    browser.manage().window().setSize(new Dimension(360, 780));
    try {
      browser.get(base + "/");
      wait.until(d -> d.findElement(By.id("key"))).sendKeys(TestGateway.ADMIN_KEY, Keys.ENTER);
      wait.until(d -> !d.findElements(By.cssSelector("#results li.card")).isEmpty());
      assertTrue(cards().contains("rival-secret"), "an admin sees every function");
      Long overflow = (Long) ((JavascriptExecutor) browser).executeScript(
          "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
      assertTrue(overflow <= 0, "no sideways scrolling at 360 px: " + overflow);
      shot("store-phone");
      browser.findElement(By.cssSelector("nav a[data-page=nodes]")).click();
      wait.until(d -> !d.findElements(By.cssSelector("#main table tbody tr")).isEmpty());
      shot("nodes-phone");
      browser.findElement(By.id("signout")).click();
      wait.until(d -> !d.findElements(By.id("key")).isEmpty());
    } finally {
      browser.manage().window().setSize(new Dimension(1280, 900));
    }
  }

  @Test
  @Order(14)
  void anOperatorIsOfferedTheNodesPageOnly() throws Exception {
    String operator = new JsonObject(gw.post("/api/operator-keys", "{\"name\":\"console\"}").bodyAsString()).getString("secret");
    browser.get(base + "/");
    wait.until(d -> d.findElement(By.id("key"))).sendKeys(operator, Keys.ENTER);
    wait.until(d -> !d.findElements(By.cssSelector("#main table tbody tr")).isEmpty());
    assertTrue(browser.getCurrentUrl().endsWith("#/nodes"), browser.getCurrentUrl());
    List<String> offered = browser.findElements(By.cssSelector("nav a")).stream().filter(WebElement::isDisplayed)
        .map(WebElement::getText).toList();
    assertEquals(List.of("Nodes"), offered);
    browser.get(base + "/#/store");
    assertEquals("An operator key may not use this page.",
        wait.until(d -> d.findElement(By.cssSelector("[data-testid=forbidden]"))).getText());
    browser.findElement(By.id("signout")).click();
    wait.until(d -> !d.findElements(By.id("key")).isEmpty());
  }

  @Test
  @Order(15)
  void aRevokedKeyEndsItsSessions() throws Exception {
    String key = gw.newKey("acme", "developer");
    HttpResponse<Buffer> in = raw("POST", "/api/session").sendJsonObject(new JsonObject().put("key", key))
        .await(10, TimeUnit.SECONDS);
    assertEquals(201, in.statusCode(), in.bodyAsString());
    String setCookie = in.getHeader("Set-Cookie");
    String lower = setCookie.toLowerCase(java.util.Locale.ROOT);
    assertTrue(lower.contains("; httponly") && lower.contains("; samesite=strict") && lower.contains("; path=/")
        && !lower.contains("; secure"), "no Secure without TLS: " + setCookie);
    assertFalse(setCookie.contains(key) || in.bodyAsString().contains(key), "the key is not echoed");
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    JsonObject me = raw("GET", "/api/session").putHeader("Cookie", cookie).send().await(10, TimeUnit.SECONDS).bodyAsJsonObject();
    assertEquals("developer", me.getString("role"));
    assertEquals(in.bodyAsJsonObject().getString("csrf_token"), me.getString("csrf_token"));
    String keyId = me.getString("key_id");
    assertEquals(200, gw.delete("/api/tenants/acme/keys/" + keyId).statusCode());
    assertEquals(401, raw("GET", "/api/functions").putHeader("Cookie", cookie).send().await(10, TimeUnit.SECONDS).statusCode());
    // Bad sign-ins say what was wrong.
    assertEquals(415, raw("POST", "/api/session").putHeader("Content-Type", "text/plain").sendBuffer(Buffer.buffer("key=x"))
        .await(10, TimeUnit.SECONDS).statusCode());
    assertEquals(400, raw("POST", "/api/session").sendJsonObject(new JsonObject()).await(10, TimeUnit.SECONDS).statusCode());
    assertEquals(401, raw("POST", "/api/session").sendJsonObject(new JsonObject().put("key", key))
        .await(10, TimeUnit.SECONDS).statusCode());
  }

  @Test
  @Order(17)
  void anAdminMakesAKeyAndSeesItsSecretOnlyOnce() throws Exception {
    signIn(TestGateway.ADMIN_KEY);
    try {
      wait.until(d -> d.findElement(By.cssSelector("nav a[data-page=admin]")).isDisplayed());
      browser.findElement(By.cssSelector("nav a[data-page=admin]")).click();
      wait.until(d -> !d.findElements(By.cssSelector("#admin-tenants button[data-tenant=rival]")).isEmpty());
      String tiers = browser.findElement(By.id("admin-tiers")).getText();
      assertTrue(tiers.contains("pro") && tiers.contains("acme") && tiers.contains("rival"), "the tiers and who is on each: " + tiers);
      // A new tenant from the keyboard, then a developer key for it.
      browser.findElement(By.id("tenant-id")).sendKeys("console-t");
      new Select(browser.findElement(By.id("tenant-tier"))).selectByValue("pro");
      browser.findElement(By.id("tenant-name")).sendKeys("Console tenant", Keys.ENTER);
      wait.until(d -> d.findElement(By.id("key-form-title")).getText().equals("New key for console-t"));
      assertEquals("pro", new JsonObject(gw.get("/api/tenants/console-t").bodyAsString()).getString("tier"));
      new Select(browser.findElement(By.id("key-role"))).selectByValue("developer");
      browser.findElement(By.id("key-name")).sendKeys("ci", Keys.ENTER);
      String secret = wait.until(d -> d.findElement(By.cssSelector("[data-testid=new-secret]"))).getText();
      wait.until(d -> d.findElements(By.cssSelector("#admin-keys tbody tr")).size() == 1);
      HttpResponse<Buffer> in = raw("POST", "/api/session").sendJsonObject(new JsonObject().put("key", secret))
          .await(10, TimeUnit.SECONDS);
      assertEquals(201, in.statusCode(), "the secret shown is the key: " + in.bodyAsString());
      assertEquals("developer", in.bodyAsJsonObject().getString("role"));
      assertFalse(browser.findElement(By.id("admin-keys")).getText().contains(secret), "the key list has no secret");
      shot("admin");
      // A reload asks the API again, which never answers a secret: it is gone.
      browser.navigate().refresh();
      wait.until(d -> !d.findElements(By.cssSelector("#admin-tenants button[data-tenant=console-t]")).isEmpty());
      assertTrue(browser.findElements(By.cssSelector("[data-testid=new-secret]")).isEmpty());
      browser.findElement(By.cssSelector("#admin-tenants button[data-tenant=console-t]")).click();
      WebElement revoke = wait.until(d -> d.findElement(By.cssSelector("#admin-keys button[data-key]")));
      assertFalse(browser.getPageSource().contains(secret), "the secret is nowhere after a reload");
      revoke.click();
      browser.switchTo().alert().accept();
      wait.until(d -> d.findElement(By.id("admin-keys")).getText().contains("revoked"));
      assertEquals(401, raw("POST", "/api/session").sendJsonObject(new JsonObject().put("key", secret))
          .await(10, TimeUnit.SECONDS).statusCode(), "a revoked key signs in no more");
      // The tier picker in the tenant's row moves it (PUT /api/tenants/{id}).
      new Select(browser.findElement(By.cssSelector("#admin-tenants select[data-tenant-tier=console-t]"))).selectByValue("free");
      wait.until(d -> d.findElement(By.cssSelector("[data-testid=tenant-moved]")).getText().equals("Moved console-t to tier free."));
      assertEquals("free", new JsonObject(gw.get("/api/tenants/console-t").bodyAsString()).getString("tier"));
      // Bad input is refused by the page, naming the field; a taken id by the API (409).
      WebElement id = browser.findElement(By.id("tenant-id"));
      id.sendKeys("Bad Id", Keys.ENTER);
      assertTrue(wait.until(d -> d.findElement(By.cssSelector("#tenant-form .error"))).getText().contains("lower-case"));
      expectedErrors.add("/api/tenants");
      id.sendKeys(Keys.chord(Keys.CONTROL, "a"), "acme", Keys.ENTER);
      wait.until(d -> d.findElement(By.cssSelector("#tenant-form .error")).getText().startsWith("409"));
    } finally {
      signOut();
    }
  }

  @Test
  @Order(18)
  void theFunctionPageChartsBenchmarkRunsAndTakesARating() throws Exception {
    // Two benchmark runs of iris on a dataset of its own (the admin's: approved at once).
    String csv = Files.readString(Path.of("src/main/resources/demo/iris.csv"));
    HttpResponse<Buffer> ds = gw.post("/api/datasets", new JsonObject().put("name", "iris-console").put("function", "iris")
        .put("public", false).put("format", "csv").put("content", csv).encode());
    assertEquals(201, ds.statusCode(), ds.bodyAsString());
    String dataset = ds.bodyAsJsonObject().getString("id");
    for (int i = 0; i < 2; i++) {
      HttpResponse<Buffer> run = gw.post("/api/benchmarks", new JsonObject().put("function", "iris").put("dataset", dataset).encode());
      assertEquals(200, run.statusCode(), run.bodyAsString());
      assertEquals("done", run.bodyAsJsonObject().getString("state"), run.bodyAsString());
    }
    JsonObject before = gw.get("/api/functions/iris/ratings").bodyAsJsonObject();
    long count = before.getLong("count");
    double sum = before.getDouble("average") * count;
    signIn(TestGateway.ADMIN_KEY);
    try {
      browser.get(base + "/#/fn/iris");
      // A chart per metric, a dot per finished run (the scheduler may have added its own).
      wait.until(d -> d.findElements(By.cssSelector("#runs svg.chart.line")).size() >= 2);
      for (WebElement chart : browser.findElements(By.cssSelector("#runs svg.chart.line"))) {
        assertTrue(chart.findElements(By.cssSelector("circle.dot")).size() >= 2, chart.getAttribute("aria-label"));
      }
      assertTrue(browser.findElement(By.id("runs")).getText().contains("manual"), "the runs' table");
      // The ratings: acme's (an earlier test) is there; the admin's 3 with text moves the average.
      wait.until(d -> d.findElement(By.cssSelector("[data-testid=rating-count]")).getText().equals(String.valueOf(count)));
      assertEquals(String.format(java.util.Locale.ROOT, "%.2f ★", sum / count),
          browser.findElement(By.cssSelector("[data-testid=rating-average]")).getText());
      browser.findElement(By.id("rating-submit")).click();
      assertTrue(wait.until(d -> d.findElement(By.cssSelector("#rating-form .error"))).getText().contains("stars"));
      browser.findElement(By.id("stars-3")).sendKeys(Keys.SPACE);
      browser.findElement(By.id("rating-feedback")).sendKeys("Right on the test rows, a bit slow");
      browser.findElement(By.id("rating-submit")).sendKeys(Keys.ENTER);
      wait.until(d -> d.findElement(By.cssSelector("[data-testid=rating-count]")).getText().equals(String.valueOf(count + 1)));
      String average = String.format(java.util.Locale.ROOT, "%.2f ★", (sum + 3) / (count + 1));
      assertEquals(average, browser.findElement(By.cssSelector("[data-testid=rating-average]")).getText());
      String feedback = browser.findElement(By.id("rating-recent")).getText();
      assertTrue(feedback.contains("a bit slow"), feedback);
      for (Object r : before.getJsonArray("ratings")) {
        String earlier = ((JsonObject) r).getString("feedback");
        assertTrue(earlier == null || feedback.contains(earlier), "earlier feedback shown too: " + feedback);
      }
      JsonObject stored = gw.get("/api/functions/iris/ratings").bodyAsJsonObject();
      assertEquals((sum + 3) / (count + 1), stored.getDouble("average"), 1e-9);
      ((JavascriptExecutor) browser).executeScript("document.getElementById('runs-h').scrollIntoView()");
      shot("function-runs-ratings");
    } finally {
      signOut();
    }
  }

  @Test
  @Order(19)
  void theNodesPageShowsReputationOverTimeSlashesWithEvidenceAndStake() throws Exception {
    // An attached worker: the ledger tracks (and penalizes) only those.
    String node = gw.get("/api/nodes").bodyAsJsonObject().getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> n.getBoolean("attached")).findFirst().orElseThrow().getString("node_id");
    assertEquals(200, gw.post("/api/nodes/" + node + "/stake", "{\"amount_micro_usd\":250000}").statusCode());
    gw.gateway.ledger().penalize(node, "deadline_miss", "console test: a cancelled run kept running")
        .await(10, TimeUnit.SECONDS);
    // The history route: paged by id, bounded, for admins and operators only.
    String events = "/api/nodes/" + node + "/events";
    // (Benchmark runs of the test before may still be adding agreements: each page is checked for what it must hold.)
    List<String> kinds = gw.get(events + "?limit=50").bodyAsJsonObject().getJsonArray("events").stream()
        .map(e -> ((JsonObject) e).getString("kind")).toList();
    assertTrue(kinds.indexOf("deadline_miss") >= 0 && kinds.indexOf("deadline_miss") < kinds.indexOf("deposit"), kinds.toString());
    JsonObject first = gw.get(events + "?limit=1").bodyAsJsonObject();
    assertEquals(1, first.getJsonArray("events").size(), first.encode());
    long next = first.getLong("next_before");
    JsonObject second = gw.get(events + "?limit=1&before=" + next).bodyAsJsonObject();
    assertTrue(second.getJsonArray("events").getJsonObject(0).getLong("id") < next, second.encode());
    for (String bad : List.of("?limit=0", "?limit=501", "?before=x", "?before=-1")) {
      assertEquals(400, gw.get(events + bad).statusCode(), bad);
    }
    assertEquals(404, gw.get("/api/nodes/no-such-node/events").statusCode());
    assertEquals(403, gw.client.get(gw.port(), "127.0.0.1", events).bearerTokenAuthentication(userKey).send()
        .await(10, TimeUnit.SECONDS).statusCode(), "a user key reads no node history");
    String operator = new JsonObject(gw.post("/api/operator-keys", "{\"name\":\"history\"}").bodyAsString()).getString("secret");
    assertEquals(200, gw.client.get(gw.port(), "127.0.0.1", events).bearerTokenAuthentication(operator).send()
        .await(10, TimeUnit.SECONDS).statusCode(), "an operator does");

    signIn(TestGateway.ADMIN_KEY);
    try {
      browser.get(base + "/#/nodes");
      // Keyboard: Enter on the node's link (in one step: the table may be re-rendered under a handle).
      wait.until(d -> {
        d.findElement(By.cssSelector("a[data-node='" + node + "']")).sendKeys(Keys.ENTER);
        return true;
      });
      new WebDriverWait(browser, Duration.ofSeconds(20)).withMessage(() -> browser.getCurrentUrl() + " shows: "
          + browser.findElement(By.id("main")).getText() + " / logs: " + browser.manage().logs().get(LogType.BROWSER).getAll())
          .until(d -> !d.findElements(By.cssSelector("#reputation-chart circle.dot")).isEmpty());
      WebElement slashes = browser.findElement(By.id("node-slashes"));
      assertTrue(slashes.getText().contains("deadline_miss"), slashes.getText());
      slashes.findElement(By.tagName("summary")).click();
      assertTrue(wait.until(d -> d.findElement(By.cssSelector("#node-slashes pre"))).getText().contains("a cancelled run kept running"));
      assertTrue(browser.findElement(By.id("node-events")).getText().contains("deposit"));
      assertFalse(browser.findElement(By.cssSelector("[data-testid=node-stake]")).getText().isBlank());
      shot("nodes-history");
      // A node gone for two days is not in the list any more (it holds the nodes that matter now), but its page opens.
      io.inferium.infra.Database db = io.inferium.infra.Database.open(gw.vertx, gw.db.settings()).await(30, TimeUnit.SECONDS);
      try {
        db.pool().query("INSERT INTO nodes (node_id, first_seen, updated_at) VALUES ('n-console-gone', "
            + "now() - interval '2 days', now() - interval '2 days')").execute().await(10, TimeUnit.SECONDS);
      } finally {
        db.close().await(10, TimeUnit.SECONDS);
      }
      browser.get(base + "/#/nodes/n-console-gone");
      new WebDriverWait(browser, Duration.ofSeconds(20)).withMessage(() -> browser.findElement(By.id("main")).getText())
          .until(d -> d.findElement(By.id("node-detail")).getText().contains("No events yet"));
      assertTrue(browser.findElements(By.cssSelector("a[data-node='n-console-gone']")).isEmpty(), "not listed");
      // On a phone: the node's history and the admin page fit 360 px without sideways scrolling.
      browser.manage().window().setSize(new Dimension(360, 780));
      assertEquals(0L, sidewaysOverflow(), "node history at 360 px");
      browser.get(base + "/#/admin");
      wait.until(d -> !d.findElements(By.cssSelector("#admin-tenants button[data-tenant=acme]")).isEmpty());
      assertEquals(0L, sidewaysOverflow(), "admin at 360 px");
      shot("admin-phone");
    } finally {
      browser.manage().window().setSize(new Dimension(1280, 900));
      signOut();
    }
  }

  /**
   * Every page an admin can open, in light and dark colours: each text meets WCAG's contrast (4.5:1, 3:1 when large),
   * and every link and button of the page can be reached with the Tab key. How long each page took from the click to
   * its heading and data is logged (a figure for docs/BENCHMARKS.md, not an assertion).
   */
  @Test
  @Order(29)
  void everyPageHasReadableContrastAndIsReachableByKeyboard() throws Exception {
    String contrast = new String(ConsoleIT.class.getResourceAsStream("/console/contrast.js").readAllBytes(),
        java.nio.charset.StandardCharsets.UTF_8);
    JavascriptExecutor js = (JavascriptExecutor) browser;
    browser.get(base + "/");
    signOut();
    signIn(TestGateway.ADMIN_KEY);
    try {
      List<String> pages = browser.findElements(By.cssSelector("nav a[data-page]")).stream().filter(WebElement::isDisplayed)
          .map(a -> a.getAttribute("data-page")).toList();
      assertEquals(List.of("store", "arena", "leaderboards", "usage", "deploy", "nodes", "admin"), pages);
      List<String> problems = new ArrayList<>();
      StringBuilder times = new StringBuilder();
      for (String scheme : List.of("light", "dark")) {
        ((org.openqa.selenium.chromium.HasCdp) browser).executeCdpCommand("Emulation.setEmulatedMedia",
            Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", scheme))));
        for (String page : pages) {
          long start = System.nanoTime();
          browser.findElement(By.cssSelector("nav a[data-page=" + page + "]")).click();
          // Ready: the page drew its heading, which each page does with the answers to its first requests.
          wait.until(d -> !d.findElements(By.cssSelector("#main .view h1")).isEmpty()
              && !d.findElements(By.cssSelector("#main .view > :nth-child(2)")).isEmpty());
          times.append(String.format(java.util.Locale.ROOT, " %s/%s %.0f ms", scheme, page, (System.nanoTime() - start) / 1e6));
          @SuppressWarnings("unchecked")
          Map<String, Object> result = (Map<String, Object>) js.executeScript(contrast);
          assertTrue(((Number) result.get("checked")).longValue() > 3, page + ": texts were checked");
          for (Object f : (List<?>) result.get("failures")) {
            problems.add(scheme + " #/" + page + ": " + f);
          }
          if (scheme.equals("light")) {
            // Tab from the top of the document: every visible control of the page is reached (one per radio group).
            @SuppressWarnings("unchecked")
            List<Long> targets = (List<Long>) js.executeScript("""
                document.activeElement.blur(); window.scrollTo(0, 0);
                const all = [...document.querySelectorAll('#main *')];
                const seen = new Set();
                return all.map((e, i) => [e, i]).filter(([e]) => e.matches('a[href], button, input, select, textarea')
                    && !e.disabled && e.tabIndex >= 0 && e.offsetParent !== null && e.type !== 'hidden'
                    && !(e.type === 'radio' && (seen.has(e.name) || !seen.add(e.name))))
                  .map(([, i]) => i);""");
            java.util.Set<Long> reached = new java.util.HashSet<>();
            org.openqa.selenium.interactions.Actions tab = new org.openqa.selenium.interactions.Actions(browser);
            for (int i = 0; i < Math.min(400, targets.size() + 40) && !reached.containsAll(targets); i++) {
              tab.sendKeys(Keys.TAB).perform();
              Object at = js.executeScript("const e = document.activeElement;"
                  + " return e && e.closest('#main') ? [...document.querySelectorAll('#main *')].indexOf(e) : null;");
              if (at instanceof Number n) {
                reached.add(n.longValue());
              }
            }
            List<Long> missed = targets.stream().filter(t -> !reached.contains(t)).toList();
            assertTrue(missed.isEmpty(), page + ": " + missed.size() + " of " + targets.size() + " controls not reached by Tab");
          }
        }
      }
      System.out.println("ConsoleIT page times (click to heading and data):" + times);
      assertTrue(problems.isEmpty(), "contrast below WCAG AA:\n" + String.join("\n", problems));
    } finally {
      ((org.openqa.selenium.chromium.HasCdp) browser).executeCdpCommand("Emulation.setEmulatedMedia",
          Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "light"))));
      signOut();
    }
  }

  /** Last: it spends this address's budget of unknown keys. */
  @Test
  @Order(30)
  void guessingKeysAtSignInRunsIntoTheMissBudget() throws Exception {
    int status = 0;
    for (int i = 0; i < 40 && status != 429; i++) {
      status = raw("POST", "/api/session").sendJsonObject(new JsonObject().put("key", "inf_guess_" + i))
          .await(10, TimeUnit.SECONDS).statusCode();
      assertTrue(status == 401 || status == 429, "status " + status);
    }
    assertEquals(429, status, "sign-in attempts are throttled");
    // Random session ids are charged to the same budget.
    assertEquals(429, raw("GET", "/api/functions").putHeader("Cookie", "inferium_session=" + "A".repeat(43))
        .send().await(10, TimeUnit.SECONDS).statusCode());
  }

  private void signIn(String key) {
    browser.get(base + "/");
    wait.until(d -> d.findElement(By.id("key"))).sendKeys(key, Keys.ENTER);
    wait.until(d -> !d.findElements(By.id("signout")).isEmpty());
  }

  /** Signed out whatever happened: the tests after one sign in with other keys. */
  private void signOut() {
    browser.switchTo().defaultContent();
    if (!browser.findElements(By.id("signout")).isEmpty()) {
      browser.findElement(By.id("signout")).click();
      wait.until(d -> !d.findElements(By.id("key")).isEmpty());
    }
  }

  private long sidewaysOverflow() {
    Long overflow = (Long) ((JavascriptExecutor) browser).executeScript(
        "return Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth);");
    return overflow;
  }

  private HttpRequest<Buffer> raw(String method, String path) {
    return gw.client.request(io.vertx.core.http.HttpMethod.valueOf(method), gw.port(), "127.0.0.1", path);
  }

  private HttpResponse<Buffer> deployAs(String key, JsonObject spec, Path model) throws Exception {
    var form = io.vertx.ext.web.multipart.MultipartForm.create().attribute("spec", spec.encode())
        .binaryFileUpload("model", model.getFileName().toString(), model.toString(), "application/octet-stream");
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions").bearerTokenAuthentication(key)
        .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
  }

  private JsonArray keysOf(String tenant) throws Exception {
    return gw.get("/api/tenants/" + tenant + "/keys").bodyAsJsonObject().getJsonArray("keys");
  }

  /** A fetch from the console's page (its cookie rides along); with the page's CSRF token when {@code token}. */
  private int fetch(String method, String path, String body, boolean token) {
    Object status = ((JavascriptExecutor) browser).executeAsyncScript("""
        const [method, path, body, token, done] = arguments;
        const headers = {'Content-Type': 'application/json'};
        const go = (csrf) => fetch(path, {method, headers: csrf ? {...headers, 'X-CSRF-Token': csrf} : headers,
            body: body === null ? undefined : body}).then(r => done(r.status), e => done(-1));
        if (token) fetch('/api/session').then(r => r.json()).then(s => go(s.csrf_token)); else go(null);
        """, method, path, body, token);
    return ((Long) status).intValue();
  }

  private void assertKeyNowhereScriptsCanRead() {
    JavascriptExecutor js = (JavascriptExecutor) browser;
    String stored = (String) js.executeScript("""
        const all = [document.cookie];
        for (const s of [localStorage, sessionStorage]) for (let i = 0; i < s.length; i++) all.push(s.key(i), s.getItem(s.key(i)));
        return all.join('\\n');""");
    assertFalse(stored.contains(userKey), "the key is readable by scripts");
    assertFalse(stored.contains("inferium_session"), "the session cookie is HttpOnly");
    Cookie c = browser.manage().getCookieNamed("inferium_session");
    assertTrue(c.isHttpOnly(), "HttpOnly");
    assertEquals("Strict", c.getSameSite());
    assertFalse(browser.findElement(By.tagName("html")).getAttribute("outerHTML").contains(userKey), "not in the DOM");
  }

  private List<String> cards() {
    // In one script: the store re-renders its cards while a search runs, which would leave element handles stale.
    @SuppressWarnings("unchecked")
    List<String> names = (List<String>) ((JavascriptExecutor) browser).executeScript(
        "return [...document.querySelectorAll('#results li.card')].map(e => e.dataset.name);");
    return names;
  }

  private void shot(String name) throws Exception {
    Files.write(SHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
  }
}
