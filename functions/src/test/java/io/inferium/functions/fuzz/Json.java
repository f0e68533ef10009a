package io.inferium.functions.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Generators of hostile JSON for the fuzz tests: any JSON value (with the numbers that break size
 * arithmetic: 2^31, 2^60, Long.MAX_VALUE, negatives, non-integral doubles), and objects whose keys
 * come mostly from a decoder's own vocabulary so the fuzzer gets past the first field check.
 */
public final class Json {

  /** Numbers at the edges of int, long, double and of typical shape arithmetic. */
  public static final List<Object> EDGE_NUMBERS = List.of(0, 1, -1, 2, 3, 4, 7, 255, 256, 65_535, 65_536,
      Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 31, 1L << 32, 1L << 53, 1L << 60, 1L << 62, Long.MAX_VALUE,
      Long.MIN_VALUE, 0.5, -0.0, 1e300, -1e300, 4.0, 1e19, Double.MIN_VALUE);

  private Json() {}

  public static Arbitrary<Object> number() {
    return Arbitraries.oneOf(Arbitraries.of(EDGE_NUMBERS), Arbitraries.integers().map(i -> (Object) i),
        Arbitraries.longs().map(l -> (Object) l), Arbitraries.doubles().map(d -> (Object) d));
  }

  public static Arbitrary<Object> leaf(List<String> words) {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(1, Arbitraries.just(null)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of(true, false).map(b -> (Object) b)),
        net.jqwik.api.Tuple.of(4, number()),
        net.jqwik.api.Tuple.of(2, Arbitraries.of(words).map(s -> (Object) s)),
        net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(12).map(s -> (Object) s)));
  }

  /** Any JSON value up to {@code depth} levels of arrays and objects. */
  public static Arbitrary<Object> value(List<String> words, int depth) {
    if (depth <= 0) {
      return leaf(words);
    }
    Arbitrary<Object> inner = Arbitraries.lazy(() -> value(words, depth - 1));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(5, leaf(words)),
        net.jqwik.api.Tuple.of(2, inner.list().ofMaxSize(6).map(l -> (Object) new JsonArray(new java.util.ArrayList<>(l)))),
        net.jqwik.api.Tuple.of(1, object(words, inner).map(o -> (Object) o)));
  }

  /** Objects with up to 8 keys, mostly from {@code words}. */
  public static Arbitrary<JsonObject> object(List<String> words, Arbitrary<Object> values) {
    Arbitrary<String> keys = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, Arbitraries.of(words)),
        net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(6)));
    return Arbitraries.maps(keys, values).ofMaxSize(8).map(m -> {
      JsonObject o = new JsonObject();
      m.forEach(o::put);
      return o;
    });
  }

  /** {@code base} with one field replaced, added or removed at random (recursively into objects). */
  public static Arbitrary<JsonObject> mutated(JsonObject base, List<String> words) {
    Arbitrary<Object> values = value(words, 2);
    return Arbitraries.integers().between(0, 2).flatMap(op -> Arbitraries.of(List.copyOf(words)).flatMap(key ->
        values.map(v -> {
          JsonObject copy = base.copy();
          switch (op) {
            case 0 -> copy.remove(key);
            case 1 -> copy.put(key, v);
            default -> {
              for (String k : copy.fieldNames()) {
                if (copy.getValue(k) instanceof JsonObject inner) {
                  inner.put(key, v);
                  break;
                }
              }
            }
          }
          return copy;
        })));
  }
}
