package dev.lethe.valuation;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import dev.lethe.math.LogLikelihood;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The input of a softmax classifier's output layer (its penultimate-layer embedding): for the paper CNN the 64
 * globally pooled channels, for the MLP the last hidden layer, for softmax regression the features themselves.
 * Computed by DL4J's inference-mode forward pass in fixed-shape batches (the last one zero-padded), so a row's
 * embedding does not depend on the other rows of its batch.
 */
public final class PenultimateFeatures {
  private PenultimateFeatures() {}

  /** The embedding of every row of {@code s}, in row order. */
  public static double[][] of(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    LogLikelihood.requireSoftmaxOutput(net);
    DataType type = net.params().dataType();
    double[][] out = new double[s.size()][];
    for (int from = 0; from < s.size(); from += batchSize) {
      int to = Math.min(s.size(), from + batchSize);
      INDArray in = LogLikelihood.outputLayerInput(net, Batches.features(s, from, to, batchSize, type));
      double[][] rows = in.castTo(DataType.DOUBLE).reshape(in.size(0), -1).toDoubleMatrix();
      System.arraycopy(rows, 0, out, from, to - from);
    }
    return out;
  }
}
