package dev.lethe.valuation;

import dev.lethe.influence.InfluenceMethod;

/**
 * A data-valuation method that values training examples by their penultimate-layer embeddings (knn-shapley,
 * tmc-shapley). By default it embeds the collected training set it is given ({@link #needsTrainingSet()}); with an
 * {@link EmbeddingPass} it has the pass compute the embeddings instead (in the identify stage: Spark partitions of
 * the training table), and D is not collected.
 */
public interface EmbeddingValuation extends InfluenceMethod {
  /** This method with its training embeddings computed by {@code pass}. */
  EmbeddingValuation withEmbeddingPass(EmbeddingPass pass);
}
