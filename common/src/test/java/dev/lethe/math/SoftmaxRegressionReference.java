package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import java.util.Arrays;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The convex ground truth shared by the influence and repair checks: L2-regularised multinomial logistic
 * regression on synthetic 2-D points in 3 Gaussian classes, in plain double arithmetic, with exact (damped Newton)
 * fits. Reference parameters: W[j][c] at j*K+c, bias c at D*K+c (mapped to DL4J by name, not by layout).
 */
public final class SoftmaxRegressionReference {
  public static final int D = 2;
  public static final int K = 3;
  public static final int P = (D + 1) * K;
  /** L2 strength of the reference objective. */
  public static final double MU = 1e-2;
  private static final double[][] CENTRES = {{0, 0}, {2.5, 0}, {1.25, 2.2}};

  private SoftmaxRegressionReference() {}

  /** n points, label uniform over the classes, features = the class centre + unit Gaussian noise. */
  public static ExampleSet sample(Random rng, int n, long idBase) {
    long[] ids = new long[n];
    float[][] f = new float[n][D];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = idBase + i;
      y[i] = rng.nextInt(K);
      for (int j = 0; j < D; j++) {
        f[i][j] = (float) (CENTRES[y[i]][j] + rng.nextGaussian());
      }
    }
    return ExampleSet.clean(ids, f, y, D);
  }

  public static double[] logits(double[] t, float[] x) {
    double[] z = new double[K];
    for (int c = 0; c < K; c++) {
      z[c] = t[D * K + c];
      for (int j = 0; j < D; j++) {
        z[c] += x[j] * t[j * K + c];
      }
    }
    return z;
  }

  public static double[] probs(double[] t, float[] x) {
    double[] z = logits(t, x);
    double max = Arrays.stream(z).max().orElseThrow();
    double s = 0;
    for (int c = 0; c < K; c++) {
      z[c] = Math.exp(z[c] - max);
      s += z[c];
    }
    for (int c = 0; c < K; c++) {
      z[c] /= s;
    }
    return z;
  }

  public static double logp(double[] t, float[] x, int y) {
    double[] z = logits(t, x);
    double max = Arrays.stream(z).max().orElseThrow();
    double s = 0;
    for (int c = 0; c < K; c++) {
      s += Math.exp(z[c] - max);
    }
    return z[y] - max - Math.log(s);
  }

  public static int predict(double[] t, float[] x) {
    double[] p = probs(t, x);
    int best = 0;
    for (int c = 1; c < K; c++) {
      best = p[c] > p[best] ? c : best;
    }
    return best;
  }

  public static double sumLogp(double[] t, ExampleSet s) {
    double sum = 0;
    for (int i = 0; i < s.size(); i++) {
      sum += logp(t, s.features(i), s.label(i));
    }
    return sum;
  }

  /** grad log p(y | x) in the reference layout: a_j (1[c = y] - p_c), a = (x, 1). */
  public static double[] gradLogp(double[] t, float[] x, int y) {
    double[] p = probs(t, x);
    double[] g = new double[P];
    for (int j = 0; j <= D; j++) {
      double a = j < D ? x[j] : 1.0;
      for (int c = 0; c < K; c++) {
        g[j * K + c] = a * ((c == y ? 1 : 0) - p[c]);
      }
    }
    return g;
  }

  /** Adds -Hessian of log p(y | x) to h: (diag(p) - p p^T) kron a a^T (independent of y). */
  public static void addNegHessian(double[] t, float[] x, double[][] h) {
    double[] p = probs(t, x);
    for (int j = 0; j <= D; j++) {
      double aj = j < D ? x[j] : 1.0;
      for (int j2 = 0; j2 <= D; j2++) {
        double aj2 = j2 < D ? x[j2] : 1.0;
        for (int c = 0; c < K; c++) {
          for (int c2 = 0; c2 < K; c2++) {
            h[j * K + c][j2 * K + c2] += aj * aj2 * ((c == c2 ? p[c] : 0) - p[c] * p[c2]);
          }
        }
      }
    }
  }

  /** sum over s without row {@code skip} (null: none) of log p, minus (mu/2) ||theta||^2. */
  public static double objective(double[] t, ExampleSet s, Integer skip) {
    double v = 0;
    for (int i = 0; i < s.size(); i++) {
      if (skip == null || i != skip) {
        v += logp(t, s.features(i), s.label(i));
      }
    }
    for (double x : t) {
      v -= MU / 2 * x * x;
    }
    return v;
  }

  /**
   * Maximises {@link #objective} over s without row {@code skip} (null: none) by damped Newton from {@code start},
   * to a gradient norm below 1e-10 (the optimum is unique).
   */
  public static double[] fit(ExampleSet s, Integer skip, double[] start) {
    double[] t = start;
    for (int it = 0; it < 100; it++) {
      double[] g = new double[P];
      double[][] h = new double[P][P];
      for (int i = 0; i < s.size(); i++) {
        if (skip != null && i == skip) {
          continue;
        }
        double[] gi = gradLogp(t, s.features(i), s.label(i));
        for (int q = 0; q < P; q++) {
          g[q] += gi[q];
        }
        addNegHessian(t, s.features(i), h);
      }
      double gn = 0;
      for (int q = 0; q < P; q++) {
        g[q] -= MU * t[q];
        h[q][q] += MU;
        gn += g[q] * g[q];
      }
      if (Math.sqrt(gn) < 1e-10) {
        return t;
      }
      double[] step = DenseSolve.solve(h, g);
      double f0 = objective(t, s, skip);
      double alpha = 1;
      double[] next = new double[P];
      while (true) {
        for (int q = 0; q < P; q++) {
          next[q] = t[q] + alpha * step[q];
        }
        // near the optimum, take full Newton steps (objective differences are below rounding there)
        if (Math.sqrt(gn) < 1e-4 || objective(next, s, skip) >= f0 || alpha < 1e-8) {
          break;
        }
        alpha /= 2;
      }
      t = next.clone();
    }
    throw new AssertionError("Newton did not converge");
  }

  /** A double-precision DL4J softmax regression with these reference parameters. */
  public static MultiLayerNetwork network(double[] theta) {
    MultiLayerNetwork net = TestNets.logisticRegression(D, K, 1, DataType.DOUBLE);
    double[][] w = new double[D][K];
    double[] b = new double[K];
    for (int c = 0; c < K; c++) {
      for (int j = 0; j < D; j++) {
        w[j][c] = theta[j * K + c];
      }
      b[c] = theta[D * K + c];
    }
    net.getLayer(0).setParam("W", Nd4j.createFromArray(w));
    net.getLayer(0).setParam("b", Nd4j.createFromArray(b).reshape(1, K));
    return net;
  }

  /** The reference parameters of a DL4J softmax regression. */
  public static double[] theta(MultiLayerNetwork net) {
    double[] t = new double[P];
    for (int c = 0; c < K; c++) {
      for (int j = 0; j < D; j++) {
        t[j * K + c] = net.getLayer(0).getParam("W").getDouble(j, c);
      }
      // the bias may be [1, K] or [K] depending on how the network was built
      t[D * K + c] = net.getLayer(0).getParam("b").reshape(-1).getDouble(c);
    }
    return t;
  }
}
