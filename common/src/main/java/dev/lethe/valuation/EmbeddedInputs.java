package dev.lethe.valuation;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.influence.InfluenceInputs;

/**
 * What a data-valuation method values: the training set D and the failures Fq with their penultimate-layer
 * embeddings at theta_hat ({@link PenultimateFeatures}), and the number of classes.
 *
 * @param train D
 * @param query Fq
 * @param x D's embeddings, in row order
 * @param q Fq's embeddings, in row order
 * @param numClasses the output layer's classes
 */
record EmbeddedInputs(ExampleSet train, ExampleSet query, double[][] x, double[][] q, int numClasses) {

  /**
   * @throws LetheInputException when Fq is empty
   * @throws IllegalArgumentException when the inputs carry no training set
   */
  static EmbeddedInputs of(InfluenceInputs in, String method) {
    ExampleSet train = in.train();
    if (train == null || train.size() == 0) {
      throw new IllegalArgumentException(method + " needs the whole training set");
    }
    if (in.query().size() == 0) {
      throw LetheInputException.of("%s: the failure set Fq is empty: nothing to explain", method);
    }
    int batch = in.options().scoreBatchSize();
    int k = (int) ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) in.model().getLayerWiseConfigurations()
        .getConf(in.model().getnLayers() - 1).getLayer()).getNOut();
    return new EmbeddedInputs(train, in.query(), PenultimateFeatures.of(in.model(), train, batch),
        PenultimateFeatures.of(in.model(), in.query(), batch), k);
  }
}
