package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ArenaSamplingTest {

  @Test
  void picksDistinctModelsAndFavoursTheLessSeen() {
    List<String> models = List.of("new", "old1", "old2", "old3");
    Map<String, Long> seen = Map.of("old1", 99L, "old2", 99L, "old3", 99L);
    Random random = new Random(7);
    Map<String, Integer> picks = new HashMap<>();
    int trials = 2000;
    for (int i = 0; i < trials; i++) {
      List<String> picked = ArenaRoutes.sample(models, Function.identity(), seen, 3, random);
      assertEquals(3, new HashSet<>(picked).size(), "three distinct models");
      picked.forEach(m -> picks.merge(m, 1, Integer::sum));
    }
    // Weight 1 against 0.1 each: the newcomer is left out only when its key u^1 is the smallest of the four,
    // which is rare; uniform sampling would pick it in 3/4 of the battles.
    assertTrue(picks.get("new") > 0.95 * trials, picks.toString());
    assertEquals(List.of("a", "b"), ArenaRoutes.sample(List.of("a", "b"), Function.identity(), Map.of(), 2, random)
        .stream().sorted().toList());
  }
}
