package dev.lethe.treatment;

import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.Predictor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * How a repair is judged (Tanno et al. 2022, Section 5): accuracy on the failures it was given (Fq), on the held
 * out failures (Fh: does the fix generalise?), on the rest of the test set (T \ F: did it break anything?) and on
 * the whole test set; and a guardrail that rejects repairs that cost too much on T \ F.
 */
public final class RepairEvaluation {
  private RepairEvaluation() {}

  /**
   * Accuracies as fractions in [0, 1] (NaN for an empty set).
   *
   * @param query on Fq
   * @param holdout on Fh
   * @param remaining on T \ F, the test examples theta_hat got right
   * @param test on T = Fq + Fh + (T \ F), the size-weighted mean of the three (empty sets weigh 0)
   */
  public record Accuracies(double query, double holdout, double remaining, double test) {

    /** Evaluates {@code model} on Fq, Fh and T \ F. */
    public static Accuracies of(MultiLayerNetwork model, ExampleSet query, ExampleSet holdout,
        ExampleSet remaining) {
      double q = Predictor.accuracy(model, query);
      double h = Predictor.accuracy(model, holdout);
      double r = Predictor.accuracy(model, remaining);
      return new Accuracies(q, h, r, weighted(new double[] {q, h, r},
          new int[] {query.size(), holdout.size(), remaining.size()}));
    }

    static double weighted(double[] acc, int[] sizes) {
      double right = 0;
      long n = 0;
      for (int i = 0; i < acc.length; i++) {
        if (sizes[i] > 0) {
          right += acc[i] * sizes[i];
          n += sizes[i];
        }
      }
      return n == 0 ? Double.NaN : right / n;
    }
  }

  /**
   * Rejects a repair whose accuracy on T \ F drops by more than {@code maxRemainingDropPoints} percentage points
   * ({@code repair.max-remaining-drop}).
   *
   * @param maxRemainingDropPoints the largest acceptable drop, in points (>= 0; 1.0 = one percentage point)
   */
  public record Guardrail(double maxRemainingDropPoints) {
    /** Drops within this many points of the threshold count as at the threshold (binary rounding). */
    public static final double ROUNDING_POINTS = 1e-9;

    public Guardrail {
      if (!(maxRemainingDropPoints >= 0) || Double.isInfinite(maxRemainingDropPoints)) {
        throw new IllegalArgumentException("repair.max-remaining-drop must be finite and >= 0, got "
            + maxRemainingDropPoints);
      }
    }

    public static Guardrail from(LetheConfig c) {
      return Options.valid(() -> new Guardrail(c.getDouble("repair.max-remaining-drop")));
    }

    /** The T \ F accuracy drop in percentage points (negative = improvement; NaN if either is NaN). */
    public static double dropPoints(Accuracies before, Accuracies after) {
      return 100.0 * (before.remaining() - after.remaining());
    }

    /**
     * True if the drop exceeds the threshold by more than {@link #ROUNDING_POINTS} (accuracies are binary
     * fractions: 100 * (0.50 - 0.49) is 1.0000000000000009, and an exact one-point drop must not count as more
     * than one point). An unmeasurable drop (T \ F empty: NaN) does not reject: there is nothing left to protect.
     */
    public boolean rejects(Accuracies before, Accuracies after) {
      double drop = dropPoints(before, after);
      return !Double.isNaN(drop) && drop > maxRemainingDropPoints + ROUNDING_POINTS;
    }
  }
}
