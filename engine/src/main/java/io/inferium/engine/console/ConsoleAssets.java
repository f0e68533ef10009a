package io.inferium.engine.console;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * The web console's static files, served at {@code /} (the page) and {@code /console/*} (scripts, styles, icons).
 * They ship in the jar under {@code console/}, listed in {@code console/assets.txt}, and are read into memory once
 * at start on a worker thread (a few tens of KiB), so serving never touches the disk or blocks the event loop.
 * Every answer carries a strict Content-Security-Policy (scripts and styles from this origin only, no inline
 * script, no framing) and an ETag; the browser revalidates each time ({@code no-cache}), which costs a 304 and
 * never serves a stale console after an upgrade.
 */
public final class ConsoleAssets {

  /** No inline script or style, nothing from another origin, no plugins, no framing, forms only to us. */
  public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
      + "frame-ancestors 'none'; object-src 'none'";
  private static final String ROOT = "console/";
  private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "svg", "image/svg+xml",
      "png", "image/png", "txt", "text/plain; charset=utf-8", "json", "application/json");

  private record Asset(Buffer body, String type, String etag) {}

  private volatile Map<String, Asset> assets = Map.of();

  /** Reads the listed files from the class path (on a worker thread). */
  public Future<Void> load(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      Map<String, Asset> out = new HashMap<>();
      for (String line : read(ROOT + "assets.txt").toString(StandardCharsets.UTF_8).split("\n")) {
        String name = line.strip();
        if (name.isEmpty() || name.startsWith("#")) {
          continue;
        }
        String ext = name.substring(name.lastIndexOf('.') + 1);
        Buffer body = read(ROOT + name);
        String etag = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body.getBytes()), 0, 12) + "\"";
        out.put(name, new Asset(body, TYPES.getOrDefault(ext, "application/octet-stream"), etag));
      }
      assets = Map.copyOf(out);
      return null;
    }, false);
  }

  private static Buffer read(String resource) throws IOException {
    try (InputStream in = ConsoleAssets.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("console asset missing from the jar: " + resource);
      }
      return Buffer.buffer(in.readAllBytes());
    }
  }

  /** {@code GET /} and {@code GET /console/<file>} (HEAD too); anything else under {@code /console/} is 404. */
  public void mount(Router router) {
    router.route("/").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> serve(ctx, "index.html"));
    router.route("/console/*").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(ctx -> serve(ctx, ctx.normalizedPath().substring("/console/".length())));
  }

  private void serve(RoutingContext ctx, String name) {
    Asset a = name.equals("assets.txt") ? null : assets.get(name);
    HttpServerResponse res = ctx.response();
    headers(res);
    if (a == null) {
      res.setStatusCode(404).putHeader("Content-Type", "application/json")
          .end(new io.vertx.core.json.JsonObject().put("error", "no console file '" + name + "'").encode());
      return;
    }
    res.putHeader("ETag", a.etag()).putHeader("Cache-Control", "no-cache");
    if (a.etag().equals(ctx.request().getHeader("If-None-Match"))) {
      res.setStatusCode(304).end();
      return;
    }
    res.putHeader("Content-Type", a.type());
    if (ctx.request().method() == HttpMethod.HEAD) {
      res.putHeader("Content-Length", Integer.toString(a.body().length())).end();
    } else {
      res.end(a.body());
    }
  }

  /** The security headers of every console answer. */
  public static void headers(HttpServerResponse res) {
    res.putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Cross-Origin-Opener-Policy", "same-origin")
        .putHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  }
}
