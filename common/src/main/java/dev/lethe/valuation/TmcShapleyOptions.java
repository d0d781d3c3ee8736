package dev.lethe.valuation;

import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import java.util.Locale;

/**
 * Options of {@link TmcShapleyInfluence} (keys under {@code lethe.identify.tmc-shapley}).
 *
 * @param utility {@link #ACCURACY} or {@link #LOG_LIKELIHOOD} on Fq of the retrained final layer
 * @param maxPermutations the budget of permutations (>= 1)
 * @param checkEvery permutations per round of the convergence rule (>= 1)
 * @param convergenceTolerance stop once the mean relative change of the values over a round is below it (> 0)
 * @param truncationTolerance truncate a permutation once its prefix's utility is within this fraction of |U(D)|
 *     (>= 0; 0 = never)
 * @param truncationPatience truncate only once that has held for this many successive prefixes (>= 1)
 * @param l2 the L2 weight lambda of the retrained layer (> 0)
 * @param fitTolerance the retraining's gradient-norm target per row (> 0)
 * @param fitMaxIterations the retraining's iteration cap (>= 1)
 */
public record TmcShapleyOptions(String utility, int maxPermutations, int checkEvery, double convergenceTolerance,
    double truncationTolerance, int truncationPatience, double l2, double fitTolerance, int fitMaxIterations) {
  public static final String ACCURACY = "accuracy";
  public static final String LOG_LIKELIHOOD = "log-likelihood";
  private static final String P = "identify.tmc-shapley.";

  public TmcShapleyOptions {
    utility = utility == null ? "" : utility.trim().toLowerCase(Locale.ROOT);
    if (!ACCURACY.equals(utility) && !LOG_LIKELIHOOD.equals(utility)) {
      throw new IllegalArgumentException(P + "utility: unknown utility '" + utility
          + "' (known: accuracy, log-likelihood)");
    }
    if (maxPermutations < 1) {
      throw new IllegalArgumentException(P + "max-permutations: the Shapley budget must be >= 1 permutation, got "
          + maxPermutations);
    }
    if (checkEvery < 1) {
      throw new IllegalArgumentException(P + "check-every: must be >= 1, got " + checkEvery);
    }
    if (!(convergenceTolerance > 0) || Double.isInfinite(convergenceTolerance)) {
      throw new IllegalArgumentException(P + "convergence-tolerance: must be finite and > 0, got "
          + convergenceTolerance);
    }
    if (!(truncationTolerance >= 0) || Double.isInfinite(truncationTolerance)) {
      throw new IllegalArgumentException(P + "truncation-tolerance: must be finite and >= 0, got "
          + truncationTolerance);
    }
    if (truncationPatience < 1) {
      throw new IllegalArgumentException(P + "truncation-patience: must be >= 1, got " + truncationPatience);
    }
    if (!(l2 > 0) || Double.isInfinite(l2)) {
      throw new IllegalArgumentException(P + "l2: must be finite and > 0, got " + l2);
    }
    if (!(fitTolerance > 0) || Double.isInfinite(fitTolerance)) {
      throw new IllegalArgumentException(P + "fit-tolerance: must be finite and > 0, got " + fitTolerance);
    }
    if (fitMaxIterations < 1) {
      throw new IllegalArgumentException(P + "fit-max-iterations: must be >= 1, got " + fitMaxIterations);
    }
  }

  /** The defaults of conf/reference.conf. */
  public static TmcShapleyOptions defaults() {
    return from(LetheConfig.defaults());
  }

  /** From {@code identify.tmc-shapley.*}; a bad value is bad input naming its key. */
  public static TmcShapleyOptions from(LetheConfig c) {
    return Options.valid(() -> new TmcShapleyOptions(c.getString(P + "utility"), c.getInt(P + "max-permutations"),
        c.getInt(P + "check-every"), c.getDouble(P + "convergence-tolerance"),
        c.getDouble(P + "truncation-tolerance"), c.getInt(P + "truncation-patience"), c.getDouble(P + "l2"), c.getDouble(P + "fit-tolerance"),
        c.getInt(P + "fit-max-iterations")));
  }
}
