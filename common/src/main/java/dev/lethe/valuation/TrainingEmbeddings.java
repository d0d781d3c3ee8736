package dev.lethe.valuation;

import dev.lethe.data.ExampleSet;

/**
 * The training set D as the data-valuation methods see it: each example's id, label and penultimate-layer embedding
 * at theta_hat ({@link PenultimateFeatures}), in ascending id order, so that ties broken by row and permutations of
 * rows do not depend on how D was partitioned or collected.
 *
 * @param ids training ids, ascending
 * @param labels their labels
 * @param x their embeddings, one row per example, all of one length
 */
public record TrainingEmbeddings(long[] ids, int[] labels, double[][] x) {
  public TrainingEmbeddings {
    if (ids.length != labels.length || ids.length != x.length) {
      throw new IllegalArgumentException(ids.length + " ids, " + labels.length + " labels and " + x.length
          + " embeddings");
    }
    for (int i = 1; i < ids.length; i++) {
      if (ids[i] <= ids[i - 1]) {
        throw new IllegalArgumentException("ids must be ascending and unique, at position " + i);
      }
    }
    for (double[] row : x) {
      if (row.length != x[0].length) {
        throw new IllegalArgumentException("embeddings of lengths " + x[0].length + " and " + row.length);
      }
    }
  }

  /** The examples of {@code s} (any id order) with their embeddings {@code x} (in the row order of {@code s}). */
  public static TrainingEmbeddings of(ExampleSet s, double[][] x) {
    if (x.length != s.size()) {
      throw new IllegalArgumentException(s.size() + " rows with " + x.length + " embeddings");
    }
    Integer[] order = new Integer[s.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Long.compare(s.id(a), s.id(b)));
    long[] ids = new long[order.length];
    int[] labels = new int[order.length];
    double[][] rows = new double[order.length][];
    for (int i = 0; i < order.length; i++) {
      ids[i] = s.id(order[i]);
      labels[i] = s.label(order[i]);
      rows[i] = x[order[i]];
    }
    return new TrainingEmbeddings(ids, labels, rows);
  }

  /** The number of examples. */
  public int size() {
    return ids.length;
  }

  /** The embedding's length (0 for an empty set). */
  public int dimension() {
    return x.length == 0 ? 0 : x[0].length;
  }
}
