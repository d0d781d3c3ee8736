package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Network inputs built from an {@link ExampleSet}: feature rows and one-hot labels, optionally zero-padded at the
 * end to a fixed number of rows (a fixed batch shape makes every row's result independent of the other rows in
 * its batch; see {@link LogLikelihood}).
 */
public final class Batches {
  private Batches() {}

  /**
   * Rows {@code [from, to)} of {@code s} as a {@code [max(padTo, to-from), numFeatures]} array of data type
   * {@code type}; rows beyond {@code to-from} are zero.
   */
  public static INDArray features(ExampleSet s, int from, int to, int padTo, DataType type) {
    checkRange(s.size(), from, to);
    int n = to - from;
    int rows = Math.max(n, padTo);
    int d = s.numFeatures();
    float[][] f = s.features();
    if (type == DataType.DOUBLE) {
      double[] flat = new double[rows * d];
      for (int i = 0; i < n; i++) {
        float[] row = f[from + i];
        for (int j = 0; j < d; j++) {
          flat[i * d + j] = row[j];
        }
      }
      return Nd4j.create(flat, new long[] {rows, d}, DataType.DOUBLE);
    }
    float[] flat = new float[rows * d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(f[from + i], 0, flat, i * d, d);
    }
    INDArray out = Nd4j.create(flat, new long[] {rows, d}, DataType.FLOAT);
    return type == DataType.FLOAT ? out : out.castTo(type);
  }

  /**
   * As {@link #features(ExampleSet, int, int, int, DataType)} in ND4J's default floating-point type; callers that
   * hold a network pass {@code net.params().dataType()} instead.
   */
  public static INDArray features(ExampleSet s, int from, int to, int padTo) {
    return features(s, from, to, padTo, Nd4j.defaultFloatingPointType());
  }

  /**
   * Labels {@code [from, to)} one-hot as {@code [max(padTo, to-from), numClasses]}; padded rows are all zero.
   *
   * @throws IllegalArgumentException if a label is outside {@code [0, numClasses)}
   */
  public static INDArray oneHot(int[] labels, int from, int to, int numClasses, int padTo, DataType type) {
    checkRange(labels.length, from, to);
    int n = to - from;
    int rows = Math.max(n, padTo);
    double[] flat = new double[rows * numClasses];
    for (int i = 0; i < n; i++) {
      int y = labels[from + i];
      if (y < 0 || y >= numClasses) {
        throw new IllegalArgumentException("label " + y + " at row " + (from + i) + " is outside [0, "
            + numClasses + ")");
      }
      flat[i * numClasses + y] = 1.0;
    }
    INDArray out = Nd4j.create(flat, new long[] {rows, numClasses}, DataType.DOUBLE);
    return type == DataType.DOUBLE ? out : out.castTo(type);
  }

  /** As {@link #oneHot(int[], int, int, int, int, DataType)} in ND4J's default floating-point type. */
  public static INDArray oneHot(int[] labels, int from, int to, int numClasses, int padTo) {
    return oneHot(labels, from, to, numClasses, padTo, Nd4j.defaultFloatingPointType());
  }

  private static void checkRange(int size, int from, int to) {
    if (from < 0 || to > size || from > to) {
      throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + size);
    }
  }
}
