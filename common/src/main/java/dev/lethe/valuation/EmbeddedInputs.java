package dev.lethe.valuation;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.math.LogLikelihood;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What a data-valuation method values: the training set D and the failures Fq with their penultimate-layer
 * embeddings at theta_hat ({@link PenultimateFeatures}), and the number of classes.
 *
 * @param train D with its embeddings, in id order
 * @param query Fq
 * @param q Fq's embeddings, in row order
 * @param numClasses the output layer's classes
 */
record EmbeddedInputs(TrainingEmbeddings train, ExampleSet query, double[][] q, int numClasses) {

  /** D's embeddings, in id order. */
  double[][] x() {
    return train.x();
  }

  /**
   * The inputs of {@code method}, with D's embeddings from {@code pass} (null: from the collected training set of
   * {@code in}).
   *
   * @throws LetheInputException when Fq is empty
   * @throws IllegalArgumentException when there is no pass and the inputs carry no training set
   */
  static EmbeddedInputs of(InfluenceInputs in, String method, EmbeddingPass pass) {
    if (in.query().size() == 0) {
      throw LetheInputException.of("%s: the failure set Fq is empty: nothing to explain", method);
    }
    EmbeddingPass p = pass;
    if (p == null) {
      ExampleSet train = in.train();
      if (train == null || train.size() == 0) {
        throw new IllegalArgumentException(method + " needs the whole training set");
      }
      p = EmbeddingPass.local(train);
    }
    int batch = in.options().scoreBatchSize();
    MultiLayerNetwork net = PenultimateFeatures.inDouble(in.model());
    TrainingEmbeddings d = p.embed(net, batch);
    if (d.size() == 0) {
      throw new IllegalArgumentException(method + " needs the whole training set");
    }
    return new EmbeddedInputs(d, in.query(), PenultimateFeatures.of(net, in.query(), batch),
        LogLikelihood.numClasses(in.model()));
  }
}
