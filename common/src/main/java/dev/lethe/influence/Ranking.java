package dev.lethe.influence;

import java.util.Arrays;

/**
 * One method's ranking of the training set as an identify run wrote it: {@code ranks[i]} is the rank of example
 * {@code ids[i]} (1 = most to blame). Held sorted by id, so a rank is found by binary search.
 *
 * @param method the method that ranked
 * @param ids the example ids, ascending and unique
 * @param ranks the rank of each id, a permutation of 1..n
 */
public record Ranking(String method, long[] ids, long[] ranks) {
  public Ranking {
    if (method == null || ids == null || ranks == null || ids.length != ranks.length) {
      throw new IllegalArgumentException("a ranking needs a method and as many ranks as ids");
    }
    boolean[] seen = new boolean[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (i > 0 && ids[i] <= ids[i - 1]) {
        throw new IllegalArgumentException(method + ": the ids of a ranking must be ascending and unique");
      }
      long r = ranks[i];
      if (r < 1 || r > ids.length || seen[(int) (r - 1)]) {
        throw new IllegalArgumentException(method + ": the ranks must be a permutation of 1.." + ids.length
            + ", got " + r + " again or out of range");
      }
      seen[(int) (r - 1)] = true;
    }
  }

  /** The ranking of (id, rank) pairs in any order. */
  public static Ranking of(String method, long[] ids, long[] ranks) {
    Integer[] order = new Integer[ids.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Long.compare(ids[a], ids[b]));
    long[] si = new long[ids.length];
    long[] sr = new long[ids.length];
    for (int i = 0; i < order.length; i++) {
      si[i] = ids[order[i]];
      sr[i] = ranks[order[i]];
    }
    return new Ranking(method, si, sr);
  }

  /**
   * Spearman's rank correlation of two rankings of the same examples without ties, 1 - 6 sum d^2 / (n (n^2 - 1)),
   * with d the difference of an example's ranks (1 for fewer than two examples).
   */
  public static double spearman(long[] ranksA, long[] ranksB) {
    if (ranksA.length != ranksB.length) {
      throw new IllegalArgumentException("rank correlation of " + ranksA.length + " and " + ranksB.length + " ranks");
    }
    double n = ranksA.length;
    double d2 = 0;
    for (int i = 0; i < ranksA.length; i++) {
      double d = ranksA[i] - ranksB[i];
      d2 += d * d;
    }
    return n < 2 ? 1.0 : 1 - 6 * d2 / (n * (n * n - 1));
  }

  public int size() {
    return ids.length;
  }

  /** The rank of {@code id}, or -1 when this ranking has no such example. */
  public long rankOf(long id) {
    int i = Arrays.binarySearch(ids, id);
    return i >= 0 ? ranks[i] : -1;
  }
}
