package dev.lethe.influence;

import dev.lethe.Seeds;
import java.util.Map;

/**
 * Baseline "random": r(z) uniform in [0, 1), a function of (seed, example id) only, so independent of the order
 * and partitioning of the data.
 */
public final class RandomInfluence implements InfluenceMethod {
  public static final String NAME = "random";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    return new PreparedInfluence(new Spec(in.seed()), null, Map.of("method", NAME));
  }

  /** Uniform [0, 1) from Seeds.derive(seed, purpose, id), 53 random bits. */
  static double uniform(long seed, String purpose, long id) {
    return (Seeds.derive(seed, purpose, id) >>> 11) * 0x1.0p-53;
  }

  private record Spec(long seed) implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      return block -> ScoredBlock.ofRows(block.size(), i -> uniform(seed, "random-influence", block.id(i)));
    }
  }

  /** For tests and reuse: the score of one id. */
  public static double score(long seed, long id) {
    return uniform(seed, "random-influence", id);
  }
}
