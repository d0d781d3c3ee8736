package dev.lethe.math;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Per-row log-likelihoods do not depend on batch composition (1e-12 relative in double). */
class LogLikelihoodTest {

  @Test
  void rowValuesDoNotDependOnBatchComposition() {
    for (MultiLayerNetwork net : List.of(TestNets.mlp(6, 3, 3, DataType.DOUBLE),
        TestNets.cnn(3, 4, DataType.DOUBLE), TestNets.mlp(6, 3, 3, DataType.FLOAT))) {
      int d = net.getnLayers() == 2 ? 6 : 36;
      ExampleSet s = TestNets.randomSet(37, d, 3, 21, 0);
      double[] block = LogLikelihood.perExample(net, s, 16);
      int[] reversed = new int[s.size()];
      for (int i = 0; i < reversed.length; i++) {
        reversed[i] = s.size() - 1 - i;
      }
      double[] rev = LogLikelihood.perExample(net, s.select(reversed), 16);
      double worst = 0;
      for (int i = 0; i < s.size(); i++) {
        double alone = LogLikelihood.perExample(net, s.select(new int[] {i}), 16)[0];
        worst = Math.max(worst, Math.abs(alone - block[i]) / Math.abs(block[i]));
        worst = Math.max(worst, Math.abs(rev[s.size() - 1 - i] - block[i]) / Math.abs(block[i]));
      }
      System.err.printf("%s %s: worst relative difference across batch compositions %.3g%n",
          net.params().dataType(), net.getnLayers() == 2 ? "mlp" : "cnn", worst);
      assertThat(worst).isLessThanOrEqualTo(1e-12);
    }
  }

  @Test
  void matchesLogOfNetworkOutput() {
    MultiLayerNetwork net = TestNets.cnn(3, 4, DataType.DOUBLE);
    ExampleSet s = TestNets.randomSet(10, 36, 3, 2, 0);
    double[] lp = LogLikelihood.perExample(net, s, 4);
    INDArray out = net.output(Batches.features(s, 0, 10, 0, DataType.DOUBLE), false);
    for (int i = 0; i < 10; i++) {
      assertThat(lp[i]).isCloseTo(Math.log(out.getDouble(i, s.label(i))),
          org.assertj.core.data.Offset.offset(1e-12));
    }
    assertThat(LogLikelihood.mean(net, s, 4)).isCloseTo(java.util.Arrays.stream(lp).average().orElseThrow(),
        org.assertj.core.data.Offset.offset(1e-14));
  }
}
