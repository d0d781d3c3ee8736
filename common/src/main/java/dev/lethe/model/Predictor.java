package dev.lethe.model;

import dev.lethe.data.ExampleSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Class predictions and accuracy. */
public final class Predictor {
  private Predictor() {}

  /** The arg-max class of every row, in row order, computed in batches of {@code batchSize}. */
  public static int[] predict(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    int[] out = new int[s.size()];
    for (int from = 0; from < s.size(); from += batchSize) {
      int to = Math.min(s.size(), from + batchSize);
      INDArray p = net.output(DataSets.features(s, DataSets.range(from, to), net.params().dataType()), false);
      INDArray arg = p.argMax(1);
      for (int i = from; i < to; i++) {
        out[i] = arg.getInt(i - from);
      }
    }
    return out;
  }

  /** Share of rows where {@code predicted} equals {@code labels}; NaN for no rows. */
  public static double accuracy(int[] predicted, int[] labels) {
    if (predicted.length != labels.length) {
      throw new IllegalArgumentException(predicted.length + " predictions for " + labels.length + " labels");
    }
    if (labels.length == 0) {
      return Double.NaN;
    }
    int right = 0;
    for (int i = 0; i < labels.length; i++) {
      right += predicted[i] == labels[i] ? 1 : 0;
    }
    return right / (double) labels.length;
  }

  /** Accuracy of {@code net} on {@code s} against its labels. */
  public static double accuracy(MultiLayerNetwork net, ExampleSet s) {
    return accuracy(predict(net, s, 256), s.labels());
  }
}
