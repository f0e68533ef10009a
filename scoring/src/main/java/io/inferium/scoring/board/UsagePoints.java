package io.inferium.scoring.board;

/**
 * Usage points a function earns: what users did with it. One point per download or clone, per deploy
 * on a space, per piece of feedback its developer marked helpful ("good open feedback"); 3 points
 * when its average rating is above 3; 3, 2 or 1 points per arena vote that ranked it 1st, 2nd or 3rd;
 * 100 for a contest win and 50 for each other top-5 contest finish.
 */
public record UsagePoints(long downloads, long spaceDeploys, long goodFeedback, Double averageRating,
    long arenaFirsts, long arenaSeconds, long arenaThirds, long contestWins, long contestTop5) {

  public static final int DOWNLOAD = 1;
  public static final int SPACE_DEPLOY = 1;
  public static final int GOOD_FEEDBACK = 1;
  public static final int RATING_ABOVE_3 = 3;
  public static final int ARENA_FIRST = 3;
  public static final int ARENA_SECOND = 2;
  public static final int ARENA_THIRD = 1;
  public static final int CONTEST_WIN = 100;
  public static final int CONTEST_TOP5 = 50;

  /** Nothing yet. */
  public static final UsagePoints NONE = new UsagePoints(0, 0, 0, null, 0, 0, 0, 0, 0);

  /** The sum; {@code contestTop5} counts top-5 finishes other than a win. */
  public long total() {
    return downloads * DOWNLOAD + spaceDeploys * SPACE_DEPLOY + goodFeedback * GOOD_FEEDBACK
        + (averageRating != null && averageRating > 3 ? RATING_ABOVE_3 : 0)
        + arenaFirsts * ARENA_FIRST + arenaSeconds * ARENA_SECOND + arenaThirds * ARENA_THIRD
        + contestWins * CONTEST_WIN + contestTop5 * CONTEST_TOP5;
  }
}
