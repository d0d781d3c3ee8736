package dev.lethe.influence;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Confident learning's estimates from out-of-fold probabilities (Northcutt, Jiang, Chuang 2021, "Confident Learning:
 * Estimating Uncertainty in Dataset Labels", JAIR 70): the per-class thresholds (Eq. 2), the confident joint
 * C[i][j] (Eq. 1), its calibration to the joint Q of given and true labels (Eq. 3), the noise matrix
 * P(given = i | true = j), and each example's label-quality score.
 */
public final class LabelQuality {
  private LabelQuality() {}

  /** How an example's label quality is scored (cleanlab's rank_by). */
  public enum Score {
    /** p_oof(y | x), the predicted probability of the given label. */
    SELF_CONFIDENCE("self-confidence"),
    /** p_oof(y | x) - max_{k != y} p_oof(k | x), in [-1, 1]. */
    NORMALIZED_MARGIN("normalized-margin");

    private final String key;

    Score(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }

    /** Parses {@code self-confidence} or {@code normalized-margin}. */
    public static Score parse(String value) {
      String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
      for (Score s : values()) {
        if (s.key.equals(v)) {
          return s;
        }
      }
      throw new IllegalArgumentException("identify.confident-learning.score must be self-confidence or"
          + " normalized-margin, got '" + value + "'");
    }
  }

  /** The label quality of a row (higher = more likely correct). */
  public static double quality(double[] p, int label, Score score) {
    if (score == Score.SELF_CONFIDENCE) {
      return p[label];
    }
    double other = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < p.length; k++) {
      if (k != label) {
        other = Math.max(other, p[k]);
      }
    }
    return p[label] - other;
  }

  /**
   * t_j = the mean of p_oof(j | x) over the examples labelled j (Eq. 2); +infinity for a class without examples, so
   * nothing is counted as confidently of that class.
   */
  public static double[] thresholds(OutOfFold oof) {
    int k = oof.numClasses();
    double[] sum = new double[k];
    long[] count = new long[k];
    for (int r = 0; r < oof.size(); r++) {
      int y = oof.labels()[r];
      sum[y] += oof.probs()[r][y];
      count[y]++;
    }
    double[] t = new double[k];
    for (int j = 0; j < k; j++) {
      t[j] = count[j] == 0 ? Double.POSITIVE_INFINITY : sum[j] / count[j];
    }
    return t;
  }

  /**
   * The confident joint (Eq. 1): C[i][j] counts the examples labelled i whose p_oof(j | x) >= t_j, each counted once,
   * for the class of largest probability among those above their threshold (none when no class is).
   */
  public static long[][] confidentJoint(OutOfFold oof, double[] t) {
    int k = oof.numClasses();
    long[][] c = new long[k][k];
    for (int r = 0; r < oof.size(); r++) {
      int best = confidentClass(oof.probs()[r], t);
      if (best >= 0) {
        c[oof.labels()[r]][best]++;
      }
    }
    return c;
  }

  /**
   * The class an example is confidently counted as in the confident joint: of the classes j with p(j) >= t_j, the
   * most probable (the smaller class on ties); -1 when there is none.
   */
  public static int confidentClass(double[] p, double[] t) {
    int best = -1;
    for (int j = 0; j < p.length; j++) {
      if (p[j] >= t[j] && (best < 0 || p[j] > p[best])) {
        best = j;
      }
    }
    return best;
  }

  /**
   * The noise matrix P(given = i | true = j) from the confident joint calibrated so that each row i sums to the
   * number of examples labelled i (Eq. 3) and normalised per column j; a column without counts is 0.
   */
  public static double[][] noiseMatrix(OutOfFold oof, long[][] c) {
    int k = c.length;
    long[] given = new long[k];
    for (int y : oof.labels()) {
      given[y]++;
    }
    double[][] q = new double[k][k];
    for (int i = 0; i < k; i++) {
      long row = 0;
      for (long v : c[i]) {
        row += v;
      }
      for (int j = 0; j < k; j++) {
        q[i][j] = row == 0 ? 0 : (double) c[i][j] / row * given[i];
      }
    }
    double[][] noise = new double[k][k];
    for (int j = 0; j < k; j++) {
      double col = 0;
      for (int i = 0; i < k; i++) {
        col += q[i][j];
      }
      for (int i = 0; i < k; i++) {
        noise[i][j] = col == 0 ? 0 : q[i][j] / col;
      }
    }
    return noise;
  }

  /** The off-diagonal count of the confident joint: the number of label issues confident learning estimates. */
  public static long offDiagonal(long[][] c) {
    long n = 0;
    for (int i = 0; i < c.length; i++) {
      for (int j = 0; j < c.length; j++) {
        n += i == j ? 0 : c[i][j];
      }
    }
    return n;
  }

  /** A matrix as nested lists (for the run record). */
  static List<List<Double>> rows(double[][] m) {
    List<List<Double>> out = new ArrayList<>();
    for (double[] r : m) {
      out.add(java.util.Arrays.stream(r).boxed().toList());
    }
    return out;
  }

  static List<List<Long>> rows(long[][] m) {
    List<List<Long>> out = new ArrayList<>();
    for (long[] r : m) {
      out.add(java.util.Arrays.stream(r).boxed().toList());
    }
    return out;
  }
}
