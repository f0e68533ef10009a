package io.inferium.engine.api;

import io.inferium.functions.ModelSignature;
import io.inferium.functions.TensorSpec;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed and signature-checked V2 infer request. With an {@code Inference-Header-Content-Length}
 * header the body is that many bytes of JSON followed by binary tensor data (Triton's binary data
 * extension): inputs with {@code parameters.binary_data_size} take their bytes from there, in order.
 *
 * @param binaryChoice  per output: send it as binary data after the JSON header
 * @param verification  the request's own verification policy ({@code parameters.verification}), or null
 */
record InferRequest(String id, JsonObject parameters, List<Tensor> inputs, List<String> outputs, Long timeoutMicros,
    int priority, Map<String, Boolean> binaryChoice, boolean binaryByDefault,
    io.inferium.functions.FunctionSpec.Verification verification) {

  /** Header naming the length of the JSON part when binary tensor data follow it. */
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  /** Whether this output goes back as binary data: its own {@code binary_data}, else {@code binary_data_output}. */
  boolean binary(String output) {
    return binaryChoice.getOrDefault(output, binaryByDefault);
  }

  /** Priority levels: 1 is served first; requests without one get {@link #DEFAULT_PRIORITY}. */
  static final int MAX_PRIORITY = 9;
  static final int DEFAULT_PRIORITY = 5;

  static InferRequest parse(Buffer raw, ModelSignature sig) {
    return parse(raw, null, sig);
  }

  /** Parses a body whose first {@code headerLength} bytes are JSON (all of it when null). */
  static InferRequest parse(Buffer raw, String headerLength, ModelSignature sig) {
    if (raw == null || raw.length() == 0) {
      throw ApiError.badRequest("empty body: expected a JSON object with an 'inputs' array");
    }
    Buffer json = raw;
    ByteBuffer binary = ByteBuffer.allocate(0);
    if (headerLength != null) {
      int n;
      try {
        n = Integer.parseInt(headerLength.strip());
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 0 || n > raw.length()) {
        throw ApiError.badRequest("header " + HEADER_LENGTH + ": expected a byte count from 0 to the body's "
            + raw.length() + ", got '" + headerLength + "'");
      }
      json = raw.slice(0, n);
      binary = ByteBuffer.wrap(raw.getBytes(n, raw.length()));
    }
    JsonObject body;
    try {
      body = json.toJsonObject();
    } catch (io.vertx.core.json.DecodeException | ClassCastException e) {
      throw ApiError.badRequest("malformed JSON: " + e.getMessage());
    }
    Object id = body.getValue("id");
    if (id != null && !(id instanceof String)) {
      throw ApiError.badRequest("field 'id': expected a string, got " + id);
    }
    Object params = body.getValue("parameters");
    if (params != null && !(params instanceof JsonObject)) {
      throw ApiError.badRequest("field 'parameters': expected an object, got " + params);
    }
    Long timeout = null;
    if (params instanceof JsonObject p && p.containsKey("timeout")) {
      if (!(p.getValue("timeout") instanceof Integer || p.getValue("timeout") instanceof Long)
          || ((Number) p.getValue("timeout")).longValue() <= 0) {
        throw ApiError.badRequest("parameter 'timeout': expected a positive integer of microseconds, got " + p.getValue("timeout"));
      }
      timeout = ((Number) p.getValue("timeout")).longValue();
    }
    int priority = DEFAULT_PRIORITY;
    if (params instanceof JsonObject p && p.containsKey("priority")) {
      if (!(p.getValue("priority") instanceof Integer n) || n < 1 || n > MAX_PRIORITY) {
        throw ApiError.badRequest("parameter 'priority': expected an integer from 1 (served first) to " + MAX_PRIORITY
            + ", got " + p.getValue("priority"));
      }
      priority = (Integer) p.getValue("priority");
    }
    if (!(body.getValue("inputs") instanceof JsonArray inputs)) {
      throw ApiError.badRequest("field 'inputs': expected an array of tensors, got "
          + (body.getValue("inputs") == null ? "nothing" : body.getValue("inputs")));
    }
    List<Tensor> tensors = new ArrayList<>(inputs.size());
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < inputs.size(); i++) {
      if (!(inputs.getValue(i) instanceof JsonObject in)) {
        throw ApiError.badRequest("inputs[" + i + "]: expected a tensor object, got " + inputs.getValue(i));
      }
      Tensor t = V2Json.isBinary(in) && headerLength != null ? V2Json.decodeBinaryInput(in, binary) : V2Json.decodeInput(in);
      TensorSpec spec = sig.input(t.name()).orElseThrow(() -> ApiError.badRequest("unknown input '" + t.name()
          + "' (the model's inputs: " + names(sig.inputs()) + ")"));
      if (!seen.add(t.name())) {
        throw ApiError.badRequest("input '" + t.name() + "' given twice");
      }
      if (spec.type() != t.type()) {
        throw ApiError.badRequest("input '" + t.name() + "': expected datatype " + spec.type() + ", got " + t.type());
      }
      if (!spec.accepts(t.shape())) {
        throw ApiError.badRequest("input '" + t.name() + "': expected shape " + shape(spec.shape())
            + " (-1 = any size), got " + shape(t.shape()));
      }
      tensors.add(t);
    }
    for (TensorSpec spec : sig.inputs()) {
      if (!seen.contains(spec.name())) {
        throw ApiError.badRequest("missing input '" + spec.name() + "' (" + spec.type() + " " + shape(spec.shape()) + ")");
      }
    }
    if (binary.hasRemaining()) {
      throw ApiError.badRequest(binary.remaining() + " bytes of binary data after the JSON header belong to no input "
          + "(their binary_data_size values add up to less than the data sent)");
    }
    boolean binaryByDefault = false;
    if (params instanceof JsonObject p && p.containsKey("binary_data_output")) {
      if (!(p.getValue("binary_data_output") instanceof Boolean b)) {
        throw ApiError.badRequest("parameter 'binary_data_output': expected true or false, got " + p.getValue("binary_data_output"));
      }
      binaryByDefault = b;
    }
    Map<String, Boolean> binaryChoice = new HashMap<>();
    List<String> outputs = new ArrayList<>();
    Object requested = body.getValue("outputs");
    if (requested != null) {
      if (!(requested instanceof JsonArray array)) {
        throw ApiError.badRequest("field 'outputs': expected an array, got " + requested);
      }
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof JsonObject o) || !(o.getValue("name") instanceof String n)) {
          throw ApiError.badRequest("outputs[" + i + "]: expected an object with a 'name', got " + array.getValue(i));
        }
        if (sig.output(n).isEmpty()) {
          throw ApiError.badRequest("unknown output '" + n + "' (the model's outputs: " + names(sig.outputs()) + ")");
        }
        outputs.add(n);
        if (o.getValue("parameters") instanceof JsonObject op && op.containsKey("binary_data")) {
          if (!(op.getValue("binary_data") instanceof Boolean b)) {
            throw ApiError.badRequest("outputs[" + i + "].parameters.binary_data: expected true or false, got "
                + op.getValue("binary_data"));
          }
          binaryChoice.put(n, b);
        }
      }
    }
    io.inferium.functions.FunctionSpec.Verification verification = null;
    if (params instanceof JsonObject p && p.containsKey("verification")) {
      try {
        verification = io.inferium.functions.FunctionSpec.Verification.fromJson(p.getValue("verification"));
      } catch (io.inferium.functions.InvalidSpecException e) {
        throw ApiError.badRequest("parameter " + e.getMessage().replaceFirst("^field ", ""));
      }
      if (verification.similarity() != null) {
        // Meaning is compared for generated text only; a tensor request's outputs are compared directly.
        throw ApiError.badRequest("parameter 'verification.similarity': applies to text-generation functions only "
            + "(set in their spec); tensor outputs are compared directly");
      }
    }
    return new InferRequest((String) id, (JsonObject) params, tensors, outputs, timeout, priority, binaryChoice,
        binaryByDefault, verification);
  }

  private static String names(List<TensorSpec> specs) {
    return String.join(", ", specs.stream().map(TensorSpec::name).toList());
  }

  private static String shape(long[] s) {
    return Arrays.toString(s).replace(" ", "");
  }
}
