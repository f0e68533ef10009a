package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Mutated multipart deploy bodies against a real gateway (a fixed seed; {@code -Dinferium.fuzz.deploys=N}
 * for a longer run): every one is answered within the deadline with a 4xx JSON error, or with 202 when
 * the mutation happened to leave a well-formed deploy; never a 5xx, never a hang. Afterwards the
 * gateway still answers a normal inference correctly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployFuzzIT {

  private TestGateway gw;

  @BeforeAll
  void start() throws Exception {
    gw = TestGateway.start(1);
    assertEquals("ready", gw.deployAndWait(new JsonObject().put("name", "adder"), TestGateway.model("add.onnx"))
        .getString("state"));
  }

  @AfterAll
  void stop() throws Exception {
    gw.close();
  }

  private HttpResponse<Buffer> post(byte[] body, String contentType) throws Exception {
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions")
        .bearerTokenAuthentication(TestGateway.ADMIN_KEY).putHeader("Content-Type", contentType)
        .sendBuffer(Buffer.buffer(body)).await(30, TimeUnit.SECONDS);
  }

  private void assertAddsCorrectly() throws Exception {
    JsonObject request = new JsonObject().put("inputs", new JsonArray()
        .add(new JsonObject().put("name", "a").put("datatype", "FP32").put("shape", new JsonArray().add(1).add(4))
            .put("data", new JsonArray().add(1).add(2).add(3).add(4)))
        .add(new JsonObject().put("name", "b").put("datatype", "FP32").put("shape", new JsonArray().add(1).add(4))
            .put("data", new JsonArray().add(1).add(1).add(1).add(1))));
    HttpResponse<Buffer> ok = gw.infer("adder", request);
    assertEquals(200, ok.statusCode(), ok.bodyAsString());
    JsonObject sum = ok.bodyAsJsonObject().getJsonArray("outputs").stream().map(JsonObject.class::cast)
        .filter(o -> "sum".equals(o.getString("name"))).findFirst().orElseThrow();
    assertEquals(new JsonArray().add(2.0).add(3.0).add(4.0).add(5.0), sum.getJsonArray("data"));
  }

  /** Found by the fuzzer: Vert.x's BodyHandler waited forever for a file part without its closing boundary. */
  @Test
  void aFilePartWithoutItsClosingBoundaryIsA400AndLeavesNoFile() throws Exception {
    byte[] body = new ByteArrayOutputStream() {
      {
        writeBytes(part("Content-Disposition: form-data; name=\"spec\"", "{\"name\":\"unended\"}".getBytes(StandardCharsets.UTF_8)));
        writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"model\"; filename=\"m.onnx\"\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
        writeBytes(Files.readAllBytes(TestGateway.model("add.onnx")));
      }
    }.toByteArray();
    long start = System.nanoTime();
    HttpResponse<Buffer> resp = post(body, "multipart/form-data; boundary=" + BOUNDARY);
    assertEquals(400, resp.statusCode(), resp.bodyAsString());
    assertTrue(resp.bodyAsJsonObject().getString("error").contains("closing boundary"), resp.bodyAsString());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(25));
    java.nio.file.Path uploads = gw.dataDir.resolve("uploads");
    TestGateway.poll("the unfinished upload's file deleted", () -> {
      try (java.util.stream.Stream<java.nio.file.Path> files = Files.list(uploads)) {
        return files.count();
      }
    }, n -> n == 0);
    assertAddsCorrectly();
  }

  private static final long SEED = 20261204L;
  private static final int BODIES = Integer.getInteger("inferium.fuzz.deploys", 40);
  private static final String BOUNDARY = "fuzzBoundary7MA4YWxkTrZu0gW";

  private static byte[] part(String headers, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(("--" + BOUNDARY + "\r\n" + headers + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    out.writeBytes(content);
    out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  private static final List<String> SPEC_WORDS = List.of("name", "kind", "labels", "timeout_ms", "max_batch_size", "price",
      "verification", "text", "visibility", "classifier", "text-generation", "embedding", "policy", "replicas");

  private static Object junk(Random r) {
    return switch (r.nextInt(8)) {
      case 0 -> null;
      case 1 -> r.nextLong();
      case 2 -> List.of(0, -1, 1L << 60, Long.MAX_VALUE, 1e300).get(r.nextInt(5));
      case 3 -> SPEC_WORDS.get(r.nextInt(SPEC_WORDS.size()));
      case 4 -> new JsonArray().add(r.nextInt()).add("x");
      case 5 -> new JsonObject().put(SPEC_WORDS.get(r.nextInt(SPEC_WORDS.size())), r.nextInt(3));
      case 6 -> "x".repeat(r.nextInt(300));
      default -> r.nextBoolean();
    };
  }

  private static byte[] body(Random r, byte[] model) {
    JsonObject spec = new JsonObject().put("name", "fuzz-" + r.nextInt(1000));
    for (int i = r.nextInt(4); i > 0; i--) {
      spec.put(SPEC_WORDS.get(r.nextInt(SPEC_WORDS.size())), junk(r));
    }
    String specText = r.nextInt(5) == 0 ? spec.encode().substring(0, r.nextInt(spec.encode().length())) : spec.encode();
    byte[] modelBytes = model.clone();
    for (int i = r.nextInt(8); i > 0; i--) {
      modelBytes[r.nextInt(modelBytes.length)] = (byte) r.nextInt(256);
    }
    List<byte[]> parts = new ArrayList<>();
    if (r.nextInt(6) != 0) {
      parts.add(part("Content-Disposition: form-data; name=\"" + (r.nextInt(8) == 0 ? "spek" : "spec") + "\"",
          specText.getBytes(StandardCharsets.UTF_8)));
    }
    if (r.nextInt(6) != 0) {
      String field = List.of("model", "model", "model", "tokenizer", "tokenizer_config", "weights").get(r.nextInt(6));
      parts.add(part("Content-Disposition: form-data; name=\"" + field + "\"; filename=\"m.onnx\"\r\n"
          + "Content-Type: application/octet-stream", modelBytes));
    }
    if (r.nextInt(4) == 0) {
      parts.add(part("Content-Disposition: form-data; name=\"model\"; filename=\"again.onnx\"", modelBytes));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    parts.forEach(out::writeBytes);
    if (r.nextInt(5) != 0) {
      out.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
    }
    byte[] bytes = out.toByteArray();
    switch (r.nextInt(6)) {
      case 0 -> { // flip a few bytes anywhere, headers and boundaries included
        for (int i = 1 + r.nextInt(6); i > 0; i--) {
          bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
        }
      }
      case 1 -> bytes = java.util.Arrays.copyOf(bytes, r.nextInt(bytes.length));
      default -> { }
    }
    return bytes;
  }

  /** Found by the fuzzer: Netty's multipart decoder threw a NullPointerException (a 500) on a part without a name. */
  @Test
  void aPartWithoutANameIsA400() throws Exception {
    byte[] body = new ByteArrayOutputStream() {
      {
        writeBytes(part("Content-Disposition: form-data; nome=\"spec\"", "{\"name\":\"nameless\"}".getBytes(StandardCharsets.UTF_8)));
        writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
      }
    }.toByteArray();
    HttpResponse<Buffer> resp = post(body, "multipart/form-data; boundary=" + BOUNDARY);
    assertEquals(400, resp.statusCode(), resp.bodyAsString());
    assertTrue(resp.bodyAsJsonObject().getString("error").startsWith("malformed multipart body"), resp.bodyAsString());
    assertAddsCorrectly();
  }

  @Test
  void mutatedDeploysAreAnswered4xxAndTheGatewayKeepsServing() throws Exception {
    byte[] model = Files.readAllBytes(TestGateway.model("add.onnx"));
    Random r = new Random(SEED);
    int accepted = 0;
    for (int i = 0; i < BODIES; i++) {
      byte[] body = body(r, model);
      String contentType = switch (r.nextInt(10)) {
        case 0 -> "multipart/form-data";
        case 1 -> "multipart/form-data; boundary=other";
        case 2 -> "application/json";
        default -> "multipart/form-data; boundary=" + BOUNDARY;
      };
      long start = System.nanoTime();
      HttpResponse<Buffer> resp = post(body, contentType);
      String what = "body " + i + " (" + body.length + " bytes, " + contentType + "): " + resp.statusCode() + " "
          + resp.bodyAsString();
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), what);
      int status = resp.statusCode();
      assertTrue(status == 202 || (status >= 400 && status < 500), what);
      if (status == 202) {
        accepted++;
      } else {
        assertTrue(resp.bodyAsJsonObject().getString("error") != null, what);
      }
    }
    assertTrue(accepted < BODIES, "the mutations should break most bodies");
    assertAddsCorrectly();
  }
}
