package dev.lethe.data;

import dev.lethe.Seeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The split of a test set T by theta_hat's predictions (Tanno et al. 2022, Section 2): the misclassified examples F
 * into the query set Fq (drives identification and repair) and the holdout Fh (reported only); the correctly
 * classified T\F into the benchmark cases B (the repair's guardrail) and the T\F holdout (reported only). Each split
 * is a seeded shuffle, the two with independent streams of the run's seed; positions are into the test set, each
 * part ascending.
 *
 * @param query Fq
 * @param holdout Fh
 * @param benchmark B (empty when the user supplies their own B)
 * @param remaining the T\F holdout
 * @param predicted theta_hat's prediction for every test example
 */
public record TestSplit(int[] query, int[] holdout, int[] benchmark, int[] remaining, int[] predicted) {

  /**
   * @param queryFraction |Fq| = round(queryFraction |F|)
   * @param benchmarkFraction |B| = round(benchmarkFraction |T\F|); 0 when the user supplies B
   * @param seed the run's seed
   */
  public static TestSplit of(int[] predicted, int[] labels, double queryFraction, double benchmarkFraction,
      long seed) {
    List<Integer> failed = new ArrayList<>();
    List<Integer> right = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      (predicted[i] == labels[i] ? right : failed).add(i);
    }
    int[][] f = split(failed, queryFraction, Seeds.derive(seed, "failures.split"));
    int[][] r = split(right, benchmarkFraction, Seeds.derive(seed, "failures.benchmark"));
    return new TestSplit(f[0], f[1], r[0], r[1], predicted);
  }

  /** Test accuracy of theta_hat. */
  public double accuracy() {
    return (benchmark.length + remaining.length) / (double) predicted.length;
  }

  /** round(fraction n) positions after a seeded shuffle, and the rest; both ascending. */
  private static int[][] split(List<Integer> positions, double fraction, long seed) {
    int[] p = positions.stream().mapToInt(Integer::intValue).toArray();
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = p.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    int k = (int) Math.round(fraction * p.length);
    int[] first = Arrays.copyOfRange(p, 0, k);
    int[] rest = Arrays.copyOfRange(p, k, p.length);
    Arrays.sort(first);
    Arrays.sort(rest);
    return new int[][] {first, rest};
  }
}
