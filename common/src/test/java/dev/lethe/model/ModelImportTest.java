package dev.lethe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import dev.lethe.math.LogLikelihood;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class ModelImportTest {
  static byte[] resource(String name) {
    try (InputStream in = ModelImportTest.class.getResourceAsStream("/models/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static byte[] zip(Object model) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (model instanceof ComputationGraph g) {
        ModelSerializer.writeModel(g, out, false);
      } else {
        ModelSerializer.writeModel((MultiLayerNetwork) model, out, false);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static double accuracy(MultiLayerNetwork net, ExampleSet s) {
    double[][] z = LogLikelihood.logitsInDouble(net, s, 64);
    int right = 0;
    for (int i = 0; i < s.size(); i++) {
      int best = 0;
      for (int k = 1; k < z[i].length; k++) {
        best = z[i][k] > z[i][best] ? k : best;
      }
      right += best == s.label(i) ? 1 : 0;
    }
    return right / (double) s.size();
  }

  @Test
  void kerasSequentialAndFunctionalFilesImportAsTheSameFittedClassifier() {
    MultiLayerNetwork seq = ModelImport.read(resource("keras-sequential-mlp.h5"), "seq.h5");
    MultiLayerNetwork fun = ModelImport.read(resource("keras-functional-mlp.h5"), "fun.h5");
    LogLikelihood.requireSoftmaxOutput(seq);
    assertThat(LogLikelihood.numClasses(seq)).isEqualTo(3);
    ExampleSet s = TabularBlobs.sample(300, 5, 0);
    // fitted on the same blobs (92% training accuracy when written): well above chance (1/3)
    assertThat(accuracy(seq, s)).isGreaterThan(0.8);
    assertThat(seq.params()).isEqualTo(fun.params());
    // the same file gives the same network, so the same fingerprint in every stage
    assertThat(ModelStore.fingerprint(ModelImport.read(resource("keras-sequential-mlp.h5"), "seq.h5")))
        .isEqualTo(ModelStore.fingerprint(seq));
    assertThat(LogLikelihood.perExample(fun, s, 64)).containsExactly(LogLikelihood.perExample(seq, s, 64));
  }

  @Test
  void aKerasLayerDl4jCannotImportAndALinearOutputAreBadInputNamingTheLayer() {
    assertThatThrownBy(() -> ModelImport.read(resource("keras-lambda-layer.h5"), "lambda.h5"))
        .isInstanceOf(LetheInputException.class).hasMessageStartingWith("lambda.h5: ").hasMessageContaining("Lambda");
    assertThatThrownBy(() -> ModelImport.read(resource("keras-linear-output.h5"), "linear.h5"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("linear.h5")
        .hasMessageContaining("'dense_2'").hasMessageContaining("not a single-output softmax classifier");
    assertThatThrownBy(() -> ModelImport.read(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, "junk.bin"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("junk.bin");
  }

  @Test
  void aMultiLayerZipImportsWithItsFunctionUnchanged() {
    MultiLayerNetwork net = Models.build(new ModelOptions(Architecture.MLP, 1, 2, 2, 3,
        java.util.List.of(5), 3), DataType.DOUBLE);
    MultiLayerNetwork back = ModelImport.read(zip(net), "mlp.zip");
    ExampleSet s = TabularBlobs.sample(20, 6, 0);
    assertThat(back.params()).isEqualTo(net.params());
    assertThat(LogLikelihood.perExample(back, s, 8)).containsExactly(LogLikelihood.perExample(net, s, 8));
  }

  /** A graph's log-probabilities in inference mode, for comparison with the imported network's. */
  static double[][] graphLogProbs(ComputationGraph g, ExampleSet s) {
    INDArray p = g.outputSingle(false, Batches.features(s, 0, s.size(), 0, g.params().dataType()));
    return org.nd4j.linalg.ops.transforms.Transforms.log(p.castTo(DataType.DOUBLE), true).toDoubleMatrix();
  }
}
