package dev.lethe.valuation;

import dev.lethe.Seeds;
import java.io.Serializable;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cooperative game of truncated Monte Carlo Data Shapley (Ghorbani and Zou 2019): the players are the N training
 * examples (their frozen penultimate-layer features), the utility U(S) is the accuracy or the mean log-likelihood on
 * the failures Fq of the final layer retrained on S ({@link SoftmaxHead}). {@link #permutation} runs one whole
 * permutation, which depends only on (seed, its index): the estimate does not depend on where permutations run.
 * Holds only arrays and numbers (serialised to Spark tasks).
 *
 * @param x training features, N x d
 * @param y training labels
 * @param qx Fq's features
 * @param qy Fq's labels
 * @param k the number of classes
 * @param logLikelihood U = mean log p(Fq) (true) or accuracy on Fq (false)
 * @param lambda the L2 weight of the retrained layer (> 0)
 * @param tolerance the retraining's gradient-norm tolerance per row
 * @param maxIterations the retraining's iteration cap
 * @param truncation truncate a permutation once |U(D) - U(prefix)| <= truncation |U(D)| (0 = never)
 * @param truncationPatience truncate only once that has held for this many successive prefixes (>= 1; 1 = Algorithm
 *     1's rule as printed; the authors' implementation waits for several, since a utility that is not monotone in
 *     the prefix can come within the tolerance by chance after a few examples)
 * @param fullUtility U(D)
 * @param seed the permutations' seed
 */
public record ShapleyGame(double[][] x, int[] y, double[][] qx, int[] qy, int k, boolean logLikelihood,
    double lambda, double tolerance, int maxIterations, double truncation, int truncationPatience,
    double fullUtility, long seed)
    implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ShapleyGame.class);

  /** The game, with U(D) computed. */
  public static ShapleyGame of(double[][] x, int[] y, double[][] qx, int[] qy, int k, boolean logLikelihood,
      double lambda, double tolerance, int maxIterations, double truncation, int truncationPatience, long seed) {
    ShapleyGame g = new ShapleyGame(x, y, qx, qy, k, logLikelihood, lambda, tolerance, maxIterations, truncation,
        truncationPatience, Double.NaN, seed);
    int[] all = new int[x.length];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    double[] w = new double[SoftmaxHead.size(x[0].length, k)];
    SoftmaxHead.fit(x, y, all, all.length, k, lambda, tolerance, maxIterations, w);
    return new ShapleyGame(x, y, qx, qy, k, logLikelihood, lambda, tolerance, maxIterations, truncation,
        truncationPatience, g.utility(w), seed);
  }

  /** U of the layer with parameters {@code w}. */
  double utility(double[] w) {
    double[] z = new double[k];
    double total = 0;
    for (int i = 0; i < qx.length; i++) {
      SoftmaxHead.logits(qx[i], w, k, z);
      if (logLikelihood) {
        total += dev.lethe.math.LogLikelihood.logSoftmax(z, qy[i]);
      } else {
        int best = 0;
        for (int c = 1; c < k; c++) {
          best = z[c] > z[best] ? c : best;
        }
        total += best == qy[i] ? 1 : 0;
      }
    }
    return total / qx.length;
  }

  /** U(S) for the rows {@code rows[0..m)}, fitted from w = 0. */
  double utilityOf(int[] rows, int m) {
    double[] w = new double[SoftmaxHead.size(x[0].length, k)];
    SoftmaxHead.fit(x, y, rows, m, k, lambda, tolerance, maxIterations, w);
    return utility(w);
  }

  /**
   * Permutation {@code t}: the marginal contribution U(prefix + i) - U(prefix) of every training row i, by row
   * (Ghorbani and Zou 2019, Algorithm 1, one iteration), and in the last entry (index N) the number of rows whose
   * contribution was truncated to 0.
   */
  public double[] permutation(long t) {
    int n = x.length;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, "tmc-shapley.permutation", t));
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int s = order[i];
      order[i] = order[j];
      order[j] = s;
    }
    double[] out = new double[n + 1];
    SoftmaxHead.Prefix fit = new SoftmaxHead.Prefix(x, y, order, k, lambda, tolerance, maxIterations);
    double previous = utility(fit.weights());
    int truncated = 0;
    long iterations = 0;
    long t0 = System.nanoTime();
    int within = 0;
    for (int m = 1; m <= n; m++) {
      if (truncation > 0) {
        // the prefix's utility has been within the tolerance of U(D) for this many successive prefixes
        within = Math.abs(fullUtility - previous) <= truncation * Math.abs(fullUtility) ? within + 1 : 0;
        if (within >= truncationPatience) {
          truncated = n - m + 1;
          break;
        }
      }
      int it = fit.grow();
      iterations += it;
      // no iteration leaves w, and so U, as it was
      double u = it == 0 ? previous : utility(fit.weights());
      out[order[m - 1]] = u - previous;
      previous = u;
    }
    out[n] = truncated;
    LOG.debug("tmc-shapley permutation {}: {} of {} rows before truncation, {} L-BFGS iterations, {} s", t,
        n - truncated, n, iterations, String.format("%.1f", (System.nanoTime() - t0) / 1e9));
    return out;
  }
}
