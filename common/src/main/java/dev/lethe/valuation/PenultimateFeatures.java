package dev.lethe.valuation;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.Purpose;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The input of a softmax classifier's output layer (its penultimate-layer embedding): for the paper CNN the 64
 * globally pooled channels, for the MLP the last hidden layer, for softmax regression the features themselves.
 * Computed by the backend {@link BackendSelector} chooses for {@link Purpose#DOUBLE} (the CNN fast path where it
 * applies, in double precision from the network's parameters; DL4J's inference-mode forward pass otherwise), in
 * fixed-shape batches, so a row's embedding does not depend on the other rows of its batch.
 */
public final class PenultimateFeatures {
  private PenultimateFeatures() {}

  /**
   * {@code net} in double precision: itself when its parameters are double, else a copy rebuilt in double (float
   * parameters are exact in double). Embeddings computed with it do not depend on where a row sits in its batch
   * beyond double rounding, which float GEMM kernels do not guarantee: the data-valuation methods' values must not
   * depend on how the training table is partitioned into blocks.
   */
  public static MultiLayerNetwork inDouble(MultiLayerNetwork net) {
    return net.params().dataType() == org.nd4j.linalg.api.buffer.DataType.DOUBLE ? net
        : dev.lethe.math.NetworkBytes.rebuild(dev.lethe.math.NetworkBytes.configBytes(net),
            dev.lethe.math.NetworkBytes.paramBytes(net.params()), org.nd4j.linalg.api.buffer.DataType.DOUBLE);
  }

  /** The embedding of every row of {@code s}, in row order. */
  public static double[][] of(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    LogLikelihood.requireSoftmaxOutput(net);
    return BackendSelector.current().select(net, Purpose.DOUBLE).embeddings(s, batchSize);
  }
}
