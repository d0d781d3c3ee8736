package dev.lethe.valuation;

import dev.lethe.math.Lbfgs;

/**
 * The final layer retrained on frozen features: L2-regularised multinomial logistic regression, the learner of
 * {@link ShapleyGame}. For the rows S it minimises
 *
 * <pre>
 *   f(w) = sum_{i in S} -log softmax(W^T a_i)_{y_i} + (lambda / 2) ||w||^2,   a_i = (x_i, 1)
 * </pre>
 *
 * which is strictly convex for lambda > 0, so its minimiser depends on S alone, not on the starting point: warm
 * starts only save iterations. Minimised by {@link Lbfgs} (memory {@value #MEMORY}) to a gradient norm below
 * {@code tolerance} (1 + |S|). The empty set gives w = 0. Parameters: w[j * K + c] for feature j (j = d: the bias)
 * and class c.
 */
final class SoftmaxHead {
  /** L-BFGS curvature pairs: the usual range is 3 to 20 (Nocedal and Wright 2006, Section 7.2). */
  static final int MEMORY = 10;

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
    if (m == 0) {
      java.util.Arrays.fill(w, 0);
      return 0;
    }
    double[] g = new double[w.length];
    double f = objective(x, y, rows, m, k, lambda, w, g);
    Lbfgs solver = new Lbfgs(w.length, MEMORY);
    solver.minimise((v, grad) -> objective(x, y, rows, m, k, lambda, v, grad), w, f, g, tolerance * (1 + m),
        maxIterations);
    return solver.iterations();
  }

  /**
   * The fit on a growing prefix of a permutation of the rows, one row at a time, each fit warm-started from the last
   * (its parameters and its L-BFGS curvature pairs). Adding row i changes the objective by row i's loss, so its value
   * and gradient at the current parameters are updated in O(d K) and the solver runs only when the gradient norm
   * exceeds the stopping rule's bound: the same stopping rule as {@link SoftmaxHead#fit}.
   */
  static final class Prefix {
    private final double[][] x;
    private final int[] y;
    private final int[] order;
    private final int k;
    private final double lambda;
    private final double tolerance;
    private final int maxIterations;
    private final double[] w;
    private final double[] g;
    private final double[] z;
    private final Lbfgs solver;
    private double f;
    private int m;

    /** The fit on the empty prefix of {@code order} (w = 0). */
    Prefix(double[][] x, int[] y, int[] order, int k, double lambda, double tolerance, int maxIterations) {
      this.x = x;
      this.y = y;
      this.order = order;
      this.k = k;
      this.lambda = lambda;
      this.tolerance = tolerance;
      this.maxIterations = maxIterations;
      int p = size(x[0].length, k);
      w = new double[p];
      g = new double[p];
      z = new double[k];
      solver = new Lbfgs(p, MEMORY);
    }

    /** The current parameters (a live view: {@link #grow} changes them). */
    double[] weights() {
      return w;
    }

    /** Adds the next row of the order and refits; returns the L-BFGS iterations run (0 when none were needed). */
    int grow() {
      int i = order[m];
      f += rowLoss(x[i], y[i], w, k, z, g);
      m++;
      if (norm(g) <= tolerance * (1 + m)) {
        return 0;
      }
      int rows = m;
      f = solver.minimise((v, grad) -> objective(x, y, order, rows, k, lambda, v, grad), w, f, g,
          tolerance * (1 + m), maxIterations);
      return solver.iterations();
    }
  }

  /** f(w), with its gradient written into {@code grad}. */
  static double objective(double[][] x, int[] y, int[] rows, int m, int k, double lambda, double[] w,
      double[] grad) {
    double f = 0;
    for (int j = 0; j < w.length; j++) {
      f += 0.5 * lambda * w[j] * w[j];
      grad[j] = lambda * w[j];
    }
    double[] z = new double[k];
    for (int r = 0; r < m; r++) {
      int i = rows[r];
      f += rowLoss(x[i], y[i], w, k, z, grad);
    }
    return f;
  }

  /** One row's -log softmax(W^T a)_label, with its gradient added to {@code grad}; {@code z} is scratch of k. */
  static double rowLoss(double[] a, int label, double[] w, int k, double[] z, double[] grad) {
    logits(a, w, k, z);
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (int c = 0; c < k; c++) {
      z[c] = Math.exp(z[c] - max);
      sum += z[c];
    }
    double loss = -Math.log(z[label] / sum);
    // z becomes the gradient of the loss in the logits: softmax - one-hot
    for (int c = 0; c < k; c++) {
      z[c] = z[c] / sum - (c == label ? 1 : 0);
    }
    int d = a.length;
    for (int j = 0; j < d; j++) {
      double v = a[j];
      if (v != 0) {
        int base = j * k;
        for (int c = 0; c < k; c++) {
          grad[base + c] += z[c] * v;
        }
      }
    }
    for (int c = 0; c < k; c++) {
      grad[d * k + c] += z[c];
    }
    return loss;
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
        int base = j * k;
        for (int c = 0; c < k; c++) {
          z[c] += v * w[base + c];
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
