package dev.lethe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * ComputationGraphs that are not chains (two branches concatenated by a MergeVertex, a residual addition by an
 * ElementWiseVertex, batch normalisation on a branch, dropout) run through DL4J's own graph passes: the imported
 * network computes the graph's inference function (log-probabilities equal to 1e-9 relative), its per-example
 * gradients match central differences in double precision, it runs through the Fisher diagonal, EWC-influence and
 * EWC-deletion, and it is written back as the ComputationGraph it computes. Batch normalisations that cannot be
 * folded, and recurrent layers without a sequence length, are bad input naming the layer.
 */
class BranchingGraphTest {
  private static void assertSameFunction(ComputationGraph g, MultiLayerNetwork net, ExampleSet s) {
    double[][] want = ModelImportTest.graphLogProbs(g, s);
    double[] got = LogLikelihood.perExample(net, s, 16);
    for (int i = 0; i < s.size(); i++) {
      double w = want[i][s.label(i)];
      assertThat(Math.abs(got[i] - w)).as("log p of row %d", i).isLessThanOrEqualTo(1e-9 * Math.abs(w) + 1e-12);
    }
  }

  @Test
  void aBranchingGraphComputesItsInferenceFunctionAndIsWrittenBackAsAGraph() throws Exception {
    ExampleSet train = BranchingGraphs.withFlips(90, 21, 0);
    ComputationGraph g = BranchingGraphs.trained(BranchingGraphs.branching(false), train, 30);
    MultiLayerNetwork net = ModelImport.read(ModelImportTest.zip(g), "branches.zip");
    assertThat(GraphForm.isGraph(net)).isTrue();
    assertThat(net.numParams()).isEqualTo(g.numParams());
    ExampleSet test = TabularBlobs.sample(30, 22, 1000);
    assertSameFunction(g, net, test);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelStore.write(net, out);
    assertThat(ModelImport.zipHoldsGraph(out.toByteArray())).as("written as a ComputationGraph zip").isTrue();
    ComputationGraph written = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(out.toByteArray()),
        false);
    assertSameFunction(written, net, test);
    MultiLayerNetwork back = ModelStore.read(new ByteArrayInputStream(out.toByteArray()), "back.zip");
    assertThat(back.params()).isEqualTo(net.params());
    assertThat(ModelStore.fingerprint(back)).isEqualTo(ModelStore.fingerprint(net));
  }

  @Test
  void aKerasFunctionalModelWithASkipConnectionImportsAsItsGraph() throws Exception {
    byte[] file = ModelImportTest.resource("keras-functional-residual.h5");
    MultiLayerNetwork net = ModelImport.read(file, "residual.h5");
    assertThat(GraphForm.isGraph(net)).isTrue();
    java.nio.file.Path tmp = java.nio.file.Files.createTempFile("residual", ".h5");
    ComputationGraph g;
    try {
      java.nio.file.Files.write(tmp, file);
      g = org.deeplearning4j.nn.modelimport.keras.KerasModelImport.importKerasModelAndWeights(tmp.toString(), false);
    } finally {
      java.nio.file.Files.delete(tmp);
    }
    ExampleSet s = TabularBlobs.sample(200, 27, 0);
    double[][] want = ModelImportTest.graphLogProbs(g, s);
    double[] got = LogLikelihood.perExample(net, s, 64);
    int right = 0;
    for (int i = 0; i < s.size(); i++) {
      double w = want[i][s.label(i)];
      // float32, as in the file; the same DL4J operations, the softmax head in another layer class
      assertThat(Math.abs(got[i] - w)).as("log p of row %d", i).isLessThanOrEqualTo(1e-5 * Math.abs(w) + 1e-6);
      right += got[i] > Math.log(0.5) ? 1 : 0;
    }
    // fitted on the same blobs (90% training accuracy when written): well above chance
    assertThat(right / (double) s.size()).isGreaterThan(0.75);
  }

  @Test
  void perExampleGradientsMatchCentralDifferences() {
    ExampleSet train = BranchingGraphs.withFlips(60, 23, 0);
    ComputationGraph g = BranchingGraphs.trained(BranchingGraphs.branching(true), train, 20);
    MultiLayerNetwork net = ModelImport.read(ModelImportTest.zip(g), "g.zip");
    ExampleSet rows = train.select(new int[] {0, 7, 19});
    // every body parameter would take long: a spread of indices over the body and the head
    GradientChecks.matchCentralDifferences(net, rows, 40);
  }

  @Test
  void aGraphWithBatchNormOnABranchRunsThroughFisherEwcInfluenceAndEwcDeletion() throws Exception {
    ExampleSet train = BranchingGraphs.withFlips(120, 24, 20);
    ComputationGraph g = BranchingGraphs.trained(BranchingGraphs.branching(true), train, 40);
    MultiLayerNetwork net = ModelImport.read(ModelImportTest.zip(g), "bn-branch.zip");
    assertThat(((GraphBody) net.getLayerWiseConfigurations().getConf(0).getLayer()).getGraph())
        .as("batch normalisation folded into b").doesNotContain("bnB");
    assertSameFunction(g, net, TabularBlobs.sample(40, 25, 1000));

    ExampleSet query = TabularBlobs.sample(10, 26, 2000);
    MethodChecks.fisherEwcInfluenceAndEwcDeletion(net, train, query, query);
  }

  @Test
  void aBatchNormThatCannotBeFoldedIsBadInputNamingTheVertex() {
    // batch normalisation after the merge of two branches: no single affine layer before it, and two readers after
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.DOUBLE)
        .graphBuilder().addInputs("in")
        .addLayer("a", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build(), "in")
        .addLayer("b", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build(), "in")
        .addVertex("merge", new MergeVertex(), "a", "b")
        .addLayer("bnMerge", new BatchNormalization.Builder().nOut(6).build(), "merge")
        .addLayer("c", new DenseLayer.Builder().nIn(6).nOut(6).activation(Activation.RELU).build(), "bnMerge")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bnMerge", "c")
        .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(3).activation(Activation.SOFTMAX)
            .build(), "add")
        .setOutputs("out").setInputTypes(InputType.feedForward(4)).build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    assertThatThrownBy(() -> ModelImport.read(ModelImportTest.zip(g), "bn-merge.zip"))
        .isInstanceOf(LetheInputException.class).hasMessageStartingWith("bn-merge.zip: ")
        .hasMessageContaining("'bnMerge' (BatchNormalization) cannot be folded");
  }

  @Test
  void anLstmClassifierWithoutASequenceLengthIsBadInputNamingTheLayerAndTheKey() {
    MultiLayerNetwork lstm = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
        .dataType(DataType.DOUBLE).list()
        .layer(new LastTimeStep(new LSTM.Builder().nIn(4).nOut(6).activation(Activation.TANH).name("lstm")
            .build()))
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(3).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.recurrent(4, 5)).build());
    lstm.init();
    assertThatThrownBy(() -> ModelImport.read(ModelImportTest.zip(lstm), "lstm.zip"))
        .isInstanceOf(LetheInputException.class).hasMessageStartingWith("lstm.zip: ")
        .hasMessageContaining("(LastTimeStep) wrapping LSTM is a recurrent layer and the model records no sequence"
            + " length: set data.sequence-length");
  }
}
