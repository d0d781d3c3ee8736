package dev.lethe.math;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import java.util.Random;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * CG and LiSSA against exact solves (Gaussian elimination with partial pivoting). Tolerances: CG relative error
 * < 1e-6; deterministic (full-batch) LiSSA < 1e-6; stochastic minibatch LiSSA < 5e-2.
 */
class SolversTest {

  @Test
  void lissaWithTooSmallAScaleDivergesAndIsReportedAsBadConfig() {
    // H = diag(1, 50): scale 10 < 50, so |1 - 50/10| = 4 > 1 and the recursion blows up
    LinearOperator h = new LinearOperator() {
      @Override
      public long size() {
        return 2;
      }

      @Override
      public void apply(double[] x, double[] out) {
        out[0] = x[0];
        out[1] = 50 * x[1];
      }
    };
    double[] b = {1, 1};
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> Lissa.divergenceIsBadConfig("identify.linear.lissa.scale",
            () -> Lissa.solve(seed -> h, b, 0, 10, 100, 1, 7)))
        .isInstanceOf(dev.lethe.LetheInputException.class)
        .hasMessageStartingWith("identify.linear.lissa.scale: LiSSA diverged at step")
        .hasMessageContaining("use 0 for automatic");
    // scale 75 > 50 converges to H^-1 b = (1, 0.02)
    double[] x = Lissa.divergenceIsBadConfig("k", () -> Lissa.solve(seed -> h, b, 0, 75, 2000, 1, 7));
    assertThat(x[0]).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(x[1]).isCloseTo(0.02, org.assertj.core.api.Assertions.within(1e-9));
  }

  @Test
  void conjugateGradientSolvesRandomSpdSystem() {
    int n = 40;
    Random rng = new Random(3);
    double[][] b0 = new double[n][n];
    for (double[] row : b0) {
      for (int j = 0; j < n; j++) {
        row[j] = rng.nextGaussian();
      }
    }
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int k = 0; k < n; k++) {
          a[i][j] += b0[k][i] * b0[k][j] / n;
        }
      }
      a[i][i] += 0.05 * (1 + i);  // uneven diagonal: Jacobi helps
    }
    double[] b = rng.doubles(n).toArray();
    double[] exact = DenseSolve.solve(a, b);
    LinearOperator op = dense(a);
    ConjugateGradient.Result plain = ConjugateGradient.solve(op, b, 500, 1e-12);
    double[] diag = new double[n];
    for (int i = 0; i < n; i++) {
      diag[i] = a[i][i];
    }
    ConjugateGradient.Result jacobi = ConjugateGradient.solve(op, b, 500, 1e-12, diag);
    double e1 = relError(plain.x(), exact);
    double e2 = relError(jacobi.x(), exact);
    System.err.printf("CG dense SPD n=%d: rel error %.3g in %d its; Jacobi-PCG %.3g in %d its%n", n, e1,
        plain.iterations(), e2, jacobi.iterations());
    assertThat(e1).isLessThan(1e-6);
    assertThat(e2).isLessThan(1e-6);
    assertThat(plain.relResidual()).isLessThan(1e-10);
  }

  @Test
  void solversMatchExactSolveOnLogisticRegressionFisher() {
    MultiLayerNetwork net = TestNets.logisticRegression(5, 3, 9, DataType.DOUBLE);
    ExampleSet sample = TestNets.randomSet(400, 5, 3, 31, 0);
    double damping = 1e-2;
    EmpiricalFisherOperator op = new EmpiricalFisherOperator(net, sample, damping);
    int p = (int) op.size();
    double[][] a = materialise(op);
    double[] b = PerExampleGradients.sumArray(net, TestNets.randomSet(12, 5, 3, 77, 1000), 256);
    double[] exact = DenseSolve.solve(a, b);

    ConjugateGradient.Result cg = ConjugateGradient.solve(op, b, 200, 1e-10, op.diagonal());
    double cgErr = relError(cg.x(), exact);

    // the same operator recomputing gradients per product (no precomputation) gives the same answer
    EmpiricalFisherOperator slow = new EmpiricalFisherOperator(net, sample, damping, 0);
    assertThat(slow.precomputed()).isFalse();
    double[] y1 = new double[p];
    double[] y2 = new double[p];
    op.apply(b, y1);
    slow.apply(b, y2);
    assertThat(relError(y2, y1)).isLessThan(1e-12);

    double scale = Lissa.automaticScale(op.largestSquaredGradientNorm(), damping);
    // full-batch recursion (deterministic): converges geometrically at rate 1 - lambda_min / scale
    EmpiricalFisherOperator noDamping = op.subset(range(sample.size()), 0);
    double[] full = Lissa.solve(seed -> noDamping, b, damping, scale, 20000, 1, 5);
    double fullErr = relError(full, exact);
    // stochastic minibatches of 50, averaged over repeats
    long t0 = System.nanoTime();
    double[] stoch = Lissa.solve(seed -> op.subset(sampleRows(seed, sample.size(), 50), 0), b, damping, scale,
        5000, 4, 7);
    double stochErr = relError(stoch, exact);
    System.err.printf("LR Fisher p=%d: CG rel error %.3g (%d its, residual %.3g); LiSSA scale %.3f:"
        + " full-batch rel error %.3g, minibatch(50) x4 repeats rel error %.3g (%d ms)%n", p, cgErr,
        cg.iterations(), cg.relResidual(), scale, fullErr, stochErr, (System.nanoTime() - t0) / 1_000_000);
    assertThat(cgErr).isLessThan(1e-6);
    assertThat(fullErr).isLessThan(1e-6);
    assertThat(stochErr).isLessThan(5e-2);
  }

  /**
   * The automatic LiSSA scale bounds every minibatch, including one that an outlier row dominates: a scale of 1.5 x
   * the mean curvature's top eigenvalue (the old automatic choice) diverges on 16-row minibatches when one row's
   * gradient is 20x larger than the rest, and the automatic scale converges to the exact solution.
   */
  @Test
  void automaticLissaScaleBoundsEveryMinibatchEvenWithAnOutlierRow() {
    MultiLayerNetwork net = TestNets.logisticRegression(5, 3, 9, DataType.DOUBLE);
    ExampleSet base = TestNets.randomSet(400, 5, 3, 31, 0);
    float[][] f = new float[base.size()][];
    long[] ids = new long[base.size()];
    int[] y = new int[base.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = base.features(i).clone();
      ids[i] = base.id(i);
      y[i] = base.label(i);
    }
    int outlier = 123;
    for (int j = 0; j < f[outlier].length; j++) {
      f[outlier][j] *= 20;
    }
    ExampleSet sample = ExampleSet.clean(ids, f, y, 5);
    double damping = 1e-2;
    EmpiricalFisherOperator op = new EmpiricalFisherOperator(net, sample, damping);
    double bound = op.largestSquaredGradientNorm();
    double[][] a = materialise(op);
    double meanTop = topEigenvalue(a) - damping;
    // the worst minibatch (the outlier 16 times) is rank one with eigenvalue exactly the bound
    int[] worst = new int[16];
    java.util.Arrays.fill(worst, outlier);
    double worstTop = topEigenvalue(materialise(op.subset(worst, 0)));
    System.err.printf("outlier LR Fisher: mean-curvature top eigenvalue %.4g, worst minibatch %.4g, bound %.4g%n",
        meanTop, worstTop, bound);
    assertThat(worstTop).isCloseTo(bound, org.assertj.core.api.Assertions.within(1e-8 * bound));
    assertThat(bound).isGreaterThan(10 * meanTop);
    // and random minibatches never exceed it
    for (long seed = 0; seed < 20; seed++) {
      assertThat(topEigenvalue(materialise(op.randomMinibatch(seed, 16)))).isLessThanOrEqualTo(bound * (1 + 1e-9));
    }

    double[] b = PerExampleGradients.sumArray(net, TestNets.randomSet(12, 5, 3, 77, 1000), 256);
    double[] exact = DenseSolve.solve(a, b);
    // a minibatch sequence that draws the outlier-only batch every time (possible when sampling with replacement)
    // breaks the old choice, not the automatic one, which solves that batch's damped system
    EmpiricalFisherOperator worstBatch = op.subset(worst, 0);
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> Lissa.solve(seed -> worstBatch, b, damping, 1.5 * meanTop, 2000, 1, 7))
        .isInstanceOf(Lissa.Diverged.class);
    double scale = Lissa.automaticScale(bound, damping);
    assertThat(scale).isEqualTo(bound + damping);
    double[][] aWorst = materialise(op.subset(worst, damping));
    double worstErr = relError(Lissa.solve(seed -> worstBatch, b, damping, scale, 2_000_000, 1, 7),
        DenseSolve.solve(aWorst, b));
    EmpiricalFisherOperator noDamping = op.subset(range(sample.size()), 0);
    double fullErr = relError(Lissa.solve(seed -> noDamping, b, damping, scale, 400_000, 1, 5), exact);
    double stochErr = relError(Lissa.solve(seed -> op.randomMinibatch(seed, 16), b, damping, scale, 20_000, 4, 7),
        exact);
    System.err.printf("outlier LR Fisher, automatic scale %.4g: outlier-only batches rel error %.3g, full-batch %.3g,"
        + " minibatch(16) x4 %.3g%n", scale, worstErr, fullErr, stochErr);
    assertThat(worstErr).isLessThan(1e-6);
    assertThat(fullErr).isLessThan(1e-6);
    assertThat(stochErr).isLessThan(0.2);
  }

  @Test
  void automaticLissaScaleRejectsASingularSystem() {
    assertThat(Lissa.automaticScale(0, 1e-3)).isEqualTo(1e-3);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Lissa.automaticScale(0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("singular");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Lissa.automaticScale(Double.NaN, 1e-3))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** The largest eigenvalue of a symmetric positive semi-definite matrix, by 2000 power iterations. */
  private static double topEigenvalue(double[][] a) {
    int n = a.length;
    double[] v = new double[n];
    java.util.Arrays.fill(v, 1.0);
    double lambda = 0;
    for (int it = 0; it < 2000; it++) {
      double[] w = new double[n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          w[i] += a[i][j] * v[j];
        }
      }
      double norm = 0;
      double dot = 0;
      for (int i = 0; i < n; i++) {
        norm += w[i] * w[i];
        dot += v[i] * w[i];
      }
      double vv = 0;
      for (double x : v) {
        vv += x * x;
      }
      lambda = dot / vv;
      norm = Math.sqrt(norm);
      for (int i = 0; i < n; i++) {
        v[i] = w[i] / norm;
      }
    }
    return lambda;
  }

  private static int[] range(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  private static int[] sampleRows(long seed, int n, int k) {
    SplittableRandom rng = new SplittableRandom(seed);
    int[] r = new int[k];
    for (int i = 0; i < k; i++) {
      r[i] = rng.nextInt(n);
    }
    return r;
  }

  static double[][] materialise(LinearOperator op) {
    int p = (int) op.size();
    double[][] a = new double[p][p];
    double[] e = new double[p];
    double[] col = new double[p];
    for (int j = 0; j < p; j++) {
      e[j] = 1;
      op.apply(e, col);
      e[j] = 0;
      for (int i = 0; i < p; i++) {
        a[i][j] = col[i];
      }
    }
    return a;
  }

  static LinearOperator dense(double[][] a) {
    return new LinearOperator() {
      @Override
      public long size() {
        return a.length;
      }

      @Override
      public void apply(double[] x, double[] out) {
        for (int i = 0; i < a.length; i++) {
          double s = 0;
          for (int j = 0; j < x.length; j++) {
            s += a[i][j] * x[j];
          }
          out[i] = s;
        }
      }
    };
  }

  static double relError(double[] x, double[] ref) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < x.length; i++) {
      num += (x[i] - ref[i]) * (x[i] - ref[i]);
      den += ref[i] * ref[i];
    }
    return Math.sqrt(num / den);
  }
}
