package dev.lethe.valuation;

import dev.lethe.influence.ScoredBlock;
import dev.lethe.influence.Scorer;
import dev.lethe.influence.ScorerSpec;
import java.util.Arrays;

/**
 * Data values computed on the driver, shipped by training id: the scorer gives each row minus its value (a negative
 * value = a culprit = a positive score), and NaN log-likelihoods.
 *
 * @param ids training ids, ascending
 * @param values the value of each id
 */
public record ValueScores(long[] ids, double[] values) implements ScorerSpec {
  private static final long serialVersionUID = 1L;

  public ValueScores {
    if (ids.length != values.length) {
      throw new IllegalArgumentException(ids.length + " ids with " + values.length + " values");
    }
    for (int i = 1; i < ids.length; i++) {
      if (ids[i] <= ids[i - 1]) {
        throw new IllegalArgumentException("ids must be ascending and unique, at position " + i);
      }
    }
  }

  /** The value of training id {@code id}. */
  public double value(long id) {
    int at = Arrays.binarySearch(ids, id);
    if (at < 0) {
      throw new IllegalStateException("no data value for training id " + id + ": the training table changed while"
          + " identify ran");
    }
    return values[at];
  }

  @Override
  public Scorer open() {
    return block -> {
      double[] score = new double[block.size()];
      double[] nan = new double[block.size()];
      Arrays.fill(nan, Double.NaN);
      for (int i = 0; i < score.length; i++) {
        score[i] = -value(block.id(i));
      }
      return new ScoredBlock(score, nan, nan.clone());
    };
  }
}
