package io.inferium.scoring.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BoardMathTest {

  private static final double EPS = 1e-9;

  @Test
  void usagePointsAddUpPerTheTable() {
    // 2 downloads + 1 space deploy + 3 good feedback + rating 3.5 (→3) + arena 1st×2, 2nd×1, 3rd×4 + a top-5 finish
    // = 2 + 1 + 3 + 3 + 6 + 2 + 4 + 50 = 71
    assertEquals(71, new UsagePoints(2, 1, 3, 3.5, 2, 1, 4, 0, 1).total());
    assertEquals(100, new UsagePoints(0, 0, 0, 3.0, 0, 0, 0, 1, 0).total(), "a rating of exactly 3 earns nothing");
    assertEquals(0, UsagePoints.NONE.total());
  }

  @Test
  void normalisationIsByTheCategoryBest() {
    Map<String, Double> raw = new HashMap<>();
    raw.put("a", 0.5);
    raw.put("b", 0.25);
    raw.put("c", -0.3);
    raw.put("d", null);
    Map<String, Double> n = TotalScore.normalize(raw);
    assertEquals(100, n.get("a"), EPS);
    assertEquals(50, n.get("b"), EPS);
    assertEquals(0, n.get("c"), EPS);
    assertEquals(0, n.get("d"), EPS);
    assertEquals(0, TotalScore.normalize(Map.of("a", 0.0)).get("a"), EPS);
  }

  @Test
  void theWorkedExampleOfDocsScoring() {
    // MS: F1 0.98 → 100, 0.92 → 100·0.92/0.98 = 93.877551; US: 10 points → 100, 5 → 50
    // Total = 0.4·100 + 0.6·100 = 100 and 0.4·93.877551 + 0.6·50 = 37.551020 + 30 = 67.551020
    Map<String, TotalScore.Parts> s = TotalScore.DEFAULT.score(Map.of("iris", 0.98, "iris-centroid", 0.92),
        Map.of("iris", 10L, "iris-centroid", 5L));
    assertEquals(100, s.get("iris").total(), EPS);
    assertEquals(93.877551020408, s.get("iris-centroid").metricScore(), 1e-9);
    assertEquals(50, s.get("iris-centroid").userScore(), EPS);
    assertEquals(67.551020408163, s.get("iris-centroid").total(), 1e-9);
    // α = 1, β = 0: only the metric counts
    assertEquals(93.877551020408, new TotalScore(1, 0).score(Map.of("a", 0.98, "b", 0.92), Map.of()).get("b").total(),
        1e-9);
    assertThrows(IllegalArgumentException.class, () -> new TotalScore(0.5, 0.6));
  }

  @Test
  void contestPayoutSumsToThePool() {
    List<ContestStandings.Entry> entries = List.of(new ContestStandings.Entry("a", 0.8, 1),
        new ContestStandings.Entry("b", 0.9, 2), new ContestStandings.Entry("c", null, 3),
        new ContestStandings.Entry("d", 0.7, 4), new ContestStandings.Entry("e", 0.8, 5));
    // order b 0.9, a 0.8 (entered before e), e 0.8, d 0.7, c (no run)
    // pool 1001: half 500; 3 others share 501 → 167 each; winner 1001 − 501 = 500
    List<ContestStandings.Place> p = ContestStandings.standings(entries, true, 1001, true);
    assertEquals(List.of("b", "a", "e", "d", "c"), p.stream().map(ContestStandings.Place::function).toList());
    assertEquals(List.of(500L, 167L, 167L, 167L, 0L), p.stream().map(ContestStandings.Place::rewardMicroUsd).toList());
    assertEquals(List.of(100, 50, 50, 50, 0), p.stream().map(ContestStandings.Place::points).toList());
    assertEquals(1000, ContestStandings.standings(entries.subList(0, 1), true, 1000, true).get(0).rewardMicroUsd());
    assertEquals(0, ContestStandings.standings(entries, true, 1000, false).get(0).points(), "nothing before the end");
    assertEquals("d", ContestStandings.standings(entries, false, 0, false).get(0).function(), "lower is better");
  }
}
