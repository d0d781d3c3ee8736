package dev.lethe.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.cnn.FastCnn;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Analytic per-example gradients of log p(y|x) vs central differences of {@link LogLikelihood} in double
 * precision. Pass criterion per parameter (as DL4J's GradientCheckUtil): |a - n| / (|a| + |n|) < 1e-5, or
 * |a - n| < 1e-8 (absolute floor).
 */
class PerExampleGradientsTest {
  private static final double REL = 1e-5;
  private static final double ABS = 1e-8;
  private static final double H = 1e-6;

  @Test
  void mlpGradientsMatchCentralDifferences() {
    MultiLayerNetwork net = TestNets.mlp(6, 3, 7, DataType.DOUBLE);
    checkAgainstFiniteDifferences(net, TestNets.randomSet(4, 6, 3, 11, 0));
  }

  @Test
  void cnnGradientsMatchCentralDifferences() {
    MultiLayerNetwork net = TestNets.cnn(3, 5, DataType.DOUBLE);
    checkAgainstFiniteDifferences(net, TestNets.randomSet(4, 36, 3, 13, 0));
  }

  @Test
  void logLikelihoodsFromTheGradientPassEqualLogLikelihoodPerExample() {
    // a FastCnn network (log p from FastCnn; 37 rows: a padded last group) and an MLP
    // (DL4J's per-row backward passes, log p from a separate forward pass)
    MultiLayerNetwork cnn = TestNets.reluCnn(3, 5, DataType.DOUBLE);
    assertThat(FastCnn.of(cnn)).isPresent();
    checkLogLikelihoods(cnn, TestNets.randomSet(37, 36, 3, 17, 0));
    MultiLayerNetwork mlp = TestNets.mlp(6, 3, 7, DataType.DOUBLE);
    assertThat(FastCnn.of(mlp)).isEmpty();
    checkLogLikelihoods(mlp, TestNets.randomSet(9, 6, 3, 19, 0));
  }

  @Test
  void logLikelihoodArrayOfTheWrongLengthIsRejected() {
    MultiLayerNetwork net = TestNets.cnn(3, 5, DataType.DOUBLE);
    assertThatThrownBy(() -> PerExampleGradients.forEach(net, TestNets.randomSet(4, 36, 3, 1, 0), new double[3], 8,
        (r, g) -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length 3 for 4 rows");
    // FastCnn's own entry point checks it too, before any row is visited
    FastCnn fast = FastCnn.of(TestNets.reluCnn(3, 5, DataType.DOUBLE)).orElseThrow();
    assertThatThrownBy(() -> fast.forEachExampleGradient(TestNets.randomSet(4, 36, 3, 1, 0), new double[5],
        (r, g) -> { throw new AssertionError("visited row " + r); }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length 5 for 4 rows");
  }

  /** The same log p as LogLikelihood.perExample and the same gradients as forEach without them, to the bit. */
  private static void checkLogLikelihoods(MultiLayerNetwork net, ExampleSet s) {
    double[] want = LogLikelihood.perExample(net, s, 8);
    List<double[]> plain = new ArrayList<>();
    PerExampleGradients.forEach(net, s, (row, g) -> plain.add(g.toDoubleVector()));
    double[] got = new double[s.size()];
    List<double[]> withLogLik = new ArrayList<>();
    PerExampleGradients.forEach(net, s, got, 8, (row, g) -> {
      // written before the row's gradient is visited
      assertThat(got[row]).isEqualTo(want[row]);
      withLogLik.add(g.toDoubleVector());
    });
    assertThat(got).containsExactly(want);
    assertThat(withLogLik).hasSize(s.size());
    for (int i = 0; i < s.size(); i++) {
      assertThat(withLogLik.get(i)).containsExactly(plain.get(i));
    }
    // the values vary between rows and are proper log-probabilities
    assertThat(want[0]).isNotEqualTo(want[1]);
    assertThat(java.util.Arrays.stream(want).allMatch(v -> v < 0 && v > -50)).isTrue();
  }

  private static void checkAgainstFiniteDifferences(MultiLayerNetwork net, ExampleSet s) {
    INDArray before = net.params().dup();
    List<double[]> analytic = new ArrayList<>();
    PerExampleGradients.forEach(net, s, (row, g) -> analytic.add(g.dup().toDoubleVector()));
    assertThat(net.params()).isEqualTo(before);
    assertThat(analytic).hasSize(s.size());
    INDArray p = net.params();
    double worst = 0;
    double worstAbs = 0;
    int checked = 0;
    for (int i = 0; i < s.size(); i++) {
      ExampleSet one = s.select(new int[] {i});
      for (int j = 0; j < p.length(); j++) {
        double v = p.getDouble(j);
        p.putScalar(j, v + H);
        double up = LogLikelihood.perExample(net, one, 1)[0];
        p.putScalar(j, v - H);
        double down = LogLikelihood.perExample(net, one, 1)[0];
        p.putScalar(j, v);
        double numeric = (up - down) / (2 * H);
        double a = analytic.get(i)[j];
        double abs = Math.abs(a - numeric);
        double rel = abs == 0 ? 0 : abs / (Math.abs(a) + Math.abs(numeric));
        assertThat(rel < REL || abs < ABS).as("row %d param %d: analytic %s numeric %s", i, j, a, numeric)
            .isTrue();
        if (Math.abs(a) + Math.abs(numeric) > 1e-4) {
          worst = Math.max(worst, rel);
        }
        worstAbs = Math.max(worstAbs, abs);
        checked++;
      }
    }
    System.err.printf("gradient check: %d entries, worst relative error (|a|+|n| > 1e-4) %.3g,"
        + " worst absolute error %.3g%n", checked, worst, worstAbs);
    // the gradients differ between rows (no stale reused buffer)
    assertThat(analytic.get(0)).isNotEqualTo(analytic.get(1));
  }

  @Test
  void dotsAreThePerExampleGradientsDottedWithTheDirection() {
    forEachBackend(17, (net, s) -> {
      double[] q = new java.util.SplittableRandom(8).doubles(net.numParams(), -1, 1).toArray();
      double[] want = new double[23];
      double[] scale = new double[23];
      PerExampleGradients.forEach(net, s, (row, g) -> {
        double[] v = g.toDoubleVector();
        for (int j = 0; j < v.length; j++) {
          want[row] += v[j] * q[j];
          scale[row] += Math.abs(v[j] * q[j]);
        }
      });
      double[] logLik = new double[23];
      double[] got = PerExampleGradients.dots(net, s, q, logLik, 10);
      double[] plain = PerExampleGradients.dots(net, s, q);
      for (int r = 0; r < 23; r++) {
        assertThat(got[r]).isCloseTo(want[r], org.assertj.core.data.Offset.offset(1e-12 * scale[r]));
        assertThat(plain[r]).isEqualTo(got[r]);
      }
      assertThat(logLik).containsExactly(LogLikelihood.perExample(net, s, 10));
    });
  }

  @Test
  void squaredNormsAreThoseOfThePerExampleGradients() {
    forEachBackend(19, (net, s) -> {
      double[] want = new double[23];
      PerExampleGradients.forEach(net, s, (row, g) -> {
        for (double v : g.toDoubleVector()) {
          want[row] += v * v;
        }
      });
      double[] logLik = new double[23];
      double[] got = PerExampleGradients.squaredNorms(net, s, logLik, 10);
      double[] plain = PerExampleGradients.squaredNorms(net, s, null, 10);
      for (int r = 0; r < 23; r++) {
        assertThat(want[r]).isPositive();
        assertThat(got[r]).isCloseTo(want[r], org.assertj.core.data.Offset.offset(1e-12 * want[r]));
        assertThat(plain[r]).isEqualTo(got[r]);
      }
      assertThat(logLik).containsExactly(LogLikelihood.perExample(net, s, 10));
    });
  }

  /**
   * Runs {@code check} on DL4J's per-row backward passes (an MLP: the backend's default) and on FastCnn's (a ReLU
   * CNN), each with 23 random rows drawn with {@code seed}.
   */
  private static void forEachBackend(long seed, java.util.function.BiConsumer<MultiLayerNetwork, ExampleSet> check) {
    for (MultiLayerNetwork net : List.of(TestNets.mlp(6, 3, 3, DataType.DOUBLE),
        TestNets.reluCnn(3, 4, DataType.DOUBLE))) {
      int d = net.getnLayers() == 2 ? 6 : 36;
      check.accept(net, TestNets.randomSet(23, d, 3, seed, 0));
    }
  }

  @Test
  void sumEqualsSumOfPerExampleGradients() {
    // DL4J's backward passes (MLP, tanh CNN) and FastCnn's (ReLU CNN)
    for (MultiLayerNetwork net : List.of(TestNets.mlp(6, 3, 3, DataType.DOUBLE),
        TestNets.cnn(3, 4, DataType.DOUBLE), TestNets.reluCnn(3, 4, DataType.DOUBLE))) {
      int d = net.getnLayers() == 2 ? 6 : 36;
      ExampleSet s = TestNets.randomSet(23, d, 3, 17, 0);
      double[] expected = new double[(int) net.numParams()];
      PerExampleGradients.forEach(net, s, (row, g) -> {
        double[] v = g.toDoubleVector();
        for (int j = 0; j < v.length; j++) {
          expected[j] += v[j];
        }
      });
      double[] batched = PerExampleGradients.sumArray(net, s, 10);
      double[] viaInd = PerExampleGradients.sum(net, s).toDoubleVector();
      for (int j = 0; j < expected.length; j++) {
        assertThat(batched[j]).isCloseTo(expected[j], org.assertj.core.data.Offset.offset(1e-12 + 1e-10
            * Math.abs(expected[j])));
        assertThat(viaInd[j]).isCloseTo(expected[j], org.assertj.core.data.Offset.offset(1e-12 + 1e-10
            * Math.abs(expected[j])));
      }
    }
  }

  @Test
  void sumOfAFloatCnnIsComputedInDoublePrecision() {
    // FastCnn's backward pass takes the float parameters exactly and computes in double: the sum equals that of the
    // same parameters in a double network to double rounding, not to float rounding (about 1e-7 relative)
    MultiLayerNetwork f = TestNets.reluCnn(3, 4, DataType.FLOAT);
    assertThat(FastCnn.forGradients(f)).isPresent();
    MultiLayerNetwork d = NetworkBytes.rebuild(NetworkBytes.configBytes(f), NetworkBytes.paramBytes(f.params()),
        DataType.DOUBLE);
    ExampleSet s = TestNets.randomSet(23, 36, 3, 17, 0);
    double[] fromFloat = PerExampleGradients.sumArray(f, s, 10);
    double[] fromDouble = PerExampleGradients.sumArray(d, s, 10);
    for (int j = 0; j < fromDouble.length; j++) {
      assertThat(fromFloat[j]).isCloseTo(fromDouble[j], org.assertj.core.data.Offset.offset(1e-13 + 1e-11
          * Math.abs(fromDouble[j])));
    }
    assertThat(java.util.Arrays.stream(fromDouble).anyMatch(v -> Math.abs(v) > 1e-3)).isTrue();
  }

  @Test
  void restoresInputAndLabels() {
    MultiLayerNetwork net = TestNets.mlp(6, 3, 3, DataType.DOUBLE);
    ExampleSet s = TestNets.randomSet(3, 6, 3, 1, 0);
    INDArray x = Batches.features(s, 0, 3, 0, DataType.DOUBLE);
    INDArray y = Batches.oneHot(s.labels(), 0, 3, 3, 0, DataType.DOUBLE);
    net.setInput(x);
    net.setLabels(y);
    PerExampleGradients.forEach(net, s, (row, g) -> { });
    PerExampleGradients.sum(net, s);
    assertThat(net.getInput()).isSameAs(x);
    assertThat(net.getLabels()).isSameAs(y);
  }

  @Test
  void rejectsDropout() {
    org.deeplearning4j.nn.conf.MultiLayerConfiguration conf =
        new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
            .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(4).nOut(3).dropOut(0.5).build())
            .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(3).nOut(2)
                .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
            .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    assertThatThrownBy(() -> PerExampleGradients.forEach(net, TestNets.randomSet(2, 4, 2, 1, 0), (r, g) -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dropout");
  }
}
