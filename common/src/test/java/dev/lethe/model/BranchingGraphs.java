package dev.lethe.model;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * A small ComputationGraph classifier of the {@link TabularBlobs} (4 features, 3 classes) that is not a chain: two
 * branches concatenated by a MergeVertex, a residual addition by an ElementWiseVertex, dropout, and optionally a batch
 * normalisation on a branch; built with DL4J's graph builder and fitted in the test.
 */
public final class BranchingGraphs {
  private BranchingGraphs() {}

  /**
   * in -> a (dense relu) and b (dense identity, no bias) -> bnB -> reluB; merge(a, reluB) -> c (dense tanh, 8);
   * residual: add(c, d) with d = dense(merge) (8); -> out (softmax 3). Dropout on a.
   */
  public static ComputationGraphConfiguration branching(boolean withBatchNorm) {
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
  public static ComputationGraph trained(ComputationGraphConfiguration conf, ExampleSet train, int epochs) {
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
  public static ExampleSet withFlips(int n, long seed, int flipped) {
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

}
