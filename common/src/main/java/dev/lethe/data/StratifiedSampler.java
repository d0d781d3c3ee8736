package dev.lethe.data;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Seeded, class-stratified subsampling (the {@code lethe.data.train-size} / {@code test-size} knobs).
 *
 * <p>Each class c with n_c of the n rows gets {@code floor(size * n_c / n)} rows; the rows still missing go one
 * each to the classes with the largest remainders {@code size * n_c mod n} (Hamilton's largest-remainder method;
 * ties go to the smaller label). So every class count is within 1 of its exact proportional share and the total
 * is exactly {@code size}. Within a class the rows are a uniform random choice drawn from a generator seeded by
 * (seed, class), so a class's choice does not depend on the other classes.
 */
public final class StratifiedSampler {
  private StratifiedSampler() {}

  /**
   * Row positions of a stratified subsample.
   *
   * @param labels the class of each row (any ints; each distinct value is a stratum)
   * @param size the number of rows wanted; 0, or at least {@code labels.length}, keeps every row
   * @param seed the random seed; the same labels, size and seed always give the same rows
   * @return distinct row positions in ascending order (file order kept)
   * @throws LetheInputException if {@code size} is negative
   */
  public static int[] sample(int[] labels, int size, long seed) {
    int n = labels.length;
    if (size < 0) {
      throw LetheInputException.of("sample size must be >= 0 (0 keeps every row), got %d", size);
    }
    if (size == 0 || size >= n) {
      int[] all = new int[n];
      Arrays.setAll(all, i -> i);
      return all;
    }
    Map<Integer, int[]> rowsByClass = rowsByClass(labels);
    int k = rowsByClass.size();
    int[] classes = new int[k];
    int[][] rows = new int[k][];
    int[] quota = new int[k];
    long[] remainder = new long[k];
    int assigned = 0;
    int c = 0;
    for (Map.Entry<Integer, int[]> e : rowsByClass.entrySet()) {
      classes[c] = e.getKey();
      rows[c] = e.getValue();
      long share = (long) size * rows[c].length;
      quota[c] = (int) (share / n);
      remainder[c] = share % n;
      assigned += quota[c];
      c++;
    }
    Integer[] byRemainder = new Integer[k];
    Arrays.setAll(byRemainder, i -> i);
    // stable sort: equal remainders keep ascending label order
    Arrays.sort(byRemainder, (a, b) -> Long.compare(remainder[b], remainder[a]));
    for (int r = 0; r < size - assigned; r++) {
      quota[byRemainder[r]]++;
    }

    int[] chosen = new int[size];
    int filled = 0;
    for (c = 0; c < k; c++) {
      int[] own = rows[c].clone();
      SplittableRandom random = new SplittableRandom(Seeds.derive(seed, "stratified-sample", classes[c]));
      // partial Fisher-Yates: the first quota[c] entries become a uniform random subset
      for (int i = 0; i < quota[c]; i++) {
        int j = i + random.nextInt(own.length - i);
        int t = own[i];
        own[i] = own[j];
        own[j] = t;
      }
      System.arraycopy(own, 0, chosen, filled, quota[c]);
      filled += quota[c];
    }
    Arrays.sort(chosen);
    return chosen;
  }

  private static Map<Integer, int[]> rowsByClass(int[] labels) {
    Map<Integer, Integer> counts = new TreeMap<>();
    for (int label : labels) {
      counts.merge(label, 1, Integer::sum);
    }
    Map<Integer, int[]> rows = new TreeMap<>();
    counts.forEach((label, count) -> rows.put(label, new int[count]));
    Map<Integer, Integer> next = new TreeMap<>();
    for (int i = 0; i < labels.length; i++) {
      int at = next.merge(labels[i], 1, Integer::sum) - 1;
      rows.get(labels[i])[at] = i;
    }
    return rows;
  }
}
