package dev.lethe.valuation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The retrained layer's L-BFGS fit reaches the optimum of the L2-regularised softmax regression: checked against a
 * reference minimiser computed here by Newton's method with the exact Hessian to a gradient norm of 1e-11 (on 240
 * rows, 6 features on scales from 0.5 to 4, as standardised but correlated embeddings are, 4 classes,
 * lambda = 1e-2).
 */
class SoftmaxHeadTest {
  static final int K = 4;
  static final double LAMBDA = 1e-2;

  static double[][] x;
  static int[] y;

  static {
    Random rng = new Random(11);
    int n = 240;
    int d = 6;
    double[] scale = {1, 2, 4, 1, 0.5, 3};
    x = new double[n][d];
    y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = rng.nextInt(K);
      for (int j = 0; j < d; j++) {
        x[i][j] = scale[j] * (rng.nextGaussian() + (j % K == y[i] ? 1.0 : 0.0));
      }
    }
    // a few labels that disagree with the features, so the optimum is not separable
    for (int i = 0; i < n; i += 9) {
      y[i] = (y[i] + 1) % K;
    }
  }

  /** A fixed permutation of the rows. */
  static int[] firstRows(int m) {
    int[] rows = new int[x.length];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (int) ((i * 7L + 3) % x.length);
    }
    return rows;
  }

  /** The reference optimum on rows[0..m): Newton's method with the exact Hessian and a backtracking line search. */
  static double[] newton(int[] rows, int m) {
    int d = x[0].length;
    int p = SoftmaxHead.size(d, K);
    double[] w = new double[p];
    double[] g = new double[p];
    double f = SoftmaxHead.objective(x, y, rows, m, K, LAMBDA, w, g);
    double[] z = new double[K];
    for (int it = 0; it < 100 && norm(g) > 1e-11; it++) {
      double[][] h = new double[p][p];
      for (int a = 0; a < p; a++) {
        h[a][a] = LAMBDA;
      }
      for (int r = 0; r < m; r++) {
        double[] ai = new double[d + 1];
        System.arraycopy(x[rows[r]], 0, ai, 0, d);
        ai[d] = 1;
        SoftmaxHead.logits(x[rows[r]], w, K, z);
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
          max = Math.max(max, v);
        }
        double sum = 0;
        for (int c = 0; c < K; c++) {
          z[c] = Math.exp(z[c] - max);
          sum += z[c];
        }
        for (int c = 0; c < K; c++) {
          z[c] /= sum;
        }
        // d^2 loss / dW_jc dW_le = a_j a_l (p_c [c = e] - p_c p_e)
        for (int j = 0; j <= d; j++) {
          for (int l = 0; l <= d; l++) {
            for (int c = 0; c < K; c++) {
              for (int e = 0; e < K; e++) {
                h[j * K + c][l * K + e] += ai[j] * ai[l] * z[c] * ((c == e ? 1 : 0) - z[e]);
              }
            }
          }
        }
      }
      double[] step = solve(h, g);
      double t = 1;
      double[] trial = new double[p];
      double[] tg = new double[p];
      double ft;
      while (true) {
        for (int a = 0; a < p; a++) {
          trial[a] = w[a] - t * step[a];
        }
        ft = SoftmaxHead.objective(x, y, rows, m, K, LAMBDA, trial, tg);
        if (ft <= f || t < 1e-12) {
          break;
        }
        t /= 2;
      }
      w = trial;
      g = tg;
      f = ft;
    }
    assertThat(norm(g)).as("the reference's gradient norm").isLessThanOrEqualTo(1e-9);
    return w;
  }

  @Test
  void lbfgsReachesTheOptimumOfTheRegularisedSoftmax() {
    int[] rows = firstRows(x.length);
    double[] ref = newton(rows, x.length);
    double[] w = new double[ref.length];
    int iterations = SoftmaxHead.fit(x, y, rows, x.length, K, LAMBDA, 1e-10, 5000, w);
    System.err.printf("L-BFGS: %d iterations, |w - w*| = %.3g, |w*| = %.3g%n", iterations, distance(w, ref),
        norm(ref));
    // the gradient bound 1e-10 (1 + 240) gives |w - w*| <= 2.4e-8 / lambda_min(H) <= 2.4e-6
    assertThat(distance(w, ref)).isLessThanOrEqualTo(1e-6 * Math.max(1, norm(ref)));
    double[] g = new double[ref.length];
    double f = SoftmaxHead.objective(x, y, rows, x.length, K, LAMBDA, w, g);
    double fRef = SoftmaxHead.objective(x, y, rows, x.length, K, LAMBDA, ref, new double[ref.length]);
    assertThat(f - fRef).as("objective above the optimum").isBetween(-1e-9, 1e-9 * Math.abs(fRef));
  }

  @Test
  void theWarmStartedPrefixFitReachesEachPrefixsOptimum() {
    int[] rows = firstRows(x.length);
    SoftmaxHead.Prefix prefix = new SoftmaxHead.Prefix(x, y, rows, K, LAMBDA, 1e-10, 5000);
    for (int m = 1; m <= x.length; m++) {
      prefix.grow();
      if (m == 1 || m == 17 || m == 100 || m == x.length) {
        double[] ref = newton(rows, m);
        assertThat(distance(prefix.weights(), ref)).as("prefix of %d", m)
            .isLessThanOrEqualTo(1e-6 * Math.max(1, norm(ref)));
      }
    }
  }

  @Test
  void aLooseToleranceStopsWithinItsGradientBound() {
    int[] rows = firstRows(x.length);
    double[] ref = newton(rows, x.length);
    double[] w = new double[ref.length];
    SoftmaxHead.fit(x, y, rows, x.length, K, LAMBDA, 1e-4, 200, w);
    double[] g = new double[ref.length];
    SoftmaxHead.objective(x, y, rows, x.length, K, LAMBDA, w, g);
    assertThat(norm(g)).isLessThanOrEqualTo(1e-4 * (1 + x.length));
    // strong convexity with modulus >= lambda: |w - w*| <= |grad f(w)| / lambda
    assertThat(distance(w, ref)).isLessThanOrEqualTo(norm(g) / LAMBDA);
  }

  /** Solves h s = b by Gaussian elimination with partial pivoting (h symmetric positive definite). */
  static double[] solve(double[][] h, double[] b) {
    int n = b.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = java.util.Arrays.copyOf(h[i], n + 1);
      a[i][n] = b[i];
    }
    for (int c = 0; c < n; c++) {
      int pivot = c;
      for (int r = c + 1; r < n; r++) {
        pivot = Math.abs(a[r][c]) > Math.abs(a[pivot][c]) ? r : pivot;
      }
      double[] t = a[c];
      a[c] = a[pivot];
      a[pivot] = t;
      for (int r = c + 1; r < n; r++) {
        double f = a[r][c] / a[c][c];
        for (int j = c; j <= n; j++) {
          a[r][j] -= f * a[c][j];
        }
      }
    }
    double[] s = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double v = a[r][n];
      for (int j = r + 1; j < n; j++) {
        v -= a[r][j] * s[j];
      }
      s[r] = v / a[r][r];
    }
    return s;
  }

  static double norm(double[] v) {
    double s = 0;
    for (double a : v) {
      s += a * a;
    }
    return Math.sqrt(s);
  }

  static double distance(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(s);
  }
}
