package dev.lethe.data;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.IntStream;

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
 * @param correctHoldout the T\F holdout
 * @param predicted theta_hat's prediction for every test example
 */
public record TestSplit(int[] query, int[] holdout, int[] benchmark, int[] correctHoldout, int[] predicted) {

  /**
   * @param queryFraction |Fq| = round(queryFraction |F|)
   * @param benchmarkFraction |B| = round(benchmarkFraction |T\F|); 0 when the user supplies B
   * @param seed the run's seed
   */
  public static TestSplit of(int[] predicted, int[] labels, double queryFraction, double benchmarkFraction,
      long seed) {
    return of(predicted, labels, queryFraction, benchmarkFraction, seed, List.of());
  }

  /**
   * As {@link #of(int[], int[], double, double, long)}, with Fq drawn only from the failures whose true class is in
   * {@code queryClasses} (the paper's input-noise protocol explains the failures of the corrupted classes):
   * round(queryFraction |F_c|) of those failures go to Fq, and Fh holds the rest of them and every failure of the
   * other classes (so the four parts still cover the test set). An empty list draws Fq from all failures.
   *
   * @throws LetheInputException naming {@code failures.query-classes} when a listed class has no failure
   */
  public static TestSplit of(int[] predicted, int[] labels, double queryFraction, double benchmarkFraction,
      long seed, List<Integer> queryClasses) {
    Set<Integer> classes = new TreeSet<>(queryClasses);
    List<Integer> failed = new ArrayList<>();
    List<Integer> otherFailed = new ArrayList<>();
    List<Integer> right = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      if (predicted[i] == labels[i]) {
        right.add(i);
      } else {
        (classes.isEmpty() || classes.contains(labels[i]) ? failed : otherFailed).add(i);
      }
    }
    for (int c : classes) {
      if (failed.stream().noneMatch(i -> labels[i] == c)) {
        throw LetheInputException.of("config key '%s': class %d has no failures (the model misclassifies no test"
            + " example of class %d), so it cannot restrict the query set Fq", QUERY_CLASSES_KEY, c, c);
      }
    }
    int[][] f = split(failed, queryFraction, Seeds.derive(seed, "failures.split"));
    int[][] r = split(right, benchmarkFraction, Seeds.derive(seed, "failures.benchmark"));
    int[] holdout = f[1];
    if (!otherFailed.isEmpty()) {
      holdout = IntStream.concat(Arrays.stream(f[1]), otherFailed.stream().mapToInt(Integer::intValue)).sorted()
          .toArray();
    }
    return new TestSplit(f[0], holdout, r[0], r[1], predicted);
  }

  /** The configuration key of the query classes. */
  public static final String QUERY_CLASSES_KEY = "failures.query-classes";

  /** Test accuracy of theta_hat. */
  public double accuracy() {
    return (benchmark.length + correctHoldout.length) / (double) predicted.length;
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
