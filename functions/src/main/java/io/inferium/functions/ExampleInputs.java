package io.inferium.functions;

import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.TensorFormatException;
import io.inferium.functions.tensor.V2Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code examples} of a spec: input sets the developer ships with a tensor model, each written as
 * the body of a V2 inference request, {@code {"inputs": [{name, datatype, shape, data}, ...]}}. The
 * deploy-time smoke run feeds them instead of synthesized inputs, so a model whose inputs carry meaning
 * (a target shape, a divisor, split sizes) is verified on inputs that make sense for it.
 *
 * <p>Bounded ({@link #MAX_EXAMPLES} sets, {@link #MAX_JSON_CHARS} characters of JSON in all) because they
 * are stored with the version and shown with it. Parsing checks each set on its own (well-formed V2
 * tensors, no repeated names, JSON data only); whether they fit the model's inputs is checked at deploy,
 * against the model file.
 */
public final class ExampleInputs {

  public static final int MAX_EXAMPLES = 8;
  /**
   * Small, because the examples live in the stored spec and are parsed with it on every read of the
   * version; a column of their own would lift this.
   */
  public static final int MAX_JSON_CHARS = 256 * 1024;

  private ExampleInputs() {}

  /** Parses and checks the {@code examples} field; null means none. */
  static List<JsonObject> parse(Object value, FunctionKind kind) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray array)) {
      throw new InvalidSpecException("field 'examples': expected an array of input sets such as "
          + "[{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1, 2]}]}], got " + value);
    }
    if (kind == FunctionKind.TEXT_GENERATION || kind == FunctionKind.EMBEDDING) {
      throw new InvalidSpecException("field 'examples': example tensors apply to tensor models; a " + kind.wire()
          + " function is checked with a prompt of its own at deploy");
    }
    if (array.size() > MAX_EXAMPLES) {
      throw new InvalidSpecException("field 'examples': " + array.size() + " input sets, at most " + MAX_EXAMPLES);
    }
    int chars = array.encode().length();
    if (chars > MAX_JSON_CHARS) {
      throw new InvalidSpecException("field 'examples': " + chars + " characters of JSON, at most " + MAX_JSON_CHARS);
    }
    List<JsonObject> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      String field = "examples[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject set)) {
        throw new InvalidSpecException("field '" + field + "': expected an object {\"inputs\": [...]}, got " + array.getValue(i));
      }
      for (String name : set.fieldNames()) {
        if (!name.equals("inputs")) {
          throw new InvalidSpecException("field '" + field + "': unknown field '" + name + "' (accepted: inputs)");
        }
      }
      tensors(set, field);
      out.add(set);
    }
    return List.copyOf(out);
  }

  /**
   * Bytes the examples take in storage (their JSON, UTF-8): they count toward the tenant's storage quota
   * with the model, or a tiny model could carry {@link #MAX_JSON_CHARS} of examples in every version free.
   */
  public static long storedBytes(List<JsonObject> examples) {
    return examples.isEmpty() ? 0 : new JsonArray(List.copyOf(examples)).encode()
        .getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  /** The tensors of one input set that {@link #parse} accepted. */
  public static List<Tensor> tensors(JsonObject set) {
    return tensors(set, "examples");
  }

  private static List<Tensor> tensors(JsonObject set, String field) {
    if (!(set.getValue("inputs") instanceof JsonArray inputs) || inputs.isEmpty()) {
      throw new InvalidSpecException("field '" + field + ".inputs': expected a non-empty array of V2 input tensors, got "
          + set.getValue("inputs"));
    }
    List<Tensor> out = new ArrayList<>(inputs.size());
    Set<String> names = new HashSet<>();
    for (int j = 0; j < inputs.size(); j++) {
      String at = field + ".inputs[" + j + "]";
      if (!(inputs.getValue(j) instanceof JsonObject input)) {
        throw new InvalidSpecException("field '" + at + "': expected a V2 input object {name, datatype, shape, data}, got "
            + inputs.getValue(j));
      }
      if (V2Json.isBinary(input)) {
        throw new InvalidSpecException("field '" + at + "': example data must be in JSON; the binary extension is not "
            + "accepted in a spec");
      }
      Tensor t;
      try {
        t = V2Json.decodeInput(input);
      } catch (TensorFormatException e) {
        throw new InvalidSpecException("field '" + at + "': " + e.getMessage());
      }
      if (!names.add(t.name())) {
        throw new InvalidSpecException("field '" + at + "': input '" + t.name() + "' is given twice");
      }
      out.add(t);
    }
    return out;
  }
}
