package io.inferium.scoring.arena;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Bradley–Terry ratings from pairwise comparisons: P(i beats j) = p_i / (p_i + p_j). Strengths are
 * the maximum-likelihood estimate found by the minorization–maximization iteration of Hunter (2004),
 * p_i ← W_i / Σ_j n_ij / (p_i + p_j), where W_i counts i's wins (a tie is half a win for each side)
 * and n_ij the comparisons between i and j. Strengths are rescaled to geometric mean 1 after every
 * step and reported on the Elo scale, {@code rating = 1000 + 400 · log10(p)}, so 400 points mean 10:1
 * odds.
 *
 * <p>A model that never lost (or never won) has no finite MLE. {@code prior} adds that many virtual
 * ties of every model against a fixed reference of strength 1, which keeps every estimate finite and
 * pulls models with few votes towards 1000; with {@code prior = 0} the estimate is the plain MLE.
 *
 * <p>Intervals: {@link #bootstrap} refits on {@code rounds} resamples of the comparisons (drawn with
 * replacement, seeded) and takes the 2.5th and 97.5th percentiles of each model's rating, widened to
 * at least the Wald interval (±1.96 standard errors from the penalized likelihood's information): a
 * bootstrap of one or two votes resamples the same votes and would give a zero-width interval.
 * {@link Rating#rank} is 1 + the number of models whose lower bound is above this one's upper bound,
 * so models whose intervals overlap share a rank.
 */
public final class BradleyTerry {

  /** Default strength of the prior (virtual ties per model). */
  public static final double DEFAULT_PRIOR = 0.5;
  /** Default bootstrap resamples. */
  public static final int DEFAULT_ROUNDS = 200;
  private static final int MAX_ITERATIONS = 10_000;
  private static final double TOLERANCE = 1e-10;
  private static final double Z95 = 1.959964;
  /** Elo points per unit of natural log-strength: 400 / ln 10. */
  private static final double ELO_PER_LOG = 400 / Math.log(10);

  private BradleyTerry() {}

  /** A model's rating with its 95% interval and rank. */
  public record Rating(String model, double rating, double lower, double upper, int rank, int comparisons) {}

  /** Ratings (Elo scale) by model: the point estimate only. */
  public static Map<String, Double> fit(List<Comparison> comparisons, double prior) {
    List<String> models = new ArrayList<>(new TreeSet<>(modelsOf(comparisons)));
    int n = models.size();
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < n; i++) {
      index.put(models.get(i), i);
    }
    double[] wins = new double[n];
    double[][] games = new double[n][n];
    for (Comparison c : comparisons) {
      int a = index.get(c.a());
      int b = index.get(c.b());
      wins[a] += c.scoreA();
      wins[b] += 1 - c.scoreA();
      games[a][b]++;
      games[b][a]++;
    }
    double[] p = new double[n];
    Arrays.fill(p, 1);
    for (int it = 0; it < MAX_ITERATIONS; it++) {
      double[] next = new double[n];
      double change = 0;
      for (int i = 0; i < n; i++) {
        double denom = prior > 0 ? prior / (p[i] + 1) : 0;
        for (int j = 0; j < n; j++) {
          if (games[i][j] > 0) {
            denom += games[i][j] / (p[i] + p[j]);
          }
        }
        double w = wins[i] + prior * 0.5;
        next[i] = denom == 0 ? p[i] : Math.max(w, 1e-12) / denom;
      }
      if (prior == 0) {
        // Without a reference the scale is free: fix the geometric mean at 1.
        double logMean = 0;
        for (double x : next) {
          logMean += Math.log(x);
        }
        double g = Math.exp(logMean / n);
        for (int i = 0; i < n; i++) {
          next[i] /= g;
        }
      }
      for (int i = 0; i < n; i++) {
        change = Math.max(change, Math.abs(Math.log(next[i]) - Math.log(p[i])));
      }
      p = next;
      if (change < TOLERANCE) {
        break;
      }
    }
    Map<String, Double> out = new HashMap<>();
    for (int i = 0; i < n; i++) {
      out.put(models.get(i), 1000 + 400 * Math.log10(p[i]));
    }
    return out;
  }

  /** Point estimates, bootstrap 95% intervals and ranks, best rating first. */
  public static List<Rating> bootstrap(List<Comparison> comparisons, double prior, int rounds, long seed) {
    Map<String, Double> point = fit(comparisons, prior);
    Map<String, Double> waldSe = standardErrors(comparisons, point, prior);
    Map<String, List<Double>> samples = new HashMap<>();
    Random random = new Random(seed);
    int m = comparisons.size();
    for (int r = 0; r < rounds && m > 0; r++) {
      List<Comparison> resample = new ArrayList<>(m);
      for (int k = 0; k < m; k++) {
        resample.add(comparisons.get(random.nextInt(m)));
      }
      fit(resample, prior).forEach((model, rating) -> samples.computeIfAbsent(model, x -> new ArrayList<>()).add(rating));
    }
    Map<String, Integer> counts = new HashMap<>();
    for (Comparison c : comparisons) {
      counts.merge(c.a(), 1, Integer::sum);
      counts.merge(c.b(), 1, Integer::sum);
    }
    List<double[]> bounds = new ArrayList<>();
    List<String> models = new ArrayList<>(point.keySet());
    models.sort((x, y) -> Double.compare(point.get(y), point.get(x)));
    for (String model : models) {
      List<Double> s = samples.getOrDefault(model, List.of());
      double est = point.get(model);
      double half = Z95 * waldSe.getOrDefault(model, 0.0);
      double lower = est - half;
      double upper = est + half;
      if (!s.isEmpty()) {
        lower = Math.min(lower, percentile(s, 2.5));
        upper = Math.max(upper, percentile(s, 97.5));
      }
      bounds.add(new double[] {lower, upper});
    }
    List<Rating> out = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      int rank = 1;
      for (int j = 0; j < models.size(); j++) {
        if (j != i && bounds.get(j)[0] > bounds.get(i)[1]) {
          rank++;
        }
      }
      out.add(new Rating(models.get(i), point.get(models.get(i)), bounds.get(i)[0], bounds.get(i)[1], rank,
          counts.getOrDefault(models.get(i), 0)));
    }
    return out;
  }

  /**
   * Standard errors on the Elo scale from the observed information of the penalized likelihood in
   * log-strength: for each pair {@code n_ij·p_i·p_j/(p_i+p_j)²} on the diagonals and off them with a
   * minus sign, and the prior's virtual ties against the reference add {@code prior·p_i/(p_i+1)²}. The
   * reference fixes the scale, so the matrix is invertible when {@code prior > 0}; with {@code prior = 0}
   * there is no reference and no errors are given (the bootstrap alone makes the interval). The error is
   * of each rating against the mean of all (the common level, which the prior barely pins, is left out);
   * a lone model keeps its error against the reference.
   */
  static Map<String, Double> standardErrors(List<Comparison> comparisons, Map<String, Double> ratings, double prior) {
    if (prior <= 0 || ratings.isEmpty()) {
      return Map.of();
    }
    List<String> models = new ArrayList<>(new TreeSet<>(ratings.keySet()));
    int n = models.size();
    Map<String, Integer> index = new HashMap<>();
    double[] p = new double[n];
    for (int i = 0; i < n; i++) {
      index.put(models.get(i), i);
      p[i] = Math.pow(10, (ratings.get(models.get(i)) - 1000) / 400);
    }
    double[][] info = new double[n][n];
    for (int i = 0; i < n; i++) {
      info[i][i] = prior * p[i] / ((p[i] + 1) * (p[i] + 1));
    }
    for (Comparison c : comparisons) {
      int a = index.get(c.a());
      int b = index.get(c.b());
      double w = p[a] * p[b] / ((p[a] + p[b]) * (p[a] + p[b]));
      info[a][a] += w;
      info[b][b] += w;
      info[a][b] -= w;
      info[b][a] -= w;
    }
    double[][] cov = invert(info);
    // Centre: the variance of θ_i − mean(θ). The prior's weak tie to the reference leaves the common level
    // of all ratings uncertain, which says nothing about how models compare; leave it out.
    double[] rowMean = new double[n];
    double all = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        rowMean[i] += cov[i][j] / n;
      }
      all += rowMean[i] / n;
    }
    Map<String, Double> out = new HashMap<>();
    for (int i = 0; i < n; i++) {
      double var = n == 1 ? cov[i][i] : cov[i][i] - 2 * rowMean[i] + all;
      out.put(models.get(i), ELO_PER_LOG * Math.sqrt(Math.max(var, 0)));
    }
    return out;
  }

  /** Gauss–Jordan inverse with partial pivoting of a symmetric positive-definite matrix. */
  private static double[][] invert(double[][] m) {
    int n = m.length;
    double[][] a = new double[n][2 * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(m[i], 0, a[i], 0, n);
      a[i][n + i] = 1;
    }
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
          pivot = r;
        }
      }
      double[] tmp = a[col];
      a[col] = a[pivot];
      a[pivot] = tmp;
      double d = a[col][col];
      for (int k = 0; k < 2 * n; k++) {
        a[col][k] /= d;
      }
      for (int r = 0; r < n; r++) {
        if (r != col && a[r][col] != 0) {
          double f = a[r][col];
          for (int k = 0; k < 2 * n; k++) {
            a[r][k] -= f * a[col][k];
          }
        }
      }
    }
    double[][] inv = new double[n][n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], n, inv[i], 0, n);
    }
    return inv;
  }

  /** Linear-interpolated percentile (numpy's default) of unsorted values. */
  static double percentile(List<Double> values, double pct) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double pos = pct / 100 * (v.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = (int) Math.ceil(pos);
    return v[lo] + (v[hi] - v[lo]) * (pos - lo);
  }

  /** The rank rule on given intervals: 1 + models whose lower bound is above {@code upper}. */
  public static int rank(double upper, List<Double> otherLowers) {
    return 1 + (int) otherLowers.stream().filter(l -> l > upper).count();
  }

  private static TreeSet<String> modelsOf(List<Comparison> comparisons) {
    TreeSet<String> s = new TreeSet<>();
    for (Comparison c : comparisons) {
      s.add(c.a());
      s.add(c.b());
    }
    return s;
  }
}
