package dev.lethe.valuation;

import dev.lethe.data.ExampleSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Computes the penultimate-layer embeddings of the whole training set D at theta_hat: on this JVM from a collected
 * D ({@link #local}) or, in the identify stage, in Spark partitions of the training table, each through
 * {@link PenultimateFeatures}. A row's embedding depends only on the row, so the result is the same wherever it is
 * computed.
 */
@FunctionalInterface
public interface EmbeddingPass {
  /** The embeddings of every training example of D under {@code net}, in forward passes of {@code batchSize} rows. */
  TrainingEmbeddings embed(MultiLayerNetwork net, int batchSize);

  /** The pass over the collected training set {@code train}, on this JVM. */
  static EmbeddingPass local(ExampleSet train) {
    return (net, batchSize) -> TrainingEmbeddings.of(train, PenultimateFeatures.of(net, train, batchSize));
  }
}
