package dev.lethe.influence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How well one identification method's ranking finds the corrupted training examples: inspecting the training set
 * in rank order (most harmful first), the fraction of corrupted examples found after inspecting a fraction of it.
 * A random ranking follows the diagonal; the oracle rises to 1 at the corrupted share.
 *
 * @param method the identification method (rankings/&lt;method&gt;.parquet)
 * @param rows N, the ranked training examples
 * @param corruptedRanks the ranks (1 = most harmful) of the corrupted examples, ascending; empty when the data
 *     carries no corruption flags
 * @param seconds the method's wall time from its provenance (prepare + score), NaN when unknown
 */
public record IdentificationCurve(String method, long rows, long[] corruptedRanks, double seconds) {
  /** The inspected fractions reported in tables and summary.json. */
  public static final double[] INSPECTED = {0.01, 0.05, 0.10, 0.15, 0.20, 0.50};

  public IdentificationCurve {
    if (rows < 1) {
      throw new IllegalArgumentException(method + ": no ranked rows");
    }
    corruptedRanks = corruptedRanks.clone();
    Arrays.sort(corruptedRanks);
    for (long r : corruptedRanks) {
      if (r < 1 || r > rows) {
        throw new IllegalArgumentException(method + ": rank " + r + " outside [1, " + rows + "]");
      }
    }
  }

  public int corrupted() {
    return corruptedRanks.length;
  }

  public boolean hasCorruption() {
    return corruptedRanks.length > 0;
  }

  /** The rows inspected at a fraction: round(fraction N), at least 1 (as the identify stage counts its top). */
  public long cut(double fraction) {
    return Math.max(1, Math.round(fraction * rows));
  }

  /** The number of corrupted examples among the first {@code cut} rows of the ranking. */
  public int corruptedInTop(long cut) {
    int found = 0;
    while (found < corruptedRanks.length && corruptedRanks[found] <= cut) {
      found++;
    }
    return found;
  }

  /** The fraction of the corrupted examples among the top {@code fraction} of the ranking (NaN without any). */
  public double foundAt(double fraction) {
    return hasCorruption() ? (double) corruptedInTop(cut(fraction)) / corruptedRanks.length : Double.NaN;
  }

  /**
   * The share of corrupted examples among the top {@code fraction} of the ranking (precision at the cut; the base
   * rate K/N for a random ranking; NaN without corruption).
   */
  public double shareInTop(double fraction) {
    return hasCorruption() ? (double) corruptedInTop(cut(fraction)) / cut(fraction) : Double.NaN;
  }

  /** The share of corrupted examples in the whole training set, K/N: what a random ranking puts at the top. */
  public double baseRate() {
    return (double) corruptedRanks.length / rows;
  }

  /**
   * The area under the found-vs-inspected step curve, (1/K) sum_i (N - r_i + 1) / N: 1 when every corrupted
   * example is ranked first, about 0.5 for a random ranking, NaN without corruption.
   */
  public double areaUnderCurve() {
    if (!hasCorruption()) {
      return Double.NaN;
    }
    double s = 0;
    for (long r : corruptedRanks) {
      s += (double) (rows - r + 1) / rows;
    }
    return s / corruptedRanks.length;
  }

  /**
   * The curve as (inspected, found) points: (0, 0), one point per corrupted example (its rank / N, i / K) and
   * (1, 1); thinned to at most about {@code maxPoints} (every k-th corrupted example, always the last).
   */
  public List<double[]> points(int maxPoints) {
    List<double[]> p = new ArrayList<>();
    p.add(new double[] {0, 0});
    int k = corruptedRanks.length;
    int step = Math.max(1, (int) Math.ceil(k / (double) Math.max(1, maxPoints)));
    for (int i = 0; i < k; i++) {
      if ((i + 1) % step == 0 || i == k - 1) {
        p.add(new double[] {(double) corruptedRanks[i] / rows, (double) (i + 1) / k});
      }
    }
    p.add(new double[] {1, 1});
    return p;
  }

  /** A column header for an inspected fraction, e.g. "top 10%". */
  public static String label(double fraction) {
    return String.format(Locale.ROOT, "top %.0f%%", 100 * fraction);
  }

  /** A JSON key for an inspected fraction, e.g. "top_10_percent". */
  public static String key(double fraction) {
    return String.format(Locale.ROOT, "top_%.0f_percent", 100 * fraction);
  }
}
