package dev.lethe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A DL4J LSTM sequence classifier (LSTM of 8 units over F = 3 features in LastTimeStep, softmax output; T = 5) read
 * with {@code data.sequence-length = 5}: a flat row is read time-major, so the imported network's log-likelihoods
 * equal the original network's on the sequences built element by element from the rows; per-example gradients match
 * central differences in double precision; it is written and read back with its sequence length; it runs through
 * the Fisher diagonal, EWC-influence and EWC-deletion. Per-time-step outputs, a missing sequence length and a length
 * that disagrees with the model's are bad input naming the layer or the key.
 */
class SequenceClassifierTest {
  private static MultiLayerNetwork imported(MultiLayerNetwork net) {
    return ModelImport.read(ModelImportTest.zip(net), "lstm.zip", SequenceBlobs.T);
  }

  private static void assertSameFunction(MultiLayerNetwork original, MultiLayerNetwork net, ExampleSet s) {
    INDArray p = original.output(SequenceBlobs.sequences(s), false);
    double[][] want = Transforms.log(p, true).toDoubleMatrix();
    double[] got = LogLikelihood.perExample(net, s, 16);
    for (int i = 0; i < s.size(); i++) {
      double w = want[i][s.label(i)];
      assertThat(Math.abs(got[i] - w)).as("log p of row %d", i).isLessThanOrEqualTo(1e-9 * Math.abs(w) + 1e-12);
    }
  }

  @Test
  void aFlatRowIsReadTimeMajorAndGivesTheNetworksOwnOutput() throws Exception {
    ExampleSet train = SequenceBlobs.sample(90, 1, 0, 0);
    MultiLayerNetwork original = SequenceBlobs.trained(train, 30, 3);
    MultiLayerNetwork net = imported(original);
    assertThat(net.getLayerWiseConfigurations().getInputPreProcess(0)).isEqualTo(
        new SequenceRows(SequenceBlobs.F, SequenceBlobs.T));
    assertThat(net.params()).isEqualTo(original.params());
    ExampleSet test = SequenceBlobs.sample(40, 2, 1000, 0);
    assertSameFunction(original, net, test);
    // fitted on the same kind of sequences: well above chance (1/3)
    double[] logp = LogLikelihood.perExample(net, test, 16);
    assertThat(Arrays.stream(logp).filter(v -> v > Math.log(0.5)).count() / (double) test.size())
        .isGreaterThan(0.8);

    // the other row order (feature-major) reads other sequences: the order matters and is the documented one
    float[][] featureMajor = new float[test.size()][];
    for (int i = 0; i < test.size(); i++) {
      float[] row = test.features(i);
      featureMajor[i] = new float[row.length];
      for (int t = 0; t < SequenceBlobs.T; t++) {
        for (int f = 0; f < SequenceBlobs.F; f++) {
          featureMajor[i][f * SequenceBlobs.T + t] = row[t * SequenceBlobs.F + f];
        }
      }
    }
    double[] other = LogLikelihood.perExample(net, test.withFeatures(featureMajor, test.corruptions()), 16);
    assertThat(IntStream.range(0, logp.length).mapToDouble(i -> Math.abs(logp[i] - other[i])).max().orElseThrow())
        .isGreaterThan(1e-3);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelStore.write(net, out);
    MultiLayerNetwork back = ModelStore.read(new ByteArrayInputStream(out.toByteArray()), "back.zip");
    assertThat(back.getLayerWiseConfigurations().getInputPreProcess(0))
        .isEqualTo(new SequenceRows(SequenceBlobs.F, SequenceBlobs.T));
    assertThat(back.params()).isEqualTo(net.params());
    assertThat(ModelStore.fingerprint(back)).isEqualTo(ModelStore.fingerprint(net));
    assertSameFunction(original, back, test);
    // read again as a user's model: it records its length, which the key may repeat but not contradict
    assertThat(ModelImport.read(out.toByteArray(), "back.zip", 0).params()).isEqualTo(net.params());
    assertThatThrownBy(() -> ModelImport.read(out.toByteArray(), "back.zip", 4))
        .isInstanceOf(LetheInputException.class)
        .hasMessage("config key 'data.sequence-length': 4 time steps, but the model back.zip records 5");
  }

  @Test
  void perExampleGradientsMatchCentralDifferences() {
    ExampleSet train = SequenceBlobs.sample(60, 4, 0, 0);
    MultiLayerNetwork net = imported(SequenceBlobs.trained(train, 10, 5));
    ExampleSet rows = train.select(new int[] {0, 7, 19});
    assertThat(net.params().length()).as("LSTM 4 x 8 x (3 + 8 + 1), output 8 x 3 + 3").isEqualTo(384 + 27);
    // every parameter would take long: a spread of 60 indices over the input weights, the recurrent weights, the
    // biases and the output layer
    GradientChecks.matchCentralDifferences(net, rows, 60);
  }

