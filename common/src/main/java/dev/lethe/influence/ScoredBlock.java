package dev.lethe.influence;

/**
 * Scores of one block.
 *
 * @param score r(z) per row
 * @param logpBefore log p(z | theta_hat) per row (NaN where the method does not compute it)
 * @param logpAfter log p(z | theta*) per row (NaN where the method does not compute it)
 */
public record ScoredBlock(double[] score, double[] logpBefore, double[] logpAfter) {
  public ScoredBlock {
    if (logpBefore.length != score.length || logpAfter.length != score.length) {
      throw new IllegalArgumentException("score columns differ in length");
    }
  }

  /** A block with scores only (log p columns NaN). */
  static ScoredBlock scoresOnly(double[] score) {
    return new ScoredBlock(score, nan(score.length), nan(score.length));
  }

  /** Scores only, row i scored by {@code f.applyAsDouble(i)}. */
  static ScoredBlock ofRows(int n, java.util.function.IntToDoubleFunction f) {
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = f.applyAsDouble(i);
    }
    return scoresOnly(s);
  }

  static double[] nan(int n) {
    double[] a = new double[n];
    java.util.Arrays.fill(a, Double.NaN);
    return a;
  }
}
