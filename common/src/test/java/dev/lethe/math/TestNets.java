package dev.lethe.math;

import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/** Small networks and synthetic data for math and influence tests (double precision unless stated). */
public final class TestNets {
  private TestNets() {}

  /** Multinomial logistic regression: one softmax output layer, nIn = d, nOut = k. */
  public static MultiLayerNetwork logisticRegression(int d, int k, long seed, DataType type) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
        .updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER).list()
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nIn(d).nOut(k).build())
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  /** d -> 5 tanh -> k softmax. */
  public static MultiLayerNetwork mlp(int d, int k, long seed, DataType type) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
        .updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER).list()
        .layer(new DenseLayer.Builder().nIn(d).nOut(5).activation(Activation.TANH).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nIn(5).nOut(k).build())
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  /** 1x6x6 flat input -> conv 3x3 (2 channels, tanh) -> global average pooling -> k softmax. */
  public static MultiLayerNetwork cnn(int k, long seed, DataType type) {
    return smallCnn(k, seed, type, 2, Activation.TANH, null);
  }

  /**
   * 1x6x6 flat input -> conv 3x3 (3 channels, Same padding, ReLU) -> global average pooling -> k softmax: a network
   * {@link FastCnn} supports.
   */
  public static MultiLayerNetwork reluCnn(int k, long seed, DataType type) {
    return smallCnn(k, seed, type, 3, Activation.RELU, ConvolutionMode.Same);
  }

  /** 1x6x6 -> conv 3x3 ({@code channels}, {@code activation}; DL4J's default mode when null) -> GAP -> k softmax. */
  private static MultiLayerNetwork smallCnn(int k, long seed, DataType type, int channels, Activation activation,
      ConvolutionMode mode) {
    NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
        .updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER);
    if (mode != null) {
      b.convolutionMode(mode);
    }
    MultiLayerConfiguration conf = b.list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(channels).activation(activation).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(k).build())
        .setInputType(InputType.convolutionalFlat(6, 6, 1))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  /** n rows of d uniform [0,1) features with uniform labels in [0,k); ids start at idBase. */
  public static ExampleSet randomSet(int n, int d, int k, long seed, long idBase) {
    SplittableRandom rng = new SplittableRandom(seed);
    long[] ids = new long[n];
    float[][] f = new float[n][d];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = idBase + i;
      for (int j = 0; j < d; j++) {
        f[i][j] = (float) rng.nextDouble();
      }
      y[i] = rng.nextInt(k);
    }
    return ExampleSet.clean(ids, f, y, d);
  }

  /** As {@link #randomSet} with every {@code flipEvery}-th row marked label-flipped (labels unchanged). */
  public static ExampleSet withCorruption(ExampleSet s, int flipEvery) {
    Corruption[] c = new Corruption[s.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = i % flipEvery == 0 ? Corruption.LABEL_FLIP : Corruption.NONE;
    }
    return s.withLabels(s.labels(), c);
  }
}
