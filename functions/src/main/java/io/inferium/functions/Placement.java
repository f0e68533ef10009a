package io.inferium.functions;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Where a function may run: the spec's {@code requires} object ({@code tier}: the lowest node tier,
 * {@code low | mid | high}; {@code gpu}: a node whose CUDA provider started; {@code memory_mb}: the node's
 * memory) and, for {@code redundant(k)}, whether the k copies must run on nodes of k different operators
 * ({@code verification.distinct_operators}, default true: copies on one operator's nodes prove nothing
 * about that operator). Dispatch honours it; no eligible node is a 503 naming the requirement.
 */
public record Placement(String tier, boolean gpu, long memoryMb, boolean distinctOperators) {

  /** Any node; redundant copies on distinct operators. */
  public static final Placement ANY = new Placement(null, false, 0, true);
  public static final List<String> TIERS = List.of("low", "mid", "high");
  static final List<String> FIELDS = List.of("tier", "gpu", "memory_mb");

  /** Whether any node requirement is set (tier, GPU or memory). */
  public boolean constrained() {
    return tier != null || gpu || memoryMb > 0;
  }

  /** The {@code requires} object, as a spec shows it (empty when nothing is required). */
  public JsonObject requiresJson() {
    JsonObject o = new JsonObject();
    if (tier != null) {
      o.put("tier", tier);
    }
    if (gpu) {
      o.put("gpu", true);
    }
    if (memoryMb > 0) {
      o.put("memory_mb", memoryMb);
    }
    return o;
  }

  /** Parses {@code requires} (null: none) and the verification object's {@code distinct_operators} (null: true). */
  static Placement fromJson(Object requires, Object distinctOperators) {
    boolean distinct = true;
    if (distinctOperators != null) {
      if (!(distinctOperators instanceof Boolean b)) {
        throw new InvalidSpecException("field 'verification.distinct_operators': expected true or false, got "
            + distinctOperators);
      }
      distinct = b;
    }
    if (requires == null) {
      return distinct ? ANY : new Placement(null, false, 0, false);
    }
    if (!(requires instanceof JsonObject r)) {
      throw new InvalidSpecException("field 'requires': expected an object such as {\"tier\": \"mid\", \"gpu\": true, "
          + "\"memory_mb\": 4096}, got " + requires);
    }
    for (String field : r.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new InvalidSpecException("field 'requires': unknown field '" + field + "' (accepted: "
            + String.join(", ", FIELDS) + ")");
      }
    }
    Object tier = r.getValue("tier");
    if (tier != null && !(tier instanceof String t && TIERS.contains(t))) {
      throw new InvalidSpecException("field 'requires.tier': expected low | mid | high, got " + tier);
    }
    Object gpu = r.getValue("gpu");
    if (gpu != null && !(gpu instanceof Boolean)) {
      throw new InvalidSpecException("field 'requires.gpu': expected true or false, got " + gpu);
    }
    Object memory = r.getValue("memory_mb");
    if (memory != null && !((memory instanceof Integer || memory instanceof Long) && ((Number) memory).longValue() >= 1
        && ((Number) memory).longValue() <= (1L << 30))) {
      throw new InvalidSpecException("field 'requires.memory_mb': expected an integer in [1, " + (1L << 30) + "], got "
          + memory);
    }
    return new Placement((String) tier, Boolean.TRUE.equals(gpu), memory == null ? 0 : ((Number) memory).longValue(),
        distinct);
  }
}
