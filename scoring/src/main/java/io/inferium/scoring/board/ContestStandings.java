package io.inferium.scoring.board;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A contest's standings and payout. Entries are ordered by their metric (best first; entries without
 * a completed run last); ties keep the earlier entry first. When the contest ends the winner earns
 * {@link UsagePoints#CONTEST_WIN} points and places 2–5 {@link UsagePoints#CONTEST_TOP5}; the reward
 * pool goes half to the winner and the other half in equal shares to places 2–5 present, in integer
 * micro-dollars, with the remainder to the winner so the payouts always sum to the pool (all of it to
 * the winner when alone).
 */
public final class ContestStandings {

  private ContestStandings() {}

  /** An entry with its latest metric (null before its first run) and when it entered. */
  public record Entry(String function, Double metric, long enteredAtMillis) {}

  /** A placed entry. */
  public record Place(int place, String function, Double metric, int points, long rewardMicroUsd) {}

  public static List<Place> standings(List<Entry> entries, boolean higherIsBetter, long poolMicroUsd, boolean final_) {
    List<Entry> sorted = new ArrayList<>(entries);
    Comparator<Double> byMetric = higherIsBetter ? Comparator.reverseOrder() : Comparator.naturalOrder();
    sorted.sort(Comparator.comparing(Entry::metric, Comparator.nullsLast(byMetric))
        .thenComparingLong(Entry::enteredAtMillis));
    List<Entry> scored = sorted.stream().filter(e -> e.metric() != null).toList();
    long[] rewards = new long[sorted.size()];
    if (final_ && !scored.isEmpty()) {
      int others = Math.min(4, scored.size() - 1);
      if (others == 0) {
        rewards[0] = poolMicroUsd;
      } else {
        long half = poolMicroUsd / 2;
        long share = (poolMicroUsd - half) / others;
        for (int i = 1; i <= others; i++) {
          rewards[i] = share;
        }
        rewards[0] = poolMicroUsd - share * others;
      }
    }
    List<Place> out = new ArrayList<>();
    for (int i = 0; i < sorted.size(); i++) {
      Entry e = sorted.get(i);
      int points = !final_ || e.metric() == null ? 0 : i == 0 ? UsagePoints.CONTEST_WIN : i < 5 ? UsagePoints.CONTEST_TOP5 : 0;
      out.add(new Place(i + 1, e.function(), e.metric(), points, rewards[i]));
    }
    return out;
  }
}
