package dev.lethe.math.cnn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.TestNets;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import java.util.List;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

class FastCnnTest {
  /** Logits agree with DL4J's forward pass to this absolute tolerance (they are O(1) to O(10)). */
  private static final double TOL = 1e-10;

  @Test
  void paperCnnLogitsMatchDl4j() {
    MultiLayerNetwork net = paperCnn();
    // 37 rows: two full groups of 16 and a padded one
    ExampleSet s = TestNets.randomSet(37, 784, 10, 11, 0);
    assertMatchesDl4j(net, s);
  }

  @Test
  void otherSupportedLayersMatchDl4j() {
    // three input channels (checks the NCHW -> channel-major reordering), a non-square input, explicit padding in
    // Truncate mode, an even kernel, average subsampling, global max pooling and a hidden dense ReLU layer
    MultiLayerNetwork net = otherLayers();
    assertThat(FastCnn.of(net)).isPresent();
    ExampleSet s = TestNets.randomSet(21, 270, 5, 12, 0);
    assertMatchesDl4j(net, s);
  }

  @Test
  void paddingKernelShapesOddPoolingAndIdentityMatchDl4j() {
    // explicit asymmetric padding with a 2x3 kernel and identity activation, a Same convolution with ReLU before 2x2
    // max pooling of a 12x11 output (the last column is in no window), an unpadded convolution, global max pooling
    // and a hidden dense layer
    int block = 16;
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(6).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list()
        .layer(new ConvolutionLayer.Builder(2, 3).nOut(2 * block).padding(1, 2)
            .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build())
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(block).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(block).convolutionMode(ConvolutionMode.Truncate)
            .activation(Activation.RELU).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.MAX).build())
        .layer(new DenseLayer.Builder().nOut(7).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(5).build())
        .setInputType(InputType.convolutionalFlat(11, 9, 3))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    perturbBiases(net, 4);
    ExampleSet s = TestNets.randomSet(19, 297, 5, 16, 0);
    assertMatchesDl4j(net, s);
  }

  @Test
  void aRowsLogitsDoNotDependOnTheOtherRows() {
    MultiLayerNetwork net = paperCnn();
    FastCnn fast = FastCnn.of(net).orElseThrow();
    ExampleSet s = TestNets.randomSet(40, 784, 10, 13, 0);
    double[][] all = fast.logits(s, 0, 40);
    double[][] middle = fast.logits(s, 7, 30);
    double[][] alone = fast.logits(s.select(new int[] {29}), 0, 1);
    for (int r = 7; r < 30; r++) {
      assertThat(middle[r - 7]).containsExactly(all[r]);
    }
    assertThat(alone[0]).containsExactly(all[29]);
  }

  @Test
  void logLikelihoodTakesTheFastPathAndKeepsItsValues() {
    MultiLayerNetwork net = paperCnn();
    ExampleSet s = TestNets.randomSet(50, 784, 10, 14, 0);
    double[] fast = LogLikelihood.perExample(net, s, 32);
    double[][] z = LogLikelihood.logits(net, Batches.features(s, 0, 50, 50, DataType.DOUBLE));
    for (int i = 0; i < 50; i++) {
      assertThat(fast[i]).isCloseTo(LogLikelihood.logSoftmax(z[i], s.labels()[i]), within(TOL));
    }
    assertThat(LogLikelihood.perExample(net, s, 7)).containsExactly(fast);
  }

  @Test
  void unsupportedNetworksFallBack() {
    MultiLayerNetwork floatCnn = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    assertThat(FastCnn.of(floatCnn)).isEmpty();
    assertThat(FastCnn.of(TestNets.cnn(3, 1, DataType.DOUBLE))).isEmpty(); // tanh convolution
    assertThat(FastCnn.of(TestNets.mlp(6, 3, 1, DataType.DOUBLE))).isEmpty(); // no convolution input
    assertThat(FastCnn.of(TestNets.logisticRegression(6, 3, 1, DataType.DOUBLE))).isEmpty();
  }

  @Test
  void wrongFeatureCountIsRejected() {
    FastCnn fast = FastCnn.of(paperCnn()).orElseThrow();
    ExampleSet s = TestNets.randomSet(3, 100, 10, 1, 0);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> fast.logits(s, 0, 3))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("784").hasMessageContaining("100");
  }

  @Test
  void twoByTwoMaxPoolingOfOddSizedPlanesMatchesDl4j() {
    MultiLayerNetwork net = oddPooling();
    assertThat(FastCnn.of(net)).isPresent();
    assertMatchesDl4j(net, TestNets.randomSet(17, 70, 3, 24, 0));
    assertGradientMatchesDl4j(net, TestNets.randomSet(9, 70, 3, 25, 0), 1e-9);
  }

  /** 2x2 stride-2 pooling of a 7x5 plane leaves the last row and column outside every window (their gradient: 0). */
  private static MultiLayerNetwork oddPooling() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(9).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(3).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.RELU).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.MAX).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(3).build())
        .setInputType(InputType.convolutionalFlat(7, 5, 2))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    perturbBiases(net, 5);
    return net;
  }

  @Test
  void workspaceMatricesOfNeighbouringShapesAreNotConfused() {
    // a 3x3 convolution of one channel into 8: its per-image im2col matrix is [p, 9] and the
    // per-example dz is [p, 8]; one pooled workspace holds both, and each must keep its own shape
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(10).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(8).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.RELU).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(3).build())
        .setInputType(InputType.convolutionalFlat(6, 5, 1))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    perturbBiases(net, 6);
    // 17 rows: a chunk of 16 and a chunk of one image; then per-example gradients on the same (one) thread
    ExampleSet s = TestNets.randomSet(17, 30, 3, 27, 0);
    assertGradientMatchesDl4j(net, s, 1e-9);
    FastCnn.forGradients(net).orElseThrow().withThreads(1).writeLossGradient(s); // both chunks in one workspace
    double[][] got = new double[3][];
    FastCnn.forGradients(net).orElseThrow().withThreads(1).forEachExampleGradient(s.select(new int[] {0, 1, 2}),
        (row, g) -> got[row] = g.toDoubleVector());
    assertPerExampleGradientsMatchDl4j(net, s, got);
  }

  @Test
  void logLikelihoodsOfTheGradientPassEqualThoseOfTheScoringPass() {
    // the paper CNN: the scoring pass pools before bias and ReLU, the gradient pass after; the values are equal to
    // the bit (rounding is monotone), for the 21 rows of a full and a padded group, on two threads
    MultiLayerNetwork net = paperCnn();
    ExampleSet s = TestNets.randomSet(21, 784, 10, 41, 0);
    double[] want = LogLikelihood.perExample(net, s, 64);
    double[] got = new double[s.size()];
    int[] visited = {0};
    FastCnn.forGradients(net).orElseThrow().withThreads(2).forEachExampleGradient(s, got, (row, g) -> {
      assertThat(got[row]).isEqualTo(want[row]);
      visited[0]++;
    });
    assertThat(visited[0]).isEqualTo(s.size());
    assertThat(got).containsExactly(want);
    assertThat(want[0]).isNotEqualTo(want[1]);
  }

  @Test
  void unpaddedIdentityConvolutionBeforeMaxPoolingMatchesDl4j() {
    // a 3x3 convolution without padding (its output rows are narrower than its input's: im2col row by row) and
    // identity activation, fused with the 2x2 max pooling after it (no ReLU mask on the pooled gradient); then a
    // ReLU convolution with the same pooling, whose windows of zeros get no gradient
    MultiLayerNetwork net = unpaddedThenPooled();
    assertThat(FastCnn.of(net)).isPresent();
    assertMatchesDl4j(net, TestNets.randomSet(18, 2 * 12 * 11, 4, 30, 0));
    assertGradientMatchesDl4j(net, TestNets.randomSet(18, 2 * 12 * 11, 4, 31, 0), 1e-9);
    ExampleSet s = TestNets.randomSet(3, 2 * 12 * 11, 4, 32, 0);
    double[][] got = new double[3][];
    FastCnn.forGradients(net).orElseThrow().forEachExampleGradient(s, (row, g) -> got[row] = g.toDoubleVector());
    assertPerExampleGradientsMatchDl4j(net, s, got);
  }

  private static MultiLayerNetwork unpaddedThenPooled() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(11).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(5).convolutionMode(ConvolutionMode.Truncate)
            .activation(Activation.IDENTITY).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(2, 2).nOut(6).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(4).build())
        .setInputType(InputType.convolutionalFlat(12, 11, 2))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    perturbBiases(net, 8);
    return net;
  }

  @Test
  void maxPoolingOtherThan2x2MatchesDl4j() {
    // 3x3 max pooling with stride 2 takes the general pooling loops (2x2 with stride 2 has its own)
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(6).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(3, 3).stride(2, 2).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(3).build())
        .setInputType(InputType.convolutionalFlat(11, 9, 2))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    perturbBiases(net, 4);
    assertThat(FastCnn.of(net)).isPresent();
    assertMatchesDl4j(net, TestNets.randomSet(19, 198, 3, 22, 0));
    assertGradientMatchesDl4j(net, TestNets.randomSet(9, 198, 3, 23, 0), 1e-9);
  }

  @Test
  void paperCnnGradientMatchesDl4j() {
    MultiLayerNetwork net = paperCnn();
    ExampleSet batch = TestNets.randomSet(20, 784, 10, 15, 0);
    assertGradientMatchesDl4j(net, batch, 1e-9);
  }

  @Test
  void otherLayersGradientMatchesDl4j() {
    MultiLayerNetwork net = otherLayers();
    ExampleSet batch = TestNets.randomSet(9, 270, 5, 16, 0);
    assertGradientMatchesDl4j(net, batch, 1e-9);
  }

  @Test
  void floatNetworkGradientMatchesDl4jToFloatPrecision() {
    MultiLayerNetwork net = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    assertThat(FastCnn.of(net)).isEmpty(); // float networks are scored by DL4J
    ExampleSet batch = TestNets.randomSet(12, 784, 10, 17, 0);
    assertGradientMatchesDl4j(net, batch, 1e-4);
  }

  @Test
  void reloadedParametersGiveWhatANewInstanceGivesBitForBit() {
    // the EWC update keeps one instance and reloads the parameters after every step: the float paper CNN (float
    // kernels) and the double network with a dense layer, both after every parameter changed
    MultiLayerNetwork floatCnn = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    perturbBiases(floatCnn, 21);
    MultiLayerNetwork other = otherLayers();
    for (MultiLayerNetwork net : List.of(floatCnn, other)) {
      boolean isFloat = net.params().dataType() == DataType.FLOAT;
      int features = (int) (isFloat ? 784 : 270);
      ExampleSet batch = TestNets.randomSet(18, features, isFloat ? 10 : 5, 22, 0);
      FastCnn kept = isFloat ? FastCnn.forFloatGradients(net).orElseThrow() : FastCnn.forGradients(net).orElseThrow();
      double[] before = kept.lossGradient(batch);
      INDArray p = net.params();
      double[] moved = p.castTo(DataType.DOUBLE).toDoubleVector();
      java.util.SplittableRandom rng = new java.util.SplittableRandom(23);
      for (int j = 0; j < moved.length; j++) {
        moved[j] += rng.nextDouble(-0.05, 0.05);
      }
      p.assign(Nd4j.create(moved, p.shape(), DataType.DOUBLE));
      assertThat(kept.lossGradient(batch)).as("before reloading, the copies made at build").containsExactly(before);
      kept.reloadParams();
      FastCnn fresh = isFloat ? FastCnn.forFloatGradients(net).orElseThrow() : FastCnn.forGradients(net).orElseThrow();
      double[] want = fresh.lossGradient(batch);
      assertThat(want).isNotEqualTo(before);
      assertThat(kept.lossGradient(batch)).containsExactly(want);
      assertThat(kept.lastLoss()).isEqualTo(fresh.lastLoss());
      double[][] zk = kept.logits(batch, 0, batch.size());
      double[][] zf = fresh.logits(batch, 0, batch.size());
      for (int i = 0; i < zk.length; i++) {
        assertThat(zk[i]).containsExactly(zf[i]);
      }
    }
  }

  @Test
  void singlePrecisionGemmsOfAFloatNetworkMatchDl4jAndTheDoubleGemmsToFloatPrecision() {
    MultiLayerNetwork net = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    perturbBiases(net, 12);
    assertThat(FastCnn.forFloatGradients(paperCnn())).isEmpty(); // a double network keeps double GEMMs
    ExampleSet batch = TestNets.randomSet(20, 784, 10, 18, 0);
    double[] want = dl4jLossGradient(net, batch);
    double[] dbl = FastCnn.forGradients(net).orElseThrow().writeLossGradient(batch).castTo(DataType.DOUBLE)
        .reshape(-1).toDoubleVector();
    double[] flt = FastCnn.forFloatGradients(net).orElseThrow().writeLossGradient(batch).castTo(DataType.DOUBLE)
        .reshape(-1).toDoubleVector();
    double scale = java.util.Arrays.stream(want).map(Math::abs).max().orElseThrow();
    assertThat(scale).isGreaterThan(1e-3);
    assertThat(maxAbsDiff(flt, want)).as("float GEMMs against DL4J").isLessThanOrEqualTo(1e-4 * scale);
    assertThat(maxAbsDiff(flt, dbl)).as("float GEMMs against double GEMMs").isLessThanOrEqualTo(1e-4 * scale)
        .isGreaterThan(0.0); // not the double arithmetic
    // logits and per-example gradients of the same instance
    double[][] zf = FastCnn.forFloatGradients(net).orElseThrow().logits(batch, 0, 3);
    double[][] zd = FastCnn.forGradients(net).orElseThrow().logits(batch, 0, 3);
    for (int i = 0; i < 3; i++) {
      assertThat(maxAbsDiff(zf[i], zd[i])).isLessThanOrEqualTo(1e-5 * (1 + maxAbs(zd[i])));
    }
    double[][] gf = new double[3][];
    double[][] gd = new double[3][];
    ExampleSet three = batch.select(new int[] {0, 1, 2});
    FastCnn.forFloatGradients(net).orElseThrow().forEachExampleGradient(three,
        (row, g) -> gf[row] = g.castTo(DataType.DOUBLE).toDoubleVector());
    FastCnn.forGradients(net).orElseThrow().forEachExampleGradient(three,
        (row, g) -> gd[row] = g.castTo(DataType.DOUBLE).toDoubleVector());
    for (int i = 0; i < 3; i++) {
      assertThat(maxAbsDiff(gf[i], gd[i])).isLessThanOrEqualTo(1e-4 * maxAbs(gd[i]));
    }
  }

  private static double maxAbsDiff(double[] a, double[] b) {
    assertThat(a).hasSameSizeAs(b);
    double d = 0;
    for (int j = 0; j < a.length; j++) {
      d = Math.max(d, Math.abs(a[j] - b[j]));
    }
    return d;
  }

  private static double maxAbs(double[] a) {
    double m = 0;
    for (double v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  @Test
  void perExampleGradientsMatchDl4jRowByRow() {
    for (MultiLayerNetwork net : List.of(paperCnn(), otherLayers(), oddPooling())) {
      int d = (int) (net.getLayerWiseConfigurations().getInputPreProcess(0) instanceof
          org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor p
          ? p.getInputHeight() * p.getInputWidth() * p.getNumChannels() : 0);
      int k = (int) net.getLayer(net.getnLayers() - 1).getParam("b").length();
      // 19 rows: a full group of 16 and a padded one
      ExampleSet s = TestNets.randomSet(19, d, k, 18, 0);
      double[][] got = new double[19][];
      FastCnn.forGradients(net).orElseThrow().forEachExampleGradient(s, (row, g) -> got[row] = g.toDoubleVector());
      assertPerExampleGradientsMatchDl4j(net, s, got);
    }
  }

  @Test
  void gradientDotsArePerExampleGradientsDottedWithTheDirection() {
    for (MultiLayerNetwork net : List.of(paperCnn(), otherLayers(), oddPooling())) {
      int d = (int) (net.getLayerWiseConfigurations().getInputPreProcess(0) instanceof
          org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor p
          ? p.getInputHeight() * p.getInputWidth() * p.getNumChannels() : 0);
      int k = (int) net.getLayer(net.getnLayers() - 1).getParam("b").length();
      // 19 rows: a full group of 16 and a padded one
      ExampleSet s = TestNets.randomSet(19, d, k, 21, 0);
      double[] q = new java.util.SplittableRandom(4).doubles(net.numParams(), -1, 1).toArray();
      double[] wantLogLik = new double[19];
      double[] want = new double[19];
      double[] scale = new double[19];
      FastCnn.forGradients(net).orElseThrow().forEachExampleGradient(s, wantLogLik, (row, g) -> {
        double[] v = g.toDoubleVector();
        for (int j = 0; j < v.length; j++) {
          want[row] += v[j] * q[j];
          scale[row] += Math.abs(v[j] * q[j]);
        }
      });
      double[] logLik = new double[19];
      double[] got = FastCnn.forGradients(net).orElseThrow().gradientDots(s, q, logLik);
      for (int r = 0; r < 19; r++) {
        // the same products, summed in another order: within 1e-12 of the sum of their absolute values
        assertThat(got[r]).as("row %d of %s", r, net.getLayerWiseConfigurations().getConf(0).getLayer())
            .isCloseTo(want[r], within(1e-12 * scale[r]));
        assertThat(scale[r]).isPositive();
      }
      assertThat(logLik).containsExactly(wantLogLik); // the same forward pass
    }
  }

  @Test
  void gradientDotsDoNotDependOnTheOtherRowsOrTheThreadCount() {
    MultiLayerNetwork net = paperCnn();
    ExampleSet s = TestNets.randomSet(40, 784, 10, 23, 0);
    double[] q = new java.util.SplittableRandom(5).doubles(net.numParams(), -1, 1).toArray();
    double[] all = FastCnn.forGradients(net).orElseThrow().withThreads(1).gradientDots(s, q, null);
    double[] threaded = FastCnn.forGradients(net).orElseThrow().withThreads(3).gradientDots(s, q, null);
    assertThat(threaded).containsExactly(all);
    int[] rows = IntStream.range(7, 30).toArray();
    double[] middle = FastCnn.forGradients(net).orElseThrow().gradientDots(s.select(rows), q, null);
    for (int r = 7; r < 30; r++) {
      assertThat(middle[r - 7]).isEqualTo(all[r]);
    }
    assertThatThrownBy(() -> FastCnn.forGradients(net).orElseThrow().gradientDots(s, new double[3], null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 entries");
  }

  @Test
  void resultsDoNotDependOnTheThreadCount() {
    MultiLayerNetwork net = paperCnn();
    // 53 rows: four groups (the last padded) and, for the summed gradient, four chunks (the last of 5 rows)
    ExampleSet s = TestNets.randomSet(53, 784, 10, 19, 0);
    double[][] logits1 = FastCnn.of(net).orElseThrow().withThreads(1).logits(s, 0, 53);
    double[] grad1 = FastCnn.forGradients(net).orElseThrow().withThreads(1).writeLossGradient(s).dup().reshape(-1)
        .toDoubleVector();
    double[][] rows1 = new double[53][];
    FastCnn.forGradients(net).orElseThrow().withThreads(1)
        .forEachExampleGradient(s, (row, g) -> rows1[row] = g.toDoubleVector());
    for (int threads : new int[] {2, 3}) {
      assertThat(FastCnn.of(net).orElseThrow().withThreads(threads).logits(s, 0, 53)).isDeepEqualTo(logits1);
      FastCnn fast = FastCnn.forGradients(net).orElseThrow().withThreads(threads);
      assertThat(fast.writeLossGradient(s).dup().reshape(-1).toDoubleVector()).containsExactly(grad1);
      int[] order = new int[53];
      int[] next = {0};
      double[][] rows = new double[53][];
      fast.forEachExampleGradient(s, (row, g) -> {
        order[next[0]++] = row;
        rows[row] = g.toDoubleVector();
      });
      assertThat(order).containsExactly(IntStream.range(0, 53).toArray()); // visited in row order, on this thread
      assertThat(rows).isDeepEqualTo(rows1);
    }
    // and the summed gradient is still DL4J's
    assertGradientMatchesDl4j(net, s, 1e-9);
  }

  @Test
  void aFailingVisitorStopsThePassAndLeavesLaterPassesIntact() {
    MultiLayerNetwork net = paperCnn();
    ExampleSet s = TestNets.randomSet(70, 784, 10, 21, 0);
    FastCnn fast = FastCnn.forGradients(net).orElseThrow().withThreads(3);
    double[] before = fast.writeLossGradient(s).dup().reshape(-1).toDoubleVector();
    int[] seen = {0};
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> fast.forEachExampleGradient(s, (row, g) -> {
      seen[0]++;
      if (row == 20) {
        throw new IllegalStateException("visitor failed at row 20");
      }
    })).isInstanceOf(IllegalStateException.class).hasMessage("visitor failed at row 20");
    assertThat(seen[0]).isEqualTo(21); // rows 0..20, in order, and nothing after the failure
    assertThat(fast.writeLossGradient(s).dup().reshape(-1).toDoubleVector()).containsExactly(before);
  }

  @Test
  void meanInDoubleOfAFloatNetworkIsItsDoubleCopysMean() {
    MultiLayerNetwork f = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork d = NetworkBytes.rebuild(NetworkBytes.configBytes(f), NetworkBytes.paramBytes(f.params()),
        DataType.DOUBLE);
    ExampleSet s = TestNets.randomSet(30, 784, 10, 20, 0);
    double got = LogLikelihood.meanInDouble(f, s, 8);
    assertThat(got).isCloseTo(LogLikelihood.mean(d, s, 8), within(1e-12)); // the float parameters, taken exactly
    assertThat(got).isCloseTo(LogLikelihood.mean(f, s, 8), within(1e-4)); // DL4J's float forward pass
    assertThat(got).isLessThan(-0.1); // an untrained network: a real loss, not zero
    // the training criterion is the same quantity, and DL4J's float score to float precision
    double loss = dev.lethe.model.Trainer.meanLoss(f, s);
    assertThat(loss).isCloseTo(-got, within(1e-12));
    double dl4j = f.score(dev.lethe.model.DataSets.dataSet(s, java.util.stream.IntStream.range(0, 30).toArray(), 10,
        DataType.FLOAT), false);
    assertThat(loss).isCloseTo(dl4j, within(1e-4));
  }

  @Test
  void fitStepOfAFloatNetworkIsNetFitToFloatPrecision() {
    // single-precision GEMMs, as DL4J's float arithmetic: the same three Adam steps to float rounding
    MultiLayerNetwork a = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork b = a.clone();
    double[] p0 = a.params().castTo(DataType.DOUBLE).toDoubleVector();
    ExampleSet s = TestNets.randomSet(60, 784, 10, 20, 0);
    for (int step = 0; step < 3; step++) {
      int[] rows = IntStream.range(step * 20, step * 20 + 20).toArray();
      a.fit(dev.lethe.model.DataSets.dataSet(s, rows, 10, DataType.FLOAT));
      double loss = FastCnn.fitStep(b, s.select(rows));
      assertThat(loss).as("step %d loss", step).isCloseTo(a.score(), within(1e-4));
    }
    double[] pa = a.params().castTo(DataType.DOUBLE).toDoubleVector();
    double[] pb = b.params().castTo(DataType.DOUBLE).toDoubleVector();
    assertThat(maxAbsDiff(pa, p0)).isGreaterThan(1e-3); // three Adam steps of 1e-3 moved the parameters
    assertThat(maxAbsDiff(pa, pb)).isLessThanOrEqualTo(1e-4);
  }

  @Test
  void fitStepIsNetFit() {
    MultiLayerNetwork a = paperCnn();
    MultiLayerNetwork b = a.clone();
    assertThat(FastCnn.canTrain(b)).isTrue();
    ExampleSet s = TestNets.randomSet(60, 784, 10, 19, 0);
    for (int step = 0; step < 3; step++) {
      int[] rows = IntStream.range(step * 20, step * 20 + 20).toArray();
      a.fit(dev.lethe.model.DataSets.dataSet(s, rows, 10, DataType.DOUBLE));
      double loss = FastCnn.fitStep(b, s.select(rows));
      assertThat(loss).as("step %d loss", step).isCloseTo(a.score(), within(1e-9));
    }
    assertThat(b.getIterationCount()).isEqualTo(a.getIterationCount()).isEqualTo(3);
    double[] pa = a.params().toDoubleVector();
    double[] pb = b.params().toDoubleVector();
    double diff = 0;
    double moved = 0;
    double[] p0 = paperCnn().params().toDoubleVector();
    for (int j = 0; j < pa.length; j++) {
      diff = Math.max(diff, Math.abs(pa[j] - pb[j]));
      moved = Math.max(moved, Math.abs(pa[j] - p0[j]));
    }
    assertThat(moved).isGreaterThan(1e-3); // three Adam steps of 1e-3 moved the parameters
    assertThat(diff).isLessThanOrEqualTo(1e-9);
  }

  @Test
  void networksWithDropoutOrRegularisationAreNotTrainedByFastCnn() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-3)).l2(1e-4).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(5).build())
        .setInputType(InputType.convolutionalFlat(6, 6, 1))
        .build();
    MultiLayerNetwork l2 = new MultiLayerNetwork(conf);
    l2.init();
    assertThat(FastCnn.forGradients(l2)).isPresent();
    assertThat(FastCnn.canTrain(l2)).isFalse();
    MultiLayerConfiguration conf2 = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-3)).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).dropOut(0.5).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(5).build())
        .setInputType(InputType.convolutionalFlat(6, 6, 1))
        .build();
    MultiLayerNetwork dropout = new MultiLayerNetwork(conf2);
    dropout.init();
    assertThat(FastCnn.canTrain(dropout)).isFalse();
  }

  private static double[] dl4jLossGradient(MultiLayerNetwork net, ExampleSet batch) {
    DataType type = net.params().dataType();
    int k = (int) net.getLayer(net.getnLayers() - 1).getParam("b").length();
    net.setInput(Batches.features(batch, 0, batch.size(), 0, type));
    net.setLabels(Batches.oneHot(batch.labels(), 0, batch.size(), k, 0, type));
    net.computeGradientAndScore();
    return net.getFlattenedGradients().castTo(DataType.DOUBLE).dup().reshape(-1).toDoubleVector();
  }

  /**
   * DL4J's gradient of the summed loss from computeGradientAndScore, against FastCnn's written into the same
   * flattened view: max abs difference within {@code rel} of the largest entry.
   */
  /** Each {@code got[r]} (grad log p of row r of {@code s}) is minus DL4J's loss gradient of that row, to 1e-9. */
  private static void assertPerExampleGradientsMatchDl4j(MultiLayerNetwork net, ExampleSet s, double[][] got) {
    for (int r = 0; r < got.length; r++) {
      double[] want = dl4jLossGradient(net, s.select(new int[] {r}));
      double scale = 0;
      double diff = 0;
      for (int j = 0; j < want.length; j++) {
        scale = Math.max(scale, Math.abs(want[j]));
        diff = Math.max(diff, Math.abs(got[r][j] + want[j])); // grad log p = - grad loss
      }
      assertThat(scale).isGreaterThan(1e-4);
      assertThat(diff).as("row %d", r).isLessThanOrEqualTo(1e-9 * scale);
    }
  }

  private static void assertGradientMatchesDl4j(MultiLayerNetwork net, ExampleSet batch, double rel) {
    double[] want = dl4jLossGradient(net, batch);
    net.getFlattenedGradients().assign(0);
    double[] got = FastCnn.forGradients(net).orElseThrow().writeLossGradient(batch).castTo(DataType.DOUBLE)
        .reshape(-1).toDoubleVector();
    assertThat(got).hasSize(want.length);
    double scale = 0;
    double diff = 0;
    int nonZero = 0;
    for (int j = 0; j < want.length; j++) {
      scale = Math.max(scale, Math.abs(want[j]));
      diff = Math.max(diff, Math.abs(got[j] - want[j]));
      nonZero += want[j] != 0 ? 1 : 0;
    }
    assertThat(scale).isGreaterThan(1e-3);
    assertThat(nonZero).isGreaterThan(want.length / 2);
    assertThat(diff).as("max |FastCnn - DL4J| over %d parameters, largest entry %s", want.length, scale)
        .isLessThanOrEqualTo(rel * scale);
  }

  private static MultiLayerNetwork otherLayers() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).padding(1, 1).convolutionMode(ConvolutionMode.Truncate)
            .activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(2, 2).nOut(6).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.IDENTITY).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.MAX).build())
        .layer(new DenseLayer.Builder().nOut(7).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(5).build())
        .setInputType(InputType.convolutionalFlat(10, 9, 3))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    perturbBiases(net, 3);
    return net;
  }

  private static MultiLayerNetwork paperCnn() {
    MultiLayerNetwork f = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork net = NetworkBytes.rebuild(NetworkBytes.configBytes(f), NetworkBytes.paramBytes(f.params()),
        DataType.DOUBLE);
    perturbBiases(net, 9);
    return net;
  }

  /** Non-zero biases (they start at zero), so the test also checks where each bias is added. */
  private static void perturbBiases(MultiLayerNetwork net, long seed) {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
    for (int l = 0; l < net.getnLayers(); l++) {
      INDArray b = net.getLayer(l).paramTable().get("b");
      if (b != null) {
        double[] v = rng.doubles(b.length(), -0.1, 0.1).toArray();
        b.assign(Nd4j.create(v, b.shape(), DataType.DOUBLE));
      }
    }
  }

  private static void assertMatchesDl4j(MultiLayerNetwork net, ExampleSet s) {
    FastCnn fast = FastCnn.of(net).orElseThrow();
    double[][] got = fast.logits(s, 0, s.size());
    double[][] want = LogLikelihood.logits(net, Batches.features(s, 0, s.size(), s.size(), DataType.DOUBLE));
    assertThat(got).hasNumberOfRows(s.size());
    IntStream.range(0, s.size()).forEach(r -> {
      assertThat(got[r]).hasSize(want[r].length);
      for (int j = 0; j < want[r].length; j++) {
        assertThat(got[r][j]).as("row %d logit %d", r, j).isCloseTo(want[r][j], within(TOL));
      }
    });
    // the logits vary between rows, so agreement is not an artefact of a constant output
    assertThat(Math.abs(want[0][0] - want[1][0])).isGreaterThan(1e-6);
  }
}
