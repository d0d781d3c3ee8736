package dev.lethe.model;

import dev.lethe.data.ExampleSet;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Sequences of {@link #T} time steps of {@link #F} features in 3 classes, as flat rows read time-major (value
 * {@code t * F + f} is feature f at step t): in class y, feature y rises by 0.2 a step from 0.1, the others stay at
 * 0.3, plus Gaussian noise of standard deviation 0.1; and a DL4J LSTM classifier of them (LSTM of 8 units wrapped in
 * LastTimeStep, softmax output), built and fitted in the test.
 */
public final class SequenceBlobs {
  public static final int F = 3;
  public static final int T = 5;

  private SequenceBlobs() {}

  /** {@code n} rows with ids from {@code idBase}, seeded; the first {@code flipped} labels moved to the next class. */
  public static ExampleSet sample(int n, long seed, long idBase, int flipped) {
    SplittableRandom rng = new SplittableRandom(seed);
    long[] ids = new long[n];
    float[][] x = new float[n][F * T];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = idBase + i;
      y[i] = rng.nextInt(3);
      for (int t = 0; t < T; t++) {
        for (int f = 0; f < F; f++) {
          double mean = f == y[i] ? 0.1 + 0.2 * t : 0.3;
          x[i][t * F + f] = (float) (mean + 0.1 * gaussian(rng));
        }
      }
      y[i] = i < flipped ? (y[i] + 1) % 3 : y[i];
    }
    return ExampleSet.clean(ids, x, y, F * T);
  }

  /** LSTM(F -> 8, tanh) in LastTimeStep, then a softmax output of 3 classes, in double precision. */
  public static MultiLayerNetwork network(long seed) {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed)
        .dataType(DataType.DOUBLE).updater(new Adam(2e-2)).list()
        .layer(new LastTimeStep(new LSTM.Builder().nIn(F).nOut(8).activation(Activation.TANH).name("lstm")
            .build()))
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX)
            .name("out").build())
        .setInputType(InputType.recurrent(F, T)).build());
    net.init();
    return net;
  }

  /** {@link #network} fitted for {@code epochs} full-batch steps on {@code train}. */
  public static MultiLayerNetwork trained(ExampleSet train, int epochs, long seed) {
    MultiLayerNetwork net = network(seed);
    INDArray y = Nd4j.zeros(DataType.DOUBLE, train.size(), 3);
    for (int i = 0; i < train.size(); i++) {
      y.putScalar(i, train.label(i), 1.0);
    }
    DataSet ds = new DataSet(sequences(train), y);
    for (int e = 0; e < epochs; e++) {
      net.fit(ds);
    }
    return net;
  }

  /**
   * The rows of {@code s} in DL4J's recurrent layout {@code [examples, F, T]}, written element by element from the
   * time-major row order (independently of the importer's preprocessor).
   */
  public static INDArray sequences(ExampleSet s) {
    INDArray x = Nd4j.zeros(DataType.DOUBLE, s.size(), F, T);
    for (int i = 0; i < s.size(); i++) {
      float[] row = s.features(i);
      for (int t = 0; t < T; t++) {
        for (int f = 0; f < F; f++) {
          x.putScalar(new long[] {i, f, t}, row[t * F + f]);
        }
      }
    }
    return x;
  }

  private static double gaussian(SplittableRandom rng) {
    double u = 1.0 - rng.nextDouble();
    double v = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
