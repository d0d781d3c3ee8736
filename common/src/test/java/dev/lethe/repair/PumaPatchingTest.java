package dev.lethe.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.math.SoftmaxRegressionReference;
import dev.lethe.repair.RepairEvaluation.Sets;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PUMA patching on the convex fixture: without compensation it is the Newton removal of C; with it, the loss on the
 * benchmark cases B stays flat to first order while Newton removal moves it; and the upweights solve their
 * non-negative ridge least-squares problem.
 */
class PumaPatchingTest {
  static final int P = SoftmaxRegressionReference.P;
  static Sets sets;
  static ConvexRepairFixture fx;

  @BeforeAll
  static void fixture() {
    OperatingPointSearchTest.fixture();
    sets = OperatingPointSearchTest.sets;
    fx = OperatingPointSearchTest.fx;
  }

  static RepairInputs inputs(String upweight, double eta, double newtonGamma) {
    RepairOptions o = OperatingPointSearchTest.inputs(sets).options()
        .withNewton(new RepairOptions.Newton(newtonGamma, OperatingPointSearchTest.DAMPING, "cg", "full", 0, 200,
            1e-13, 0.0, 100, 1, 16))
        .withPuma(new RepairOptions.Puma(eta, 1e-12, upweight));
    return new RepairInputs(fx.model, fx.fisher, fx.train, fx.culprits, sets.query(), sets.benchmark(), o, 7);
  }

  static double[] theta(Repaired t) {
    return SoftmaxRegressionReference.theta(t.model());
  }

  @Test
  void withoutUpweightingItIsNewtonRemoval() {
    double gamma = 0.4;
    double[] puma = theta(new PumaPatching().apply(inputs(RepairOptions.Puma.NONE, gamma, gamma)));
    double[] newton = theta(new NewtonRemoval().apply(inputs(RepairOptions.Puma.NONE, gamma, gamma)));
    double moved = 0;
    for (int a = 0; a < P; a++) {
      assertThat(puma[a]).isCloseTo(newton[a], within(1e-12 * (1 + Math.abs(newton[a]))));
      moved += Math.abs(newton[a] - fx.thetaHat[a]);
    }
    assertThat(moved).isGreaterThan(1e-3);
  }

  /** Mean -log p(B) at reference parameters. */
  static double benchmarkLoss(double[] t) {
    return -SoftmaxRegressionReference.sumLogp(t, sets.benchmark()) / sets.benchmark().size();
  }

  @Test
  void compensationKeepsTheBenchmarkLossFlatToFirstOrder() {
    double eta = 1e-3;
    double m0 = benchmarkLoss(fx.thetaHat);
    double newton = benchmarkLoss(theta(new PumaPatching().apply(inputs(RepairOptions.Puma.NONE, eta, eta)))) - m0;
    Repaired patched = new PumaPatching().apply(inputs(RepairOptions.Puma.RETAINED, eta, eta));
    double puma = benchmarkLoss(theta(patched)) - m0;
    // removing the flipped labels alone changes the loss on B; the upweights cancel that change to first order
    assertThat(Math.abs(newton)).isGreaterThan(1e-6);
    assertThat(Math.abs(puma)).isLessThan(0.05 * Math.abs(newton));
    assertThat((Integer) patched.diagnostics().get("upweighted")).isPositive();
    assertThat((Double) patched.diagnostics().get("compensatedDataValue"))
        .isCloseTo((Double) patched.diagnostics().get("removedDataValue"),
            within(1e-6 * Math.abs((Double) patched.diagnostics().get("removedDataValue"))));
  }

  @Test
  void upweightsSolveTheirNonNegativeRidgeProblem() {
    Random rng = new Random(3);
    for (int trial = 0; trial < 5; trial++) {
      double[] psi = new double[12];
      for (int j = 0; j < psi.length; j++) {
        psi[j] = rng.nextGaussian();
      }
      double target = rng.nextGaussian() * 3;
      double ridge = 0.5;
      double[] lambda = PumaPatching.weights(psi, target, ridge);
      double best = objective(psi, lambda, target, ridge);
      for (double l : lambda) {
        assertThat(l).isGreaterThanOrEqualTo(0);
      }
      // no feasible perturbation does better (the problem is convex, so this checks optimality locally and globally)
      for (int k = 0; k < 2000; k++) {
        double[] other = lambda.clone();
        int j = rng.nextInt(psi.length);
        other[j] = Math.max(0, other[j] + rng.nextGaussian() * 0.1);
        assertThat(objective(psi, other, target, ridge)).isGreaterThanOrEqualTo(best - 1e-12);
      }
    }
  }

  private static double objective(double[] psi, double[] lambda, double target, double ridge) {
    double fit = -target;
    double norm = 0;
    for (int j = 0; j < psi.length; j++) {
      fit += lambda[j] * psi[j];
      norm += lambda[j] * lambda[j];
    }
    return fit * fit + ridge * norm;
  }
}
