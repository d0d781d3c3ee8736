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

    double lmax = Lissa.largestEigenvalue(op, 50, 1);
    double scale = 1.5 * lmax;
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
