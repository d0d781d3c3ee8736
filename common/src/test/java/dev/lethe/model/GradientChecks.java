package dev.lethe.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.PerExampleGradients;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Per-example gradients of log p(y|x) against central differences, for the imported model forms' tests. */
final class GradientChecks {
  private GradientChecks() {}

  /**
   * Asserts that every row's gradient matches central differences (step 1e-6, double precision) at {@code count}
   * parameter indices spread evenly over the parameter vector, to 1e-6 relative plus 1e-8 absolute.
   */
  static void matchCentralDifferences(MultiLayerNetwork net, ExampleSet rows, int count) {
    double[][] grads = new double[rows.size()][];
    PerExampleGradients.forEach(net, rows, (i, grad) -> grads[i] = grad.toDoubleVector());
    INDArray theta = net.params().dup();
    int n = (int) theta.length();
    double h = 1e-6;
    int[] idx = IntStream.range(0, count).map(k -> (int) ((long) k * (n - 1) / (count - 1))).toArray();
    for (int r = 0; r < rows.size(); r++) {
      ExampleSet one = rows.select(new int[] {r});
      for (int j : idx) {
        INDArray p = theta.dup();
        p.putScalar(j, theta.getDouble(j) + h);
        net.setParams(p);
        double up = LogLikelihood.perExample(net, one, 1)[0];
        p.putScalar(j, theta.getDouble(j) - h);
        net.setParams(p);
        double down = LogLikelihood.perExample(net, one, 1)[0];
        double fd = (up - down) / (2 * h);
        assertThat(Math.abs(grads[r][j] - fd)).as("row %d parameter %d", r, j)
            .isLessThanOrEqualTo(1e-6 * Math.abs(fd) + 1e-8);
      }
      net.setParams(theta);
    }
  }
}
