package dev.lethe.valuation;

import dev.lethe.influence.Ranking;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Truncated Monte Carlo Data Shapley (Ghorbani and Zou 2019, Algorithm 1): the Shapley value of each training example
 * for a {@link ShapleyGame}, estimated as the mean of its marginal contributions over random permutations, run in
 * rounds of {@code checkEvery} permutations. Convergence rule (ibid., Section 2.2): after each round, the error is
 * the mean over examples of |phi_t - phi_{t - checkEvery}| / |phi_t|; the estimate stops once it is below
 * {@code convergenceTolerance}, or after {@code maxPermutations}. Rounds are summed in permutation order, so the
 * values do not depend on where the permutations ran. Each round also records the Spearman correlation of the values'
 * ranking with the last round's, and the ranking is called stable from the first round where it reaches
 * {@value #STABLE_SPEARMAN}.
 */
public final class TmcShapley {
  private static final Logger LOG = LoggerFactory.getLogger(TmcShapley.class);

  /** The Spearman correlation between successive rounds' rankings from which the ranking is called stable. */
  public static final double STABLE_SPEARMAN = 0.95;

  private TmcShapley() {}

  /**
   * One round of the estimate.
   *
   * @param permutations permutations run by the end of the round
   * @param seconds time since the estimate started
   * @param convergenceError the convergence rule's error (NaN for the first round)
   * @param spearman Spearman's correlation of the values' ranking with the last round's (NaN for the first round)
   */
  public record Round(int permutations, double seconds, double convergenceError, double spearman) {}

  /**
   * The estimate.
   *
   * @param values phi, per training row
   * @param standardErrors the standard error of each value (the standard deviation of its marginal contributions
   *     over the permutations, over sqrt(permutations))
   * @param permutations permutations run
   * @param convergenceError the convergence rule's error after the last round (NaN after a single round)
   * @param truncatedShare the share of marginal contributions set to 0 by truncation
   * @param rounds every round, in order
   */
  public record Estimate(double[] values, double[] standardErrors, int permutations, double convergenceError,
      double truncatedShare, List<Round> rounds) {
    /** The first round whose ranking correlates with the last round's by at least {@link #STABLE_SPEARMAN}, if any. */
    public java.util.Optional<Round> rankingStable() {
      return rounds.stream().filter(r -> r.spearman() >= STABLE_SPEARMAN).findFirst();
    }

    /** The largest standard error. */
    public double maxStandardError() {
      double m = 0;
      for (double s : standardErrors) {
        m = Math.max(m, s);
      }
      return m;
    }
  }

  /**
   * @param maxPermutations the budget (>= 1)
   * @param checkEvery permutations per round (>= 1)
   * @param convergenceTolerance stop once the convergence error is below it (> 0)
   */
  public static Estimate estimate(ShapleyGame game, PermutationRunner runner, int maxPermutations, int checkEvery,
      double convergenceTolerance) {
    if (maxPermutations < 1 || checkEvery < 1) {
      throw new IllegalArgumentException("maxPermutations and checkEvery must be >= 1");
    }
    int n = game.x().length;
    double[] sum = new double[n];
    double[] sumSq = new double[n];
    double[] previous = null;
    long[] previousRanks = null;
    List<Round> rounds = new ArrayList<>();
    int done = 0;
    double truncated = 0;
    double error = Double.NaN;
    long t0 = System.nanoTime();
    while (done < maxPermutations) {
      int count = Math.min(checkEvery, maxPermutations - done);
      List<double[]> round = runner.run(game, done, count);
      for (double[] p : round) {
        for (int i = 0; i < n; i++) {
          sum[i] += p[i];
          sumSq[i] += p[i] * p[i];
        }
        truncated += p[n];
      }
      done += count;
      double[] now = new double[n];
      for (int i = 0; i < n; i++) {
        now[i] = sum[i] / done;
      }
      if (previous != null) {
        double e = 0;
        for (int i = 0; i < n; i++) {
          e += Math.abs(now[i] - previous[i]) / Math.max(Math.abs(now[i]), 1e-12);
        }
        error = e / n;
      }
      previous = now;
      long[] ranks = ranks(now);
      double rho = previousRanks == null ? Double.NaN : Ranking.spearman(previousRanks, ranks);
      previousRanks = ranks;
      double secs = (System.nanoTime() - t0) / 1e9;
      rounds.add(new Round(done, secs, error, rho));
      LOG.info("tmc-shapley: {}/{} permutations, {} permutations/s, convergence error {}, Spearman with the last "
          + "round {}", done, maxPermutations, String.format("%.3f", done / Math.max(secs, 1e-9)),
          String.format("%.4f", error), String.format("%.4f", rho));
      if (error < convergenceTolerance) {
        break;
      }
    }
    double[] se = new double[n];
    for (int i = 0; i < n; i++) {
      double mean = sum[i] / done;
      double var = done > 1 ? Math.max(0, (sumSq[i] - done * mean * mean) / (done - 1)) : 0;
      se[i] = Math.sqrt(var / done);
    }
    return new Estimate(previous, se, done, error, truncated / ((double) n * done), List.copyOf(rounds));
  }

  /** The rank of each value, 1 = the lowest (the most harmful), ties by smaller index. */
  static long[] ranks(double[] values) {
    Integer[] order = new Integer[values.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> {
      int c = Double.compare(values[a], values[b]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    long[] r = new long[values.length];
    for (int i = 0; i < order.length; i++) {
      r[order[i]] = i + 1;
    }
    return r;
  }
}
