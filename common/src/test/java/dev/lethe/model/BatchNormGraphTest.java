package dev.lethe.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import dev.lethe.math.LogLikelihood;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * A trained {@code ComputationGraph} with batch normalisation (after a linear dense layer without bias, and after a
 * ReLU layer) and dropout, read from a ModelSerializer zip, computes the graph's inference-mode function
 * (log-probabilities equal to 1e-9) and runs through the Fisher diagonal, EWC-influence and EWC-deletion.
 */
class BatchNormGraphTest {
  static ComputationGraph trainedGraph(ExampleSet train) {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
        .updater(new Adam(1e-2)).graphBuilder().addInputs("in")
        // without bias, as usual before a batch normalisation: folding gives it one
        .addLayer("dense1", new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.IDENTITY).hasBias(false)
            .build(), "in")
        .addLayer("bn1", new BatchNormalization.Builder().nOut(8).build(), "dense1")
        .addLayer("relu1", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn1")
        .addLayer("dense2", new DenseLayer.Builder().nIn(8).nOut(6).activation(Activation.RELU).dropOut(0.8)
            .build(), "relu1")
        .addLayer("bn2", new BatchNormalization.Builder().nOut(6).build(), "dense2")
        .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(3)
            .activation(Activation.SOFTMAX).build(), "bn2")
        .setOutputs("out").setInputTypes(InputType.feedForward(4)).build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    DataSet ds = new DataSet(Batches.features(train, 0, train.size(), 0, DataType.DOUBLE),
        Batches.oneHot(train.labels(), 0, train.size(), 3, 0, DataType.DOUBLE));
    for (int i = 0; i < 60; i++) {
      g.fit(ds);
    }
    return g;
  }

  @Test
  void aBatchNormGraphRunsThroughFisherEwcInfluenceAndEwcDeletion() throws Exception {
    ExampleSet clean = TabularBlobs.sample(120, 11, 0);
    // 20 flipped labels: the culprits
    int[] labels = clean.labels().clone();
    for (int i = 0; i < 20; i++) {
      labels[i] = (labels[i] + 1) % 3;
    }
    float[][] x = new float[clean.size()][];
    long[] ids = new long[clean.size()];
    for (int i = 0; i < clean.size(); i++) {
      x[i] = clean.features(i);
      ids[i] = clean.id(i);
    }
    ExampleSet train = ExampleSet.clean(ids, x, labels, 4);
    ComputationGraph g = trainedGraph(train);
    MultiLayerNetwork net = ModelImport.read(ModelImportTest.zip(g), "bn-graph.zip");
    assertThat(net.getnLayers()).as("both batch normalisations folded").isEqualTo(4);

    ExampleSet test = TabularBlobs.sample(40, 12, 10_000);
    double[][] want = ModelImportTest.graphLogProbs(g, test);
    double[] got = LogLikelihood.perExample(net, test, 16);
    for (int i = 0; i < test.size(); i++) {
      double w = want[i][test.label(i)];
      assertThat(Math.abs(got[i] - w)).as("log p of test row %d", i).isLessThanOrEqualTo(1e-9 * Math.abs(w) + 1e-12);
    }

    ExampleSet query = test.select(java.util.stream.IntStream.range(0, 10).toArray());
    MethodChecks.fisherEwcInfluenceAndEwcDeletion(net, train, query, query);
  }
}
