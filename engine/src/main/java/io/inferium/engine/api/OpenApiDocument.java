package io.inferium.engine.api;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;

/**
 * The gateway's OpenAPI 3.1 contract, {@code GET /openapi.json}, open to all: it is public contract, like the KServe
 * and OpenAI specifications it follows. The document is kept by hand next to the routes in the jar
 * ({@value #RESOURCE}); {@code OpenApiIT} fails when a route is added without documenting it or a documented route
 * stops answering. Read once at start on a worker thread, served from memory.
 */
public final class OpenApiDocument {

  /** Where the document lives on the class path. */
  public static final String RESOURCE = "io/inferium/engine/api/openapi.json";
  public static final String PATH = "/openapi.json";

  private volatile Buffer body;

  /** Reads the document from the class path (on a worker thread). */
  public Future<Void> load(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      body = read();
      return null;
    }, false);
  }

  /** The document's bytes as the jar holds them. */
  public static Buffer read() throws IOException {
    try (InputStream in = OpenApiDocument.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException("the OpenAPI document is missing from the jar: " + RESOURCE);
      }
      return Buffer.buffer(in.readAllBytes());
    }
  }

  void mount(Router router) {
    router.get(PATH).handler(ctx -> ctx.response().putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-cache").end(body));
  }
}
