package dev.lethe.treatment;

import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DenseSolve;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.TestNets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Convex ground truth for the treatments: L2-regularised multinomial logistic regression (double precision) on
 * 200 synthetic 2-D points in 3 Gaussian classes, with {@value #FLIPS} labels of class 0 flipped to class 1 (C =
 * the flipped points). theta_hat maximises sum_D log p - (mu/2) ||theta||^2 and theta_-C the same over D \ C, both
 * by damped Newton to a gradient norm below 1e-10 (the optimum is unique). Fq = clean test points that theta_hat
 * misclassifies. Reference parameters: W[j][c] at j*K+c, bias c at D*K+c (mapped to DL4J by name, not by layout).
 */
final class ConvexRepairFixture {
  static final int D = 2;
  static final int K = 3;
  static final int P = (D + 1) * K;
  static final int N = 200;
  static final int FLIPS = 20;
  static final double MU = 1e-2;
  private static final double[][] CENTRES = {{0, 0}, {2.5, 0}, {1.25, 2.2}};

  final ExampleSet train;
  final ExampleSet culprits;
  final ExampleSet test;
  final ExampleSet query;
  final double[] thetaHat;
  final double[] thetaMinusC;
  final MultiLayerNetwork model;
  final DiagonalFisher fisher;

  ConvexRepairFixture() {
    Random rng = new Random(2022);
    ExampleSet clean = sample(rng, N, 0);
    int[] labels = clean.labels().clone();
    Corruption[] corr = new Corruption[N];
    Arrays.fill(corr, Corruption.NONE);
    List<Integer> flipped = new ArrayList<>();
    for (int i = 0; i < N && flipped.size() < FLIPS; i++) {
      if (labels[i] == 0) {
        labels[i] = 1;
        corr[i] = Corruption.LABEL_FLIP;
        flipped.add(i);
      }
    }
    train = clean.withLabels(labels, corr);
    culprits = train.select(flipped.stream().mapToInt(Integer::intValue).toArray());
    int[] keep = java.util.stream.IntStream.range(0, N).filter(i -> !flipped.contains(i)).toArray();
    thetaHat = fit(train, new double[P]);
    thetaMinusC = fit(train.select(keep), thetaHat.clone());
    test = sample(rng, 600, 10_000);
    List<Integer> wrong = new ArrayList<>();
    for (int i = 0; i < test.size(); i++) {
      if (predict(thetaHat, test.features(i)) != test.label(i)) {
        wrong.add(i);
      }
    }
    query = test.select(wrong.stream().mapToInt(Integer::intValue).toArray());
    model = network(thetaHat);
    fisher = EmpiricalFisher.compute(model, train);
  }

  static ExampleSet sample(Random rng, int n, long idBase) {
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

  /** A double-precision DL4J softmax regression with these reference parameters. */
  static MultiLayerNetwork network(double[] theta) {
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
  static double[] theta(MultiLayerNetwork net) {
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

  static double[] probs(double[] t, float[] x) {
    double[] z = new double[K];
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < K; c++) {
      z[c] = t[D * K + c];
      for (int j = 0; j < D; j++) {
        z[c] += x[j] * t[j * K + c];
      }
      max = Math.max(max, z[c]);
    }
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

  static int predict(double[] t, float[] x) {
    double[] p = probs(t, x);
    int best = 0;
    for (int c = 1; c < K; c++) {
      best = p[c] > p[best] ? c : best;
    }
    return best;
  }

  /** grad log p(y | x) in the reference layout: a_j (1[c = y] - p_c), a = (x, 1). */
  static double[] gradLogp(double[] t, float[] x, int y) {
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

  /** -Hessian of log p(y | x): (diag(p) - p p^T) kron a a^T (independent of y). */
  static void addNegHessian(double[] t, float[] x, double[][] h) {
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

  static double objective(double[] t, ExampleSet s) {
    double v = 0;
    for (int i = 0; i < s.size(); i++) {
      v += Math.log(probs(t, s.features(i))[s.label(i)]);
    }
    for (double x : t) {
      v -= MU / 2 * x * x;
    }
    return v;
  }

  /** argmax sum_s log p - (mu/2) ||theta||^2 by damped Newton from {@code t}. */
  static double[] fit(ExampleSet s, double[] t) {
    for (int it = 0; it < 100; it++) {
      double[] g = new double[P];
      double[][] h = new double[P][P];
      for (int i = 0; i < s.size(); i++) {
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
      double f0 = objective(t, s);
      double alpha = 1;
      double[] next = new double[P];
      do {
        for (int q = 0; q < P; q++) {
          next[q] = t[q] + alpha * step[q];
        }
        alpha /= 2;
      } while (Math.sqrt(gn) >= 1e-4 && objective(next, s) < f0 && alpha > 1e-8);
      t = next.clone();
    }
    throw new AssertionError("Newton did not converge");
  }

  static double distance(double[] a, double[] b) {
    double s = 0;
    for (int q = 0; q < a.length; q++) {
      s += (a[q] - b[q]) * (a[q] - b[q]);
    }
    return Math.sqrt(s);
  }

  /** Accuracy of reference parameters against the ORIGINAL (clean) labels of {@code s}. */
  static double cleanAccuracy(double[] t, ExampleSet s) {
    int right = 0;
    for (int i = 0; i < s.size(); i++) {
      right += predict(t, s.features(i)) == s.originalLabel(i) ? 1 : 0;
    }
    return right / (double) s.size();
  }
}
