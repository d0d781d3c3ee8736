package dev.lethe.influence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.SoftmaxRegressionReference;
import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.Purpose;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The functional retain term of the EWC update ({@link EwcUpdate.Retain}) on a convex model (softmax regression in
 * double precision): its gradient against central differences of beta mean KL(p(.|x, theta_hat) || p(.|x, theta)).
 */
class RetainTermTest {
  static final double BETA = 0.7;

  /** beta mean_{i in rows} KL(targets_i || p(.|x_i, net)), from the logits in double. */
  static double meanKl(MultiLayerNetwork net, ExampleSet s, int[] rows, double[][] targets) {
    double[][] z = LogLikelihood.logitsInDouble(net, s.select(rows), 64);
    double sum = 0;
    for (int i = 0; i < rows.length; i++) {
      for (int y = 0; y < z[i].length; y++) {
        double t = targets[rows[i]][y];
        sum += t * (Math.log(t) - LogLikelihood.logSoftmax(z[i], y));
      }
    }
    return BETA * sum / rows.length;
  }

  @Test
  void gradientMatchesCentralDifferencesOfTheMeanKl() {
    Random rng = new Random(41);
    ExampleSet retained = SoftmaxRegressionReference.sample(rng, 60, 0);
    double[] thetaHat = new double[SoftmaxRegressionReference.P];
    double[] theta = new double[thetaHat.length];
    for (int j = 0; j < thetaHat.length; j++) {
      thetaHat[j] = rng.nextGaussian();
      theta[j] = thetaHat[j] + 0.5 * rng.nextGaussian();
    }
    // as the update trains them: copies without the model's own regularisation
    MultiLayerNetwork hat = EwcUpdate.trainableCopy(SoftmaxRegressionReference.network(thetaHat), 1e-3);
    MultiLayerNetwork net = EwcUpdate.trainableCopy(SoftmaxRegressionReference.network(theta), 1e-3);
    EwcUpdate.Retain r = new EwcUpdate.Retain(retained, BETA, 16);
    double[][] targets = r.targets(hat, 64);
    int[] rows = r.sample(11, 3);
    assertThat(rows).hasSize(16).isSorted().doesNotHaveDuplicates();
    assertThat(java.util.Arrays.stream(rows).allMatch(i -> i >= 0 && i < 60)).isTrue();
    assertThat(r.sample(11, 3)).containsExactly(rows);
    assertThat(r.sample(11, 4)).isNotEqualTo(rows);
    assertThat(new EwcUpdate.Retain(retained, BETA, 100).sample(11, 3)).hasSize(60);

    double[] g = r.gradient(BackendSelector.current().select(net, Purpose.OPTIMISER), rows, targets);
    INDArray p = net.params();
    double h = 1e-6;
    double largest = 0;
    for (int j = 0; j < g.length; j++) {
      double x = p.getDouble(j);
      p.putScalar(j, x + h);
      double up = meanKl(net, retained, rows, targets);
      p.putScalar(j, x - h);
      double down = meanKl(net, retained, rows, targets);
      p.putScalar(j, x);
      double fd = (up - down) / (2 * h);
      largest = Math.max(largest, Math.abs(fd));
      // central differences in double: error O(h^2) plus rounding O(eps / h), about 1e-9 here
      assertThat(g[j]).as("parameter %d", j).isCloseTo(fd, org.assertj.core.api.Assertions.within(
          1e-6 * Math.max(1e-3, Math.abs(fd))));
    }
    assertThat(largest).as("theta is away from theta_hat: the gradient is not zero").isGreaterThan(1e-2);
    // at theta_hat itself the term is at its minimum, zero gradient
    double[] atHat = r.gradient(BackendSelector.current().select(hat, Purpose.OPTIMISER), rows, targets);
    for (double v : atHat) {
      assertThat(Math.abs(v)).isLessThan(1e-12);
    }
  }

  @Test
  void badSettingsAreRefused() {
    ExampleSet s = SoftmaxRegressionReference.sample(new Random(1), 5, 0);
    assertThatThrownBy(() -> new EwcUpdate.Retain(s, 0, 4)).hasMessageContaining("beta");
    assertThatThrownBy(() -> new EwcUpdate.Retain(s, 1, 0)).hasMessageContaining("sample size");
    assertThatThrownBy(() -> new EwcUpdate.Retain(s.select(new int[0]), 1, 4)).hasMessageContaining("non-empty");
  }
}
