package dev.lethe.model;

import dev.lethe.data.ExampleSet;
import java.util.SplittableRandom;

/**
 * Three Gaussian blobs in four dimensions (unit variance around {@link #MEANS}): the data the Keras fixtures in
 * {@code src/test/resources/models} were fitted on ({@code tools/make_keras_fixtures.py}).
 */
public final class TabularBlobs {
  public static final double[][] MEANS = {{2, 0, 0, 1}, {0, 2, 0, -1}, {0, 0, 2, 0}};

  private TabularBlobs() {}

  /** {@code n} rows with ids from {@code idBase}, seeded. */
  public static ExampleSet sample(int n, long seed, long idBase) {
    SplittableRandom rng = new SplittableRandom(seed);
    long[] ids = new long[n];
    float[][] x = new float[n][4];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = idBase + i;
      y[i] = rng.nextInt(3);
      for (int j = 0; j < 4; j++) {
        x[i][j] = (float) (MEANS[y[i]][j] + gaussian(rng));
      }
    }
    return ExampleSet.clean(ids, x, y, 4);
  }

  private static double gaussian(SplittableRandom rng) {
    double u = 1.0 - rng.nextDouble();
    double v = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
