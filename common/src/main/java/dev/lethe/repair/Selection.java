package dev.lethe.repair;

import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import java.util.Arrays;

/**
 * Chooses the culprits C from a ranking of the training set by responsibility r(z) (highest first).
 *
 * <p>The result may be EMPTY (policy {@link SelectionPolicy#POSITIVE} when no score is positive, or an empty
 * ranking). Repairs that erase C are then no-ops returning theta_hat unchanged (their diagnostics carry
 * {@code noOp = true}); callers should report that explicitly rather than present an unchanged model as a repair.
 *
 * @param policy the rule
 * @param k the count for {@link SelectionPolicy#TOP_K} (>= 1; validated for every policy, since the config
 *     always carries it); k > N selects all N examples
 * @param fraction the share for {@link SelectionPolicy#TOP_FRACTION}, in (0, 1]; ceil(fraction * N) examples
 */
public record Selection(SelectionPolicy policy, int k, double fraction) {

  /** Guards ceil against binary rounding: 0.15 * 100 = 15.000000000000002 must select 15, not 16. */
  private static final double CEIL_SLACK = 1e-9;

  public Selection {
    if (policy == null) {
      throw new IllegalArgumentException("repair.selection must be given");
    }
    if (k < 1) {
      throw new IllegalArgumentException("repair.top-k must be >= 1, got " + k);
    }
    if (!(fraction > 0 && fraction <= 1)) {
      throw new IllegalArgumentException("repair.top-fraction must be in (0, 1], got " + fraction);
    }
  }

  /** The paper's protocol: the top 15%. */
  public static Selection paper() {
    return new Selection(SelectionPolicy.TOP_FRACTION, 100, 0.15);
  }

  public static Selection positive() {
    return new Selection(SelectionPolicy.POSITIVE, 100, 0.15);
  }

  public static Selection topK(int k) {
    return new Selection(SelectionPolicy.TOP_K, k, 0.15);
  }

  public static Selection topFraction(double fraction) {
    return new Selection(SelectionPolicy.TOP_FRACTION, 100, fraction);
  }

  /** From {@code repair.selection}, {@code repair.top-k} and {@code repair.top-fraction}. */
  public static Selection from(LetheConfig c) {
    return Options.valid(() -> new Selection(SelectionPolicy.parse(c.getString("repair.selection")),
        c.getInt("repair.top-k"), c.getDouble("repair.top-fraction")));
  }

  /** The identify methods whose culprits-table score is minus a data value (the tables NEGATIVE applies to). */
  public static final java.util.List<String> VALUE_METHODS = java.util.List.of("knn-shapley", "tmc-shapley");

  /**
   * @throws dev.lethe.LetheInputException naming {@code repair.selection} when the policy is NEGATIVE and the
   *     ranking table of {@code rankingMethod} does not hold data values
   */
  public void requireFits(String rankingMethod) {
    if (policy == SelectionPolicy.NEGATIVE && !VALUE_METHODS.contains(rankingMethod)) {
      throw dev.lethe.LetheInputException.of("config key 'repair.selection': 'negative' selects examples of negative"
          + " data value, but the ranking table of '%s' holds no data values (use it with %s)", rankingMethod,
          String.join(" or ", VALUE_METHODS));
    }
  }

  /** How many of {@code n} ranked examples the rank-based policies take (POSITIVE: n, an upper bound). */
  public int limit(int n) {
    return switch (policy) {
      case POSITIVE, NEGATIVE -> n;
      case TOP_K -> Math.min(k, n);
      case TOP_FRACTION -> (int) Math.min(n, Math.ceil(fraction * n - CEIL_SLACK));
    };
  }

  /**
   * The selected ids, in rank order.
   *
   * @param idsByRank training ids, most responsible first
   * @param scoresByRank their scores r(z), non-increasing (ties allowed; ties at the cut are broken by the given
   *     order)
   * @throws IllegalArgumentException if the lengths differ, a score is NaN, or the scores are not sorted
   */
  public long[] select(long[] idsByRank, double[] scoresByRank) {
    int n = idsByRank.length;
    if (scoresByRank.length != n) {
      throw new IllegalArgumentException(n + " ids with " + scoresByRank.length + " scores");
    }
    for (int i = 0; i < n; i++) {
      if (Double.isNaN(scoresByRank[i])) {
        throw new IllegalArgumentException("score of id " + idsByRank[i] + " (rank " + i + ") is NaN");
      }
      if (i > 0 && scoresByRank[i] > scoresByRank[i - 1]) {
        throw new IllegalArgumentException("scores must be sorted highest first; rank " + i + " (id "
            + idsByRank[i] + ", " + scoresByRank[i] + ") exceeds rank " + (i - 1) + " (" + scoresByRank[i - 1] + ")");
      }
    }
    int m = limit(n);
    if (policy == SelectionPolicy.POSITIVE || policy == SelectionPolicy.NEGATIVE) {
      m = 0;
      while (m < n && scoresByRank[m] > 0) {
        m++;
      }
    }
    return Arrays.copyOf(idsByRank, m);
  }
}
