package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.functions;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Bad input with the user's own model and tables: exit code 2, one line on stderr naming the input, nothing
 * written.
 */
class YourModelBadInputTest {
  @TempDir
  static Path dir;
  static String train;
  static String test;
  static String good;
  static Path prepared;

  @BeforeAll
  static void tables() {
    train = TabularTables.write(dir.resolve("train.parquet"), 60, 41, 0, 0);
    test = TabularTables.write(dir.resolve("test.parquet"), 40, 42, 10_000, 0);
    good = TabularTables.model(dir, "keras-sequential-mlp.h5");
    prepared = dir.resolve("prepared");
    SharedSpark.Run r = run("prepare", prepared, good);
    assertThat(r.code()).as(r.err()).isZero();
  }

  private static SharedSpark.Run run(String stage, Path work, String model, String... extra) {
    List<String> args = new ArrayList<>(List.of("--workdir", work.toString()));
    args.addAll(TabularTables.settings(train, test, model));
    args.addAll(List.of(extra));
    return SharedSpark.run(stage, args.toArray(new String[0]));
  }

  private static void assertBadInput(String stage, SharedSpark.Run r, Path output, String... mentions) {
    System.out.printf("bad input -> exit %d: %s", r.code(), r.err());
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).startsWith("lethe " + stage + ": error: ").contains(mentions);
    assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
    assertThat(output).doesNotExist();
  }

  @Test
  void aModelThatIsNotAClassifier() {
    String linear = TabularTables.model(dir, "keras-linear-output.h5");
    assertBadInput("failures", run("failures", prepared, linear), prepared.resolve("failures"), linear,
        "'dense_2'", "not a single-output softmax classifier");
  }

  @Test
  void anOutputSizeThatIsNotTheNumberOfClasses() {
    assertBadInput("failures", run("failures", prepared, good, "--set", "data.num-classes=4"),
        prepared.resolve("failures"), good, "3 outputs", "data.num-classes is 4");
  }

  @Test
  void aKerasLayerThatCannotBeImported() {
    String lambda = TabularTables.model(dir, "keras-lambda-layer.h5");
    assertBadInput("failures", run("failures", prepared, lambda), prepared.resolve("failures"), lambda, "Lambda");
  }

  @Test
  void anLstmClassifier() throws Exception {
    MultiLayerNetwork lstm = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new LastTimeStep(new LSTM.Builder().nIn(4).nOut(6).activation(Activation.TANH).build()))
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(3).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.recurrent(4, 5)).build());
    lstm.init();
    String path = dir.resolve("lstm.zip").toString();
    ModelSerializer.writeModel(lstm, path, false);
    assertBadInput("failures", run("failures", prepared, path), prepared.resolve("failures"), path,
        "layer 0", "(LastTimeStep) wrapping LSTM is a recurrent layer");
  }

  @Test
  void aGraphWithABatchNormThatCannotBeFolded() throws Exception {
    // after the merge of two branches, read by a layer and by a residual addition
    ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).graphBuilder()
        .addInputs("in")
        .addLayer("a", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build(), "in")
        .addLayer("b", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build(), "in")
        .addVertex("merge", new MergeVertex(), "a", "b")
        .addLayer("bnMerge", new BatchNormalization.Builder().nOut(6).build(), "merge")
        .addLayer("c", new DenseLayer.Builder().nIn(6).nOut(6).activation(Activation.RELU).build(), "bnMerge")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bnMerge", "c")
        .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(3).activation(Activation.SOFTMAX)
            .build(), "add")
        .setOutputs("out").setInputTypes(InputType.feedForward(4)).build());
    g.init();
    String path = dir.resolve("bn-merge.zip").toString();
    ModelSerializer.writeModel(g, path, false);
    assertBadInput("failures", run("failures", prepared, path), prepared.resolve("failures"), path,
        "'bnMerge' (BatchNormalization) cannot be folded");
  }

  @Test
  void aMissingModelPath() {
    String nope = dir.resolve("no-such-model.h5").toString();
    assertBadInput("failures", run("failures", prepared, nope), prepared.resolve("failures"), "model.path", nope,
        "not found");
  }

  @Test
  void aFeatureColumnOfTheWrongTypeOrLength() {
    String strings = dir.resolve("strings.parquet").toString();
    SharedSpark.session().read().parquet(train).withColumn("x3", functions.col("x3").cast("string")).write()
        .parquet(strings);
    Path work = dir.resolve("wrong-type");
    List<String> args = new ArrayList<>(List.of("--workdir", work.toString()));
    args.addAll(TabularTables.settings(strings, test, good));
    assertBadInput("prepare", SharedSpark.run("prepare", args.toArray(new String[0])), work.resolve("data"),
        strings, "'x3'", "string");

    Path shortWork = dir.resolve("wrong-length");
    List<String> three = new ArrayList<>(List.of("--workdir", shortWork.toString()));
    three.addAll(TabularTables.settings(train, test, good));
    three.addAll(List.of("--set", "data.columns.features=[x1, x2, x3]"));
    assertBadInput("prepare", SharedSpark.run("prepare", three.toArray(new String[0])), shortWork.resolve("data"),
        train, "3 features", "the model takes 4");
  }
}
