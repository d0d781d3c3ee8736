package dev.lethe.valuation;

import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * The exact Shapley values of the training points for an unweighted K-nearest-neighbour classifier (Jia et al.
 * 2019, "Efficient Task-Specific Data Valuation for Nearest Neighbor Algorithms", Theorem 1). For one test point
 * (x, y), with U(S) = (1/K) sum over the min(K, |S|) nearest points of S of 1[their label = y], and the training
 * points sorted by distance to x, nearest first, alpha_1 .. alpha_N:
 *
 * <pre>
 *   s(alpha_N) = 1[y_alpha_N = y] / N
 *   s(alpha_i) = s(alpha_{i+1}) + (1[y_alpha_i = y] - 1[y_alpha_{i+1} = y]) / K * min(K, i) / i
 * </pre>
 *
 * The value of a point over a test set is the mean of its per-test-point values (the Shapley value of the mean
 * utility), so the values sum to the K-NN accuracy on the test set with every training point. O(N log N) per test
 * point. Distance is Euclidean; points are ordered by their squared distance rounded to float precision, ties by row, so
 * the result does not depend on thread scheduling. Test points are processed in fixed chunks whose sums are added
 * in chunk order: the values do not depend on the number of threads either.
 */
public final class KnnShapley {
  private static final int CHUNK = 16;

  private KnnShapley() {}

  /**
   * @param train embeddings of the N training points
   * @param trainLabels their labels
   * @param test embeddings of the test points
   * @param testLabels their labels
   * @param k K (>= 1)
   * @param threads worker threads (>= 1)
   * @return the value of each training point, in row order
   */
  public static double[] values(double[][] train, int[] trainLabels, double[][] test, int[] testLabels, int k,
      int threads) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
    if (train.length != trainLabels.length || test.length != testLabels.length) {
      throw new IllegalArgumentException("embeddings and labels differ in length");
    }
    int n = train.length;
    double[] out = new double[n];
    if (n == 0 || test.length == 0) {
      return out;
    }
    int chunks = (test.length + CHUNK - 1) / CHUNK;
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, chunks)), r -> {
      Thread t = new Thread(r, "lethe-knn-shapley");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<double[]>> parts = new ArrayList<>();
      for (int c = 0; c < chunks; c++) {
        int from = c * CHUNK;
        int to = Math.min(test.length, from + CHUNK);
        parts.add(pool.submit(() -> chunk(train, trainLabels, test, testLabels, from, to, k)));
      }
      for (Future<double[]> f : parts) {
        double[] part = f.get();
        for (int i = 0; i < n; i++) {
          out[i] += part[i];
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("knn-shapley failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    for (int i = 0; i < n; i++) {
      out[i] /= test.length;
    }
    return out;
  }

  /** The sum of the per-test-point values over test points [from, to). */
  private static double[] chunk(double[][] train, int[] trainLabels, double[][] test, int[] testLabels, int from,
      int to, int k) {
    int n = train.length;
    double[] sum = new double[n];
    long[] keys = new long[n];
    for (int t = from; t < to; t++) {
      double[] x = test[t];
      for (int i = 0; i < n; i++) {
        double[] z = train[i];
        double d = 0;
        for (int j = 0; j < x.length; j++) {
          double e = z[j] - x[j];
          d += e * e;
        }
        // non-negative floats order as their bit patterns; the row breaks ties
        keys[i] = ((long) Float.floatToIntBits((float) d) << 32) | i;
      }
      Arrays.sort(keys);
      int y = testLabels[t];
      int last = (int) keys[n - 1];
      double match = trainLabels[last] == y ? 1 : 0;
      double s = match / n;
      sum[last] += s;
      for (int pos = n - 1; pos >= 1; pos--) {
        int row = (int) keys[pos - 1];
        double m = trainLabels[row] == y ? 1 : 0;
        s += (m - match) / k * Math.min(k, pos) / pos;
        sum[row] += s;
        match = m;
      }
    }
    return sum;
  }
}
