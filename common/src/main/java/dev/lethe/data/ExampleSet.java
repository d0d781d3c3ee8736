package dev.lethe.data;

import dev.lethe.LetheInputException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * A column-oriented, in-memory block of labelled examples: the engine-free twin of the {@code data/*.parquet}
 * tables (id, features, label, original_label, corruption). Features are flattened row-major
 * (channels x height x width, as in the IDX files), scaled to [0, 1].
 *
 * <p>Arrays are owned by the set (not copied on construction, never mutated afterwards by Lethe code).
 */
public final class ExampleSet implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long[] ids;
  private final float[][] features;
  private final int[] labels;
  private final int[] originalLabels;
  private final Corruption[] corruption;
  private final int numFeatures;

  /**
   * @param numFeatures the row length every feature row must have (checked)
   * @throws LetheInputException if the columns differ in length, a row has the wrong length, or ids repeat
   */
  public ExampleSet(long[] ids, float[][] features, int[] labels, int[] originalLabels, Corruption[] corruption,
      int numFeatures) {
    int n = ids.length;
    if (features.length != n || labels.length != n || originalLabels.length != n || corruption.length != n) {
      throw LetheInputException.of("example columns differ in length: ids %d, features %d, labels %d,"
          + " original_label %d, corruption %d", n, features.length, labels.length, originalLabels.length,
          corruption.length);
    }
    for (int i = 0; i < n; i++) {
      if (features[i] == null || features[i].length != numFeatures) {
        throw LetheInputException.of("example id %d: features has length %d, expected %d", ids[i],
            features[i] == null ? 0 : features[i].length, numFeatures);
      }
    }
    this.ids = ids;
    this.features = features;
    this.labels = labels;
    this.originalLabels = originalLabels;
    this.corruption = corruption;
    this.numFeatures = numFeatures;
  }

  /** Clean examples: original label = label, corruption none. */
  public static ExampleSet clean(long[] ids, float[][] features, int[] labels, int numFeatures) {
    Corruption[] none = new Corruption[ids.length];
    Arrays.fill(none, Corruption.NONE);
    return new ExampleSet(ids, features, labels, labels.clone(), none, numFeatures);
  }

  public int size() {
    return ids.length;
  }

  public int numFeatures() {
    return numFeatures;
  }

  public long id(int i) {
    return ids[i];
  }

  public float[] features(int i) {
    return features[i];
  }

  public int label(int i) {
    return labels[i];
  }

  public int originalLabel(int i) {
    return originalLabels[i];
  }

  public Corruption corruption(int i) {
    return corruption[i];
  }

  public long[] ids() {
    return ids;
  }

  public float[][] features() {
    return features;
  }

  public int[] labels() {
    return labels;
  }

  public int[] originalLabels() {
    return originalLabels;
  }

  public Corruption[] corruptions() {
    return corruption;
  }

  /** The rows at the given positions, in that order (arrays of rows are shared, not copied). */
  public ExampleSet select(int[] rows) {
    int m = rows.length;
    long[] i2 = new long[m];
    float[][] f2 = new float[m][];
    int[] l2 = new int[m];
    int[] o2 = new int[m];
    Corruption[] c2 = new Corruption[m];
    for (int k = 0; k < m; k++) {
      int r = rows[k];
      i2[k] = ids[r];
      f2[k] = features[r];
      l2[k] = labels[r];
      o2[k] = originalLabels[r];
      c2[k] = corruption[r];
    }
    return new ExampleSet(i2, f2, l2, o2, c2, numFeatures);
  }

  /** The same examples with other labels (e.g. after noise injection), and their corruption flags. */
  public ExampleSet withLabels(int[] newLabels, Corruption[] newCorruption) {
    return new ExampleSet(ids, features, newLabels, originalLabels, newCorruption, numFeatures);
  }

  /** The same examples with other features (e.g. after input noise), and their corruption flags. */
  public ExampleSet withFeatures(float[][] newFeatures, Corruption[] newCorruption) {
    return new ExampleSet(ids, newFeatures, labels, originalLabels, newCorruption, numFeatures);
  }

  /** Concatenation (ids must stay unique). */
  public ExampleSet concat(ExampleSet other) {
    if (other.numFeatures != numFeatures) {
      throw LetheInputException.of("cannot join example sets with %d and %d features", numFeatures,
          other.numFeatures);
    }
    int n = size();
    int m = other.size();
    long[] i2 = Arrays.copyOf(ids, n + m);
    float[][] f2 = Arrays.copyOf(features, n + m);
    int[] l2 = Arrays.copyOf(labels, n + m);
    int[] o2 = Arrays.copyOf(originalLabels, n + m);
    Corruption[] c2 = Arrays.copyOf(corruption, n + m);
    System.arraycopy(other.ids, 0, i2, n, m);
    System.arraycopy(other.features, 0, f2, n, m);
    System.arraycopy(other.labels, 0, l2, n, m);
    System.arraycopy(other.originalLabels, 0, o2, n, m);
    System.arraycopy(other.corruption, 0, c2, n, m);
    ExampleSet joined = new ExampleSet(i2, f2, l2, o2, c2, numFeatures);
    joined.requireUniqueIds("joined example set");
    return joined;
  }

  /** The same examples with every feature multiplied by {@code factor}. */
  public ExampleSet scaled(float factor) {
    float[][] f2 = new float[features.length][];
    for (int i = 0; i < features.length; i++) {
      f2[i] = features[i].clone();
      for (int j = 0; j < f2[i].length; j++) {
        f2[i][j] *= factor;
      }
    }
    return new ExampleSet(ids, f2, labels, originalLabels, corruption, numFeatures);
  }

  /**
   * Checks that every id is unique, every label in [0, numClasses) and every feature finite.
   *
   * @param source names the input in the error message (a file or table)
   */
  public void validate(String source, int numClasses) {
    requireUniqueIds(source);
    for (int i = 0; i < ids.length; i++) {
      if (labels[i] < 0 || labels[i] >= numClasses) {
        throw LetheInputException.of("%s: id %d has label %d, outside [0, %d)", source, ids[i], labels[i],
            numClasses);
      }
      if (originalLabels[i] < 0 || originalLabels[i] >= numClasses) {
        throw LetheInputException.of("%s: id %d has original_label %d, outside [0, %d)", source, ids[i],
            originalLabels[i], numClasses);
      }
      float[] row = features[i];
      for (int j = 0; j < row.length; j++) {
        if (!Float.isFinite(row[j])) {
          throw LetheInputException.of("%s: id %d has a non-finite feature (%s at position %d)", source, ids[i],
              row[j], j);
        }
      }
    }
  }

  private void requireUniqueIds(String source) {
    Set<Long> seen = new HashSet<>(ids.length * 2);
    for (long id : ids) {
      if (!seen.add(id)) {
        throw LetheInputException.of("%s: duplicate id %d", source, id);
      }
    }
  }
}
