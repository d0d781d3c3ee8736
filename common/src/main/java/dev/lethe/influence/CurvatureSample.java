package dev.lethe.influence;

import dev.lethe.Seeds;
import java.util.Arrays;

/**
 * Which training examples linear influence's full curvature is estimated on: the {@code m} examples with the
 * smallest keys {@code Seeds.derive(seed, "row", id)}. The choice depends on the ids and the seed only, never on how
 * the rows are ordered or partitioned.
 */
public final class CurvatureSample {
  /** The purpose tag the sample's seed is derived with. */
  public static final String PURPOSE = "identify.curvature-sample";

  private CurvatureSample() {}

  /**
   * @param ids every training example's id
   * @param m the sample size; all ids when there are fewer
   * @param runSeed the run's seed
   * @return the chosen ids, in key order
   */
  public static long[] choose(long[] ids, int m, long runSeed) {
    long seed = Seeds.derive(runSeed, PURPOSE);
    long[][] keyed = new long[ids.length][];
    for (int i = 0; i < ids.length; i++) {
      keyed[i] = new long[] {Seeds.derive(seed, "row", ids[i]), ids[i]};
    }
    Arrays.sort(keyed, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    long[] chosen = new long[Math.min(m, ids.length)];
    for (int i = 0; i < chosen.length; i++) {
      chosen[i] = keyed[i][1];
    }
    return chosen;
  }
}
