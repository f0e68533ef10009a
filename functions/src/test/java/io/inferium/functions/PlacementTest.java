package io.inferium.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The spec's {@code requires} and {@code verification.distinct_operators}: parsed strictly, kept through storage. */
class PlacementTest {

  private static FunctionSpec spec(JsonObject extra) {
    return FunctionSpec.fromJson(new JsonObject().put("name", "f").mergeIn(extra));
  }

  @Test
  void defaultsAnyNodeAndDistinctOperators() {
    Placement p = spec(new JsonObject()).placement();
    assertEquals(Placement.ANY, p);
    assertFalse(p.constrained());
    assertTrue(p.distinctOperators());
    assertFalse(spec(new JsonObject()).toJson().containsKey("requires"));
  }

  @Test
  void requirementsAndRelaxedOperatorsSurviveARoundTrip() {
    FunctionSpec s = spec(new JsonObject()
        .put("requires", new JsonObject().put("tier", "mid").put("gpu", true).put("memory_mb", 4096))
        .put("verification", new JsonObject().put("policy", "redundant").put("k", 3).put("distinct_operators", false)));
    assertEquals(new Placement("mid", true, 4096, false), s.placement());
    assertEquals(3, s.verification().k());
    FunctionSpec again = FunctionSpec.fromJson(s.toJson());
    assertEquals(s.placement(), again.placement());
    assertEquals(s.verification(), again.verification());
  }

  @Test
  void badValuesAreRefusedNamingTheField() {
    for (Object[] bad : new Object[][] {
        {new JsonObject().put("requires", "gpu"), "field 'requires'"},
        {new JsonObject().put("requires", new JsonObject().put("tier", "huge")), "requires.tier"},
        {new JsonObject().put("requires", new JsonObject().put("gpu", 1)), "requires.gpu"},
        {new JsonObject().put("requires", new JsonObject().put("memory_mb", 0)), "requires.memory_mb"},
        {new JsonObject().put("requires", new JsonObject().put("memory_mb", 1.5)), "requires.memory_mb"},
        {new JsonObject().put("requires", new JsonObject().put("disk_mb", 1)), "unknown field 'disk_mb'"},
        {new JsonObject().put("verification", new JsonObject().put("policy", "redundant").put("distinct_operators", 0)),
            "verification.distinct_operators"}}) {
      InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> spec((JsonObject) bad[0]));
      assertTrue(e.getMessage().contains((String) bad[1]), e.getMessage());
    }
  }

  @Test
  void textFunctionsMayRequireToo() {
    // The generation scheduler places by requires as the mempool does (RedundantTextTest).
    assertTrue(spec(new JsonObject().put("kind", "text-generation").put("requires", new JsonObject().put("gpu", true)))
        .placement().gpu());
  }
}