  @Test
  void anLstmClassifierRunsThroughFisherEwcInfluenceAndEwcDeletion() {
    ExampleSet train = SequenceBlobs.sample(120, 6, 0, 20);
    MultiLayerNetwork net = imported(SequenceBlobs.trained(train, 40, 7));

    // a failure set: sequences labelled as the next class, which the model gets wrong; deletion of the 20 flipped
    // rows is early-stopped on correctly labelled sequences (which the flips hurt)
    MethodChecks.fisherEwcInfluenceAndEwcDeletion(net, train, SequenceBlobs.sample(10, 8, 2000, 10),
        SequenceBlobs.sample(10, 8, 2000, 0));
  }

  @Test
  void aKerasLstmTakesItsSequenceLengthFromTheFile() throws Exception {
    byte[] file = ModelImportTest.resource("keras-sequential-lstm.h5");
    // input (T = 5, F = 3) recorded in the file: no key needed, and the key may repeat it
    MultiLayerNetwork net = ModelImport.read(file, "lstm.h5", 0);
    // Keras layers import reading [examples, time steps, features]
    assertThat(net.getLayerWiseConfigurations().getInputPreProcess(0)).isEqualTo(new SequenceRows(3, 5,
        org.deeplearning4j.nn.conf.RNNFormat.NWC));
    assertThat(ModelImport.read(file, "lstm.h5", 5).params()).isEqualTo(net.params());
    java.nio.file.Path tmp = java.nio.file.Files.createTempFile("lstm", ".h5");
    MultiLayerNetwork keras;
    try {
      java.nio.file.Files.write(tmp, file);
      keras = org.deeplearning4j.nn.modelimport.keras.KerasModelImport.importKerasSequentialModelAndWeights(
          tmp.toString(), false);
    } finally {
      java.nio.file.Files.delete(tmp);
    }
    ExampleSet s = SequenceBlobs.sample(30, 10, 0, 0);
    INDArray nwc = SequenceBlobs.sequences(s).permute(0, 2, 1).dup('c').castTo(keras.params().dataType());
    double[][] want = Transforms.log(keras.output(nwc, false).castTo(DataType.DOUBLE), true).toDoubleMatrix();
    double[] got = LogLikelihood.perExample(net, s, 16);
    for (int i = 0; i < s.size(); i++) {
      double w = want[i][s.label(i)];
      // float32, as in the file
      assertThat(Math.abs(got[i] - w)).as("log p of row %d", i).isLessThanOrEqualTo(1e-5 * Math.abs(w) + 1e-6);
    }
    assertThatThrownBy(() -> ModelImport.read(file, "lstm.h5", 4)).isInstanceOf(LetheInputException.class)
        .hasMessage("config key 'data.sequence-length': 4 time steps, but the model lstm.h5 records 5");
  }

  @Test
  void aBidirectionalLstmInLastTimeStepIsAccepted() {
    MultiLayerNetwork bi = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
        .dataType(DataType.DOUBLE).list()
        .layer(new LastTimeStep(new Bidirectional(new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH)
            .build())))
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.recurrent(3, 5)).build());
    bi.init();
    MultiLayerNetwork net = ModelImport.read(ModelImportTest.zip(bi), "bi.zip", 5);
    ExampleSet s = SequenceBlobs.sample(12, 9, 0, 0);
    assertSameFunction(bi, net, s);
  }

  @Test
  void aRecurrentModelWithoutASequenceLengthIsBadInputNamingTheKey() {
    assertThatThrownBy(() -> ModelImport.read(ModelImportTest.zip(SequenceBlobs.network(1)), "lstm.zip", 0))
        .isInstanceOf(LetheInputException.class).hasMessageStartingWith("lstm.zip: ")
        .hasMessageContaining("layer 0 'lstm' (LastTimeStep) wrapping LSTM is a recurrent layer")
        .hasMessageContaining("set data.sequence-length");
  }

  @Test
  void perTimeStepOutputsAreBadInputNamingTheLayer() {
    MultiLayerNetwork rnnOut = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
        .dataType(DataType.DOUBLE).list()
        .layer(new LSTM.Builder().nIn(3).nOut(6).activation(Activation.TANH).build())
        .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(3).activation(Activation.SOFTMAX)
            .name("perStep").build())
        .setInputType(InputType.recurrent(3, 5)).build());
    rnnOut.init();
    assertThatThrownBy(() -> ModelImport.read(ModelImportTest.zip(rnnOut), "rnn-out.zip", 5))
        .isInstanceOf(LetheInputException.class).hasMessageStartingWith("rnn-out.zip: ")
        .hasMessageContaining("layer 0 'layer0' (LSTM) outputs one value per time step");

    MultiLayerNetwork afterLast = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
        .dataType(DataType.DOUBLE).list()
        .layer(new LastTimeStep(new LSTM.Builder().nIn(3).nOut(6).activation(Activation.TANH).build()))
        .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(3).activation(Activation.SOFTMAX)
            .name("perStep").build())
        .setInputType(InputType.recurrent(3, 5)).build());
    afterLast.init();
    assertThatThrownBy(() -> ModelImport.read(ModelImportTest.zip(afterLast), "rnn-out.zip", 5))
        .isInstanceOf(LetheInputException.class)
        .hasMessageContaining("layer 1 'perStep' (RnnOutputLayer) is a per-time-step output");
  }
}
