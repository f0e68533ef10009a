package io.inferium.scoring.arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArenaMathTest {

  private static void times(List<Comparison> out, int n, String a, String b, double scoreA, String voter) {
    for (int i = 0; i < n; i++) {
      out.add(new Comparison(a, b, scoreA, voter));
    }
  }

  @Test
  void bradleyTerryOnAChainHasTheClosedFormOdds() {
    // A beats B 3 of 4, B beats C 3 of 4, A and C never meet. The likelihood equations
    // W_A = 4·pA/(pA+pB) = 3 → pA = 3·pB;  W_C = 4·pC/(pB+pC) = 1 → pB = 3·pC;
    // W_B = 4·pB/(pA+pB) + 4·pB/(pB+pC) = 1 + 3 = 4 ✓. So each step is 400·log10(3) = 190.85 points,
    // and with the geometric mean fixed at 1 (pB = 1): A 1190.85, B 1000, C 809.15.
    List<Comparison> cs = new ArrayList<>();
    times(cs, 3, "A", "B", 1, "u");
    times(cs, 1, "A", "B", 0, "u");
    times(cs, 3, "B", "C", 1, "u");
    times(cs, 1, "B", "C", 0, "u");
    Map<String, Double> r = BradleyTerry.fit(cs, 0);
    assertEquals(1000 + 400 * Math.log10(3), r.get("A"), 1e-6);
    assertEquals(1000, r.get("B"), 1e-6);
    assertEquals(1000 - 400 * Math.log10(3), r.get("C"), 1e-6);
  }

  @Test
  void aCycleOfEqualRecordsGivesEqualRatingsAndTiesCountHalf() {
    List<Comparison> cs = new ArrayList<>();
    times(cs, 2, "A", "B", 1, "u");
    times(cs, 1, "A", "B", 0, "u");
    times(cs, 2, "B", "C", 1, "u");
    times(cs, 1, "B", "C", 0, "u");
    times(cs, 2, "C", "A", 1, "u");
    times(cs, 1, "C", "A", 0, "u");
    Map<String, Double> r = BradleyTerry.fit(cs, 0);
    assertEquals(1000, r.get("A"), 1e-6);
    assertEquals(1000, r.get("C"), 1e-6);
    // one win and two ties against B: W_A = 2 of 3 → pA/pB = 2 → 120.41 points apart, centred on 1000
    List<Comparison> ties = new ArrayList<>();
    times(ties, 1, "A", "B", 1, "u");
    times(ties, 2, "A", "B", 0.5, "u");
    Map<String, Double> t = BradleyTerry.fit(ties, 0);
    assertEquals(400 * Math.log10(2), t.get("A") - t.get("B"), 1e-6);
    assertEquals(2000, t.get("A") + t.get("B"), 1e-6);
  }

  @Test
  void thePriorKeepsAnUnbeatenModelFinite() {
    List<Comparison> cs = new ArrayList<>();
    times(cs, 5, "A", "B", 1, "u");
    Map<String, Double> r = BradleyTerry.fit(cs, BradleyTerry.DEFAULT_PRIOR);
    assertTrue(Double.isFinite(r.get("A")) && r.get("A") > 1000 && r.get("B") < 1000);
  }

  @Test
  void bootstrapIntervalsAndTheRankRule() {
    List<Comparison> cs = new ArrayList<>();
    times(cs, 40, "strong", "weak", 1, "u");
    times(cs, 5, "strong", "weak", 0, "u");
    times(cs, 20, "strong", "mid", 1, "u");
    times(cs, 20, "strong", "mid", 0, "u");
    List<BradleyTerry.Rating> ratings = BradleyTerry.bootstrap(cs, BradleyTerry.DEFAULT_PRIOR, 200, 42);
    assertEquals(List.of("strong", "mid", "weak"), ratings.stream().map(BradleyTerry.Rating::model).toList());
    for (BradleyTerry.Rating r : ratings) {
      assertTrue(r.lower() <= r.rating() && r.rating() <= r.upper(), r.toString());
    }
    // strong and mid overlap (20:20) → both rank 1; weak lies below strong's interval → rank 2 at least
    assertEquals(1, ratings.get(0).rank());
    assertTrue(ratings.get(2).rank() >= 2);
    assertEquals(85, ratings.get(0).comparisons()); // 45 against weak + 40 against mid
    // the rule itself: upper 1050 with others' lower bounds 1100, 1040, 1060 → two above → rank 3
    assertEquals(3, BradleyTerry.rank(1050, List.of(1100.0, 1040.0, 1060.0)));
    assertEquals(2.5, BradleyTerry.percentile(List.of(4.0, 1.0, 2.0, 3.0), 50), 1e-12);
  }

  @Test
  void oneVoteGivesAWideIntervalThatNarrowsWithVotes() {
    List<Comparison> one = new ArrayList<>();
    times(one, 1, "A", "B", 1, "u");
    BradleyTerry.Rating a1 = BradleyTerry.bootstrap(one, BradleyTerry.DEFAULT_PRIOR, 200, 42).get(0);
    assertEquals("A", a1.model());
    double width1 = a1.upper() - a1.lower();
    assertTrue(width1 > 500, "one vote says little: " + a1);
    assertTrue(a1.lower() < 1000 && a1.upper() > a1.rating(), a1.toString());
    List<Comparison> many = new ArrayList<>();
    times(many, 60, "A", "B", 1, "u");
    times(many, 40, "A", "B", 0, "u");
    BradleyTerry.Rating a100 = BradleyTerry.bootstrap(many, BradleyTerry.DEFAULT_PRIOR, 200, 42).get(0);
    double width100 = a100.upper() - a100.lower();
    // 100 votes: SE of a 60:40 split is about sqrt(1/(100·0.24)) in log-odds, shared by two models
    assertTrue(width100 < width1 / 4 && width100 > 40, width1 + " vs " + width100);
    // the Wald part alone: two models, one vote, prior 0.5 → the information matrix inverted by hand
    Map<String, Double> r = BradleyTerry.fit(one, BradleyTerry.DEFAULT_PRIOR);
    Map<String, Double> se = BradleyTerry.standardErrors(one, r, BradleyTerry.DEFAULT_PRIOR);
    double pa = Math.pow(10, (r.get("A") - 1000) / 400);
    double pb = Math.pow(10, (r.get("B") - 1000) / 400);
    double w = pa * pb / ((pa + pb) * (pa + pb));
    double iaa = 0.5 * pa / ((pa + 1) * (pa + 1)) + w;
    double ibb = 0.5 * pb / ((pb + 1) * (pb + 1)) + w;
    double det = iaa * ibb - w * w;
    // covariance = inverse; centred variance of θ_A − (θ_A + θ_B)/2 = (var_A − 2 cov_AB + var_B) / 4
    double centred = (ibb / det - 2 * w / det + iaa / det) / 4;
    assertEquals(400 / Math.log(10) * Math.sqrt(centred), se.get("A"), 1e-9);
    assertTrue(BradleyTerry.standardErrors(one, r, 0).isEmpty());
  }

  @Test
  void onlineEloMovesBySixteenPointsOnAFirstWinAndConserves() {
    // Equal ratings: expected 0.5, so a win moves K·0.5 = 16. Then A (1016) vs B (984): expected for A is
    // 1/(1+10^(−32/400)) = 0.545922; B winning moves A by 32·0.545922 = 17.4695 down.
    Map<String, Double> r = Elo.ratings(List.of(new Comparison("A", "B", 1, "u")), Elo.DEFAULT_K);
    assertEquals(1016, r.get("A"), 1e-9);
    assertEquals(984, r.get("B"), 1e-9);
    Map<String, Double> r2 = Elo.ratings(List.of(new Comparison("A", "B", 1, "u"), new Comparison("A", "B", 0, "u")),
        Elo.DEFAULT_K);
    assertEquals(1016 - 32 * 0.5459219, r2.get("A"), 1e-4);
    assertEquals(2000, r2.get("A") + r2.get("B"), 1e-9);
  }

  @Test
  void ballotsBecomePairsAndPoints() {
    Ballot ranked = new Ballot(Map.of("x", 1, "y", 2, "z", 2), false);
    List<Comparison> pairs = ranked.comparisons("u1");
    assertEquals(List.of(new Comparison("x", "y", 1, "u1"), new Comparison("x", "z", 1, "u1"),
        new Comparison("y", "z", 0.5, "u1")), pairs);
    assertEquals(3, ranked.points("x"));
    assertEquals(2, ranked.points("y"));
    assertEquals(2, ranked.points("z"));
    Ballot bad = new Ballot(Map.of("x", 1, "y", 1), true);
    assertEquals(List.of(new Comparison("x", "y", 0.5, "u")), bad.comparisons("u"));
    assertEquals(0, bad.points("x"));
    assertThrows(IllegalArgumentException.class, () -> new Ballot(Map.of("x", 1, "y", 3), false));
    assertThrows(IllegalArgumentException.class, () -> new Ballot(Map.of("x", 1), false));
  }

  @Test
  void aVoterWhoAlwaysContradictsTheConsensusIsScreenedOut() {
    List<Comparison> cs = new ArrayList<>();
    times(cs, 30, "good", "bad", 1, "honest");
    times(cs, 8, "good", "bad", 0, "troll");
    times(cs, 2, "good", "bad", 0, "contrarian");
    times(cs, 6, "good", "bad", 1, "contrarian");
    Map<String, Double> r = BradleyTerry.fit(cs, BradleyTerry.DEFAULT_PRIOR);
    Set<String> out = VoterScreen.outliers(cs, r, VoterScreen.DEFAULT_MIN_DECISIVE, VoterScreen.DEFAULT_MIN_AGREEMENT);
    assertEquals(Set.of("troll"), out);
    assertEquals(46 - 8, VoterScreen.without(cs, out).size());
  }
}
