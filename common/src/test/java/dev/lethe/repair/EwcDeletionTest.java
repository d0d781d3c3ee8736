package dev.lethe.repair;

import static dev.lethe.repair.ConvexRepairFixture.distance;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.SoftmaxRegressionReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * EWC deletion (Eq. 15) on the convex fixture: with gamma = 2|C|/N and lambda = mu/|C| its objective is the
 * Laplace (diagonal Fisher) approximation of the posterior of D \ C, so it must move theta_hat towards the exact
 * retrained theta_-C.
 */
class EwcDeletionTest {
  static ConvexRepairFixture fx;

  @BeforeAll
  static void fixture() {
    fx = new ConvexRepairFixture();
  }

  /** gamma = 0 (2|C|/N), lambda = mu/|C|; Adam(0.05) until the objective stalls for 30 epochs. */
  static RepairOptions options(int batchSize) {
    return RepairOptions.defaults().withEwc(new RepairOptions.Ewc(0.0, ConvexRepairFixture.MU
        / ConvexRepairFixture.FLIPS, 5e-2, batchSize, 1000, 30));
  }

  private static RepairInputs inputs(dev.lethe.data.ExampleSet query, RepairOptions o, long seed) {
    return new RepairInputs(fx.model, fx.fisher, fx.train, fx.culprits, query, o, seed);
  }

  @Test
  void movesTowardsTheModelRetrainedWithoutTheCulprits() {
    INDArray before = fx.model.params().dup();
    // Eq. 15 optimised to convergence (Fq empty: stopping watches the objective itself)
    Repaired t = new EwcDeletion().apply(inputs(fx.query.select(new int[0]), options(1024), 1));
    assertThat(fx.model.params()).isEqualTo(before);
    double[] theta = SoftmaxRegressionReference.theta(t.model());
    double d0 = distance(fx.thetaHat, fx.thetaMinusC);
    double d1 = distance(theta, fx.thetaMinusC);
    // the paper's protocol: stop on log p(Fq)
    Repaired q = new EwcDeletion().apply(inputs(fx.query, options(1024), 1));
    double dq = distance(SoftmaxRegressionReference.theta(q.model()), fx.thetaMinusC);
    System.err.printf("ewc-deletion: ||theta_hat - theta_-C|| %.4f; converged %.4f (ratio %.3f, %s); stopped on Fq"
        + " %.4f (ratio %.3f, %s)%n", d0, d1, d1 / d0, t.diagnostics(), dq, dq / d0, q.diagnostics());
    // measured (seed 2022): converged ratio 0.618 (gamma 0.02: 0.967, 0.05: 0.914, 0.1: 0.819 - monotone in gamma;
    // the diagonal Fisher is only an approximation of the curvature, so the exact theta_-C is not reached)
    assertThat(t.noOp()).isFalse();
    assertThat(d1 / d0).isLessThanOrEqualTo(0.8);
    assertThat(dq / d0).isLessThan(1.0);
    // the diagnostics' log-likelihoods are LogLikelihood's (tolerance: identical computation)
    assertThat((double) q.diagnostics().get("queryMeanLogpAfter"))
        .isEqualTo(LogLikelihood.mean(q.model(), fx.query, 128));
    // erasing C lowers its likelihood and (here) raises that of the failures
    assertThat((double) t.diagnostics().get("culpritMeanLogpAfter"))
        .isLessThan((double) t.diagnostics().get("culpritMeanLogpBefore"));
    assertThat((double) q.diagnostics().get("queryMeanLogpAfter"))
        .isGreaterThan((double) q.diagnostics().get("queryMeanLogpBefore"));
  }

  @Test
  void sameSeedGivesIdenticalParameters() {
    RepairOptions o = options(4).withEwc(new RepairOptions.Ewc(0.2, 1e-3, 1e-2, 4, 5, 5));
    INDArray a = new EwcDeletion().apply(inputs(fx.query, o, 5)).model().params();
    INDArray b = new EwcDeletion().apply(inputs(fx.query, o, 5)).model().params();
    INDArray c = new EwcDeletion().apply(inputs(fx.query, o, 6)).model().params();
    assertThat(a).isEqualTo(b);
    assertThat(a).isNotEqualTo(c);
  }

  @Test
  void emptyCulpritSetIsANoOp() {
    RepairInputs in = new RepairInputs(fx.model, fx.fisher, fx.train, fx.culprits.select(new int[0]),
        fx.query, options(1024), 1);
    for (String m : new String[] {EwcDeletion.NAME, NewtonRemoval.NAME, Finetune.NAME}) {
      Repaired t = RepairMethods.byName(m).apply(in);
      assertThat(t.noOp()).as(m).isTrue();
      assertThat(t.diagnostics()).containsEntry("reason", "empty culprit set");
      assertThat(t.model()).isNotSameAs(fx.model);
      assertThat(t.model().params()).isEqualTo(fx.model.params());
    }
  }

  @Test
  void needsAFisherOfThisModelAndCulpritsFromTheTrainingSet() {
    assertThatThrownBy(() -> new EwcDeletion().apply(new RepairInputs(fx.model, null, fx.train, fx.culprits,
        fx.query, options(1024), 1))).isInstanceOf(LetheInputException.class).hasMessageContaining("Fisher");
    assertThatThrownBy(() -> new RepairInputs(fx.model, fx.fisher, fx.train, fx.query, fx.query, options(1024),
        1)).isInstanceOf(LetheInputException.class).hasMessageContaining("not in the training set");
  }
}
