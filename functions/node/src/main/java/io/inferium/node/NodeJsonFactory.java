package io.inferium.node;

import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.json.jackson.JacksonFactory;
import io.vertx.core.spi.JsonFactory;
import io.vertx.core.spi.json.JsonCodec;

/**
 * Vert.x's JSON codec in a node: Jackson's streaming parser and generator ({@link JacksonCodec}), not the databind
 * codec Vert.x picks whenever jackson-databind is on the class path (Jinjava brings it, and uses it only to render
 * templates). A node's JSON is frames made of JSON types only, and building databind's {@code ObjectMapper} was about
 * a seventh of the Java work of a worker's start (docs/BENCHMARKS.md, "A worker's start-up CPU"). Found by
 * {@code ServiceLoader}; in any JVM {@link NodeMain} did not start (the gateway's tests hold the node on their class
 * path) it hands out Vert.x's own choice unchanged.
 */
public final class NodeJsonFactory implements JsonFactory {

  @Override
  public JsonCodec codec() {
    return Boolean.getBoolean(NodeLogging.NODE_PROPERTY) ? new JacksonCodec() : JacksonFactory.CODEC;
  }
}
