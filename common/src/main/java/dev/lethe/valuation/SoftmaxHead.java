package dev.lethe.valuation;

/**
 * The final layer retrained on frozen features: L2-regularised multinomial logistic regression, the learner of
 * {@link ShapleyGame}. For the rows S it minimises
 *
 * <pre>
 *   f(w) = sum_{i in S} -log softmax(W^T a_i)_{y_i} + (lambda / 2) ||w||^2,   a_i = (x_i, 1)
 * </pre>
 *
 * which is strictly convex for lambda > 0, so its minimiser depends on S alone, not on the starting point: warm
 * starts only save iterations. Minimised by gradient descent with Barzilai-Borwein steps, safeguarded by halving
 * until the objective decreases, to a gradient norm below {@code tolerance} (1 + |S|). The empty set gives w = 0.
 * Parameters: w[j * K + c] for feature j (j = d: the bias) and class c.
 */
final class SoftmaxHead {
  private SoftmaxHead() {}

  /** Number of parameters for d features and k classes. */
  static int size(int d, int k) {
    return (d + 1) * k;
  }

  /**
   * Fits the rows {@code rows[0..m)} of (x, y), starting from and writing into {@code w}; returns the iterations run.
   */
  static int fit(double[][] x, int[] y, int[] rows, int m, int k, double lambda, double tolerance, int maxIterations,
      double[] w) {
    return fit(x, y, rows, m, k, lambda, tolerance, maxIterations, w, new double[1]);
  }

  /**
   * As {@link #fit(double[][], int[], int[], int, int, double, double, int, double[])}, starting with the step size
   * {@code step[0]} when it is positive (the last step of a previous fit on a similar set, which saves the first
   * iterations' search) and leaving the last step there.
   */
  static int fit(double[][] x, int[] y, int[] rows, int m, int k, double lambda, double tolerance, int maxIterations,
      double[] w, double[] step) {
    if (m == 0) {
      java.util.Arrays.fill(w, 0);
      return 0;
    }
    int p = w.length;
    double[] g = new double[p];
    double[] gPrev = new double[p];
    double[] wPrev = new double[p];
    double[] trial = new double[p];
    double f = objective(x, y, rows, m, k, lambda, w, g);
    double limit = tolerance * (1 + m);
    double a = step[0] > 0 ? step[0] : 1.0 / (lambda + 0.5 * m);
    int it = 0;
    while (it < maxIterations && norm(g) > limit) {
      System.arraycopy(w, 0, wPrev, 0, p);
      System.arraycopy(g, 0, gPrev, 0, p);
      double fNew;
      while (true) {
        for (int j = 0; j < p; j++) {
          trial[j] = w[j] - a * g[j];
        }
        fNew = objective(x, y, rows, m, k, lambda, trial, g);
        if (fNew <= f || a < 1e-20) {
          break;
        }
        a /= 2;
      }
      System.arraycopy(trial, 0, w, 0, p);
      f = fNew;
      double ss = 0;
      double sy = 0;
      for (int j = 0; j < p; j++) {
        double s = w[j] - wPrev[j];
        double d = g[j] - gPrev[j];
        ss += s * s;
        sy += s * d;
      }
      // Barzilai-Borwein: the step of the secant's curvature along the last move
      a = sy > 0 ? ss / sy : a;
      it++;
    }
    step[0] = a;
    return it;
  }

  /** f(w), with its gradient written into {@code grad}. */
  static double objective(double[][] x, int[] y, int[] rows, int m, int k, double lambda, double[] w,
      double[] grad) {
    int d = x[0].length;
    double f = 0;
    for (int j = 0; j < w.length; j++) {
      f += 0.5 * lambda * w[j] * w[j];
      grad[j] = lambda * w[j];
    }
    double[] z = new double[k];
    for (int r = 0; r < m; r++) {
      int i = rows[r];
      logits(x[i], w, k, z);
      double max = Double.NEGATIVE_INFINITY;
      for (double v : z) {
        max = Math.max(max, v);
      }
      double sum = 0;
      for (int c = 0; c < k; c++) {
        z[c] = Math.exp(z[c] - max);
        sum += z[c];
      }
      f -= Math.log(z[y[i]] / sum);
      for (int c = 0; c < k; c++) {
        double e = z[c] / sum - (c == y[i] ? 1 : 0);
        for (int j = 0; j < d; j++) {
          grad[j * k + c] += e * x[i][j];
        }
        grad[d * k + c] += e;
      }
    }
    return f;
  }

  /** The logits of features {@code a} into {@code z}. */
  static void logits(double[] a, double[] w, int k, double[] z) {
    int d = a.length;
    for (int c = 0; c < k; c++) {
      z[c] = w[d * k + c];
    }
    for (int j = 0; j < d; j++) {
      double v = a[j];
      if (v != 0) {
        for (int c = 0; c < k; c++) {
          z[c] += v * w[j * k + c];
        }
      }
    }
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
