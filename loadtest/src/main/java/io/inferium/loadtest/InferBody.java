package io.inferium.loadtest;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/** A fixed inference request body and the headers that go with it. */
public record InferBody(Buffer bytes, MultiMap headers) {

  /** A body read from a file (or given inline): sent as JSON. */
  public static InferBody json(Buffer json) {
    return new InferBody(json, MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json"));
  }

  /** One FP32 row {@code [1, width]} of fixed-seed values, as V2 JSON. */
  public static InferBody jsonRow(String input, int width, long seed) {
    return jsonRow(input, new long[] {1, width}, seed);
  }

  /** One FP32 tensor of {@code shape} (leading 1 for one row) of fixed-seed values, as V2 JSON. */
  public static InferBody jsonRow(String input, long[] shape, long seed) {
    JsonArray data = new JsonArray();
    for (float v : row(elements(shape), seed)) {
      data.add(v);
    }
    JsonObject req = new JsonObject().put("inputs", new JsonArray().add(new JsonObject()
        .put("name", input).put("shape", shapeJson(shape)).put("datatype", "FP32").put("data", data)));
    return json(req.toBuffer());
  }

  /**
   * The same row with Triton's binary tensor extension: the JSON header, then the raw little-endian
   * floats; {@code Inference-Header-Content-Length} says where the JSON ends.
   */
  public static InferBody binaryRow(String input, int width, long seed) {
    return binaryRow(input, new long[] {1, width}, seed);
  }

  /** {@link #binaryRow(String, int, long)} for a tensor of any {@code shape}. */
  public static InferBody binaryRow(String input, long[] shape, long seed) {
    int width = elements(shape);
    float[] values = row(width, seed);
    JsonObject req = new JsonObject().put("inputs", new JsonArray().add(new JsonObject()
        .put("name", input).put("shape", shapeJson(shape)).put("datatype", "FP32")
        .put("parameters", new JsonObject().put("binary_data_size", 4 * width))));
    byte[] header = req.encode().getBytes(StandardCharsets.UTF_8);
    Buffer body = Buffer.buffer(header.length + 4 * width).appendBytes(header);
    for (float v : values) {
      body.appendFloatLE(v);
    }
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("Content-Type", "application/octet-stream")
        .add("Inference-Header-Content-Length", Integer.toString(header.length));
    return new InferBody(body, headers);
  }

  static int elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  private static JsonArray shapeJson(long[] shape) {
    JsonArray a = new JsonArray();
    for (long d : shape) {
      a.add(d);
    }
    return a;
  }

  static float[] row(int width, long seed) {
    Random r = new Random(seed);
    float[] out = new float[width];
    for (int i = 0; i < width; i++) {
      out[i] = (float) r.nextGaussian();
    }
    return out;
  }
}
