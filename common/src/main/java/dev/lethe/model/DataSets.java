package dev.lethe.model;

import dev.lethe.data.ExampleSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Conversion of example rows to ND4J minibatches (flat feature rows, one-hot labels). */
public final class DataSets {
  private DataSets() {}

  /** Rows {@code rows} of {@code s} as a [rows, numFeatures] matrix of {@code type}. */
  public static INDArray features(ExampleSet s, int[] rows, DataType type) {
    int d = s.numFeatures();
    float[] flat = new float[rows.length * d];
    for (int k = 0; k < rows.length; k++) {
      System.arraycopy(s.features(rows[k]), 0, flat, k * d, d);
    }
    INDArray f = Nd4j.create(flat, new long[] {rows.length, d}, 'c');
    return type == DataType.FLOAT ? f : f.castTo(type);
  }

  /** One-hot labels of {@code rows}. */
  public static INDArray oneHot(ExampleSet s, int[] rows, int numClasses, DataType type) {
    INDArray y = Nd4j.zeros(type, rows.length, numClasses);
    for (int k = 0; k < rows.length; k++) {
      y.putScalar(k, s.label(rows[k]), 1.0);
    }
    return y;
  }

  public static DataSet dataSet(ExampleSet s, int[] rows, int numClasses, DataType type) {
    return new DataSet(features(s, rows, type), oneHot(s, rows, numClasses, type));
  }

  /** Positions {@code from, from + 1, ..., to - 1}. */
  public static int[] range(int from, int to) {
    int[] r = new int[to - from];
    for (int i = 0; i < r.length; i++) {
      r[i] = from + i;
    }
    return r;
  }
}
