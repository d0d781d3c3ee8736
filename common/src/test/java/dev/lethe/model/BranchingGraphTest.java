package dev.lethe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.EwcOptions;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.InfluenceOptions;
import dev.lethe.influence.PreparedInfluence;
import dev.lethe.influence.Scorer;
import dev.lethe.math.Batches;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.PerExampleGradients;
import dev.lethe.treatment.EwcDeletion;
import dev.lethe.treatment.Treated;
import dev.lethe.treatment.TreatmentInputs;
import dev.lethe.treatment.TreatmentOptions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
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
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * ComputationGraphs that are not chains (two branches concatenated by a MergeVertex, a residual addition by an
 * ElementWiseVertex, batch normalisation on a branch, dropout) run through DL4J's own graph passes: the imported
 * network computes the graph's inference function (log-probabilities equal to 1e-9 relative), its per-example
 * gradients match central differences in double precision, it runs through the Fisher diagonal, EWC-influence and
 * EWC-deletion, and it is written back as the ComputationGraph it computes. Batch normalisations that cannot be
 * folded and recurrent layers are bad input naming the layer.
 */
class BranchingGraphTest {
  /**
   * in -> a (dense relu) and b (dense identity, no bias) -> bnB -> reluB; merge(a, reluB) -> c (dense tanh, 8);
   * residual: add(c, d) with d = dense(merge) (8); -> out (softmax 3). Dropout on a.
   */
  static ComputationGraphConfiguration branching(boolean withBatchNorm) {
    ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration.Builder().seed(5)
        .dataType(DataType.DOUBLE).updater(new Adam(1e-2)).graphBuilder().addInputs("in")
        .addLayer("a", new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.RELU).dropOut(0.9).build(),
            "in")
        .addLayer("b", new DenseLayer.Builder().nIn(4).nOut(5).activation(withBatchNorm ? Activation.IDENTITY
            : Activation.TANH).hasBias(!withBatchNorm).build(), "in");
    String bOut = "b";
    if (withBatchNorm) {
      b.addLayer("bnB", new BatchNormalization.Builder().nOut(5).build(), "b")
          .addLayer("reluB", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bnB");
      bOut = "reluB";
    }
    return b.addVertex("merge", new MergeVertex(), "a", bOut)
        .addLayer("c", new DenseLayer.Builder().nIn(10).nOut(8).activation(Activation.TANH).build(), "merge")
        .addLayer("d", new DenseLayer.Builder().nIn(10).nOut(8).activation(Activation.IDENTITY).build(), "merge")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "c", "d")
        .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX)
            .build(), "add")
        .setOutputs("out").setInputTypes(InputType.feedForward(4)).build();
  }

  /** The graph fitted for {@code epochs} full-batch steps on {@code train}. */
  static ComputationGraph trained(ComputationGraphConfiguration conf, ExampleSet train, int epochs) {
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    DataSet ds = new DataSet(Batches.features(train, 0, train.size(), 0, DataType.DOUBLE),
        Batches.oneHot(train.labels(), 0, train.size(), 3, 0, DataType.DOUBLE));
    for (int i = 0; i < epochs; i++) {
      g.fit(ds);
    }
    return g;
  }

  /** Blobs with the first {@code flipped} labels moved to the next class. */
  static ExampleSet withFlips(int n, long seed, int flipped) {
    ExampleSet clean = TabularBlobs.sample(n, seed, 0);
    int[] labels = clean.labels().clone();
    float[][] x = new float[n][];
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i < flipped ? (labels[i] + 1) % 3 : labels[i];
      x[i] = clean.features(i);
      ids[i] = clean.id(i);
    }
    return ExampleSet.clean(ids, x, labels, 4);
  }

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
    ExampleSet train = withFlips(90, 21, 0);
    ComputationGraph g = trained(branching(false), train, 30);
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
  void perExampleGradientsMatchCentralDifferences() {
    ExampleSet train = withFlips(60, 23, 0);
    MultiLayerNetwork net = ModelImport.read(ModelImportTest.zip(trained(branching(true), train, 20)), "g.zip");
    ExampleSet rows = train.select(new int[] {0, 7, 19});
    double[][] grads = new double[rows.size()][];
    PerExampleGradients.forEach(net, rows, (i, g) -> grads[i] = g.toDoubleVector());
    INDArray theta = net.params().dup();
    int n = (int) theta.length();
    double h = 1e-6;
    // every body parameter would take long: a spread of indices over the body and the head
    int[] idx = IntStream.range(0, 40).map(k -> (int) ((long) k * (n - 1) / 39)).toArray();
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

  @Test
  void aGraphWithBatchNormOnABranchRunsThroughFisherEwcInfluenceAndEwcDeletion() throws Exception {
    ExampleSet train = withFlips(120, 24, 20);
    ComputationGraph g = trained(branching(true), train, 40);
    MultiLayerNetwork net = ModelImport.read(ModelImportTest.zip(g), "bn-branch.zip");
    assertThat(((GraphBody) net.getLayerWiseConfigurations().getConf(0).getLayer()).getGraph())
        .as("batch normalisation folded into b").doesNotContain("bnB");
    assertSameFunction(g, net, TabularBlobs.sample(40, 25, 1000));

    DiagonalFisher fisher = EmpiricalFisher.compute(net, train);
    assertThat(fisher.values()).hasSize((int) net.numParams());
    assertThat(Arrays.stream(fisher.values()).allMatch(v -> Double.isFinite(v) && v >= 0)).isTrue();
    assertThat(Arrays.stream(fisher.values()).sum()).isPositive();

    ExampleSet query = TabularBlobs.sample(10, 26, 2000);
    PreparedInfluence p = new EwcInfluence().prepare(new InfluenceInputs(net, fisher, query, null, train.size(),
        InfluenceOptions.defaults().withEwc(new EwcOptions(0.03, 1e-3, 1e-2, 5, 20, 5, 0.0)), 7));
    assertThat((double) p.diagnostics().get("queryMeanLogpAfter"))
        .isGreaterThan((double) p.diagnostics().get("queryMeanLogpBefore"));
    double[] r;
    try (Scorer s = p.spec().open()) {
      r = s.score(train).score();
    }
    assertThat(r).hasSize(train.size());
    assertThat(Arrays.stream(r).allMatch(Double::isFinite)).isTrue();

    ExampleSet culprits = train.select(IntStream.range(0, 20).toArray());
    Treated t = new EwcDeletion().apply(new TreatmentInputs(net, fisher, train, culprits, query,
        TreatmentOptions.defaults().withEwc(new TreatmentOptions.Ewc(0.1, 1e-3, 1e-2, 20, 20, 5)), 7));
    assertThat((double) t.diagnostics().get("culpritMeanLogpAfter"))
        .isLessThan((double) t.diagnostics().get("culpritMeanLogpBefore"));
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
  void anLstmClassifierIsBadInputNamingTheLayer() {
    MultiLayerNetwork lstm = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
        .dataType(DataType.DOUBLE).list()
        .layer(new LastTimeStep(new LSTM.Builder().nIn(4).nOut(6).activation(Activation.TANH).name("lstm")
            .build()))
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(3).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.recurrent(4, 5)).build());
    lstm.init();
    assertThatThrownBy(() -> ModelImport.read(ModelImportTest.zip(lstm), "lstm.zip"))
        .isInstanceOf(LetheInputException.class).hasMessageStartingWith("lstm.zip: ")
        .hasMessageContaining("(LastTimeStep) is a recurrent layer");
  }
}
