package dev.lethe.influence;

import dev.lethe.data.Corruption;
import java.util.Map;

/**
 * Evaluation-only baseline "oracle": knows which rows were corrupted. r(z) = 1 for corrupted rows (corruption
 * != none), 0 otherwise, plus a tie-break of 1e-3 x a uniform [0, 1) value from (seed, id): corrupted rows all
 * rank above clean rows, and within each group the order is a seeded, partitioning-independent shuffle (so
 * "top-k of the oracle" is well defined when k is smaller than the number of corrupted rows).
 */
public final class OracleInfluence implements InfluenceMethod {
  public static final String NAME = "oracle";
  static final double TIE_BREAK = 1e-3;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    return new PreparedInfluence(new Spec(in.seed()), null, Map.of("method", NAME, "evaluationOnly", true));
  }

  private record Spec(long seed) implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      return block -> ScoredBlock.ofRows(block.size(), i -> (block.corruption(i) == Corruption.NONE ? 0.0 : 1.0)
          + TIE_BREAK * RandomInfluence.uniform(seed, "oracle-tie-break", block.id(i)));
    }
  }
}
