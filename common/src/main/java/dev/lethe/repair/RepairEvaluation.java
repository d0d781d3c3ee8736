package dev.lethe.repair;

import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * How a repair is judged (Tanno et al. 2022, Sections 2 and 5): accuracy on the failures it was given (Fq), on the
 * benchmark cases B whose accuracy it must keep (the guardrail), and, for the report only, on the held-out failures
 * (Fh: does the fix generalise?), on the held-out correctly classified test examples (the T\F holdout: did it break
 * anything?) and on the whole test set. No decision reads Fh or the T\F holdout.
 */
public final class RepairEvaluation {
  private static final int BATCH = 256;

  private RepairEvaluation() {}

  /**
   * The test sets of a repair, split by the failures stage.
   *
   * @param query Fq, failures the repair is given
   * @param benchmark B, correctly classified test examples whose accuracy the guardrail protects
   * @param holdout Fh, failures held out (report only)
   * @param correctHoldout the T\F holdout, correctly classified test examples held out (report only)
   */
  public record Sets(ExampleSet query, ExampleSet benchmark, ExampleSet holdout, ExampleSet correctHoldout)
      implements Serializable {
    public Sets {
      if (query == null || benchmark == null || holdout == null || correctHoldout == null) {
        throw new IllegalArgumentException("Fq, B, Fh and the T\\F holdout must be given (possibly empty)");
      }
    }

    /** The whole test set's size. */
    public int testSize() {
      return query.size() + benchmark.size() + holdout.size() + correctHoldout.size();
    }
  }

  /**
   * Accuracies as fractions in [0, 1] (NaN for an empty set), and the mean log-likelihood of Fq.
   *
   * @param query on Fq
   * @param benchmark on B
   * @param holdout on Fh
   * @param correctHoldout on the T\F holdout
   * @param test on the whole test set Fq + B + Fh + T\F holdout, the size-weighted mean (empty sets weigh 0)
   * @param queryLogp mean log p(y | x) over Fq in double precision (NaN for an empty Fq): the search's tie-break
   */
  public record Accuracies(double query, double benchmark, double holdout, double correctHoldout, double test,
      double queryLogp) implements Serializable {

    /**
     * Evaluates {@code model} on every set, one forward pass each ({@link LogLikelihood#logitsInDouble}: for the
     * CNNs FastCnn supports, double-precision logits from the parameters).
     */
    public static Accuracies of(MultiLayerNetwork model, Sets s) {
      double[] queryLogp = new double[1];
      double q = accuracy(model, s.query(), queryLogp);
      double b = accuracy(model, s.benchmark(), null);
      double h = accuracy(model, s.holdout(), null);
      double r = accuracy(model, s.correctHoldout(), null);
      double logp = s.query().size() == 0 ? Double.NaN : queryLogp[0];
      return new Accuracies(q, b, h, r, weighted(new double[] {q, b, h, r},
          new int[] {s.query().size(), s.benchmark().size(), s.holdout().size(), s.correctHoldout().size()}), logp);
    }

    /** Accuracy on {@code s} (NaN when empty); the mean log p(y | x) into {@code meanLogp[0]} when given. */
    private static double accuracy(MultiLayerNetwork model, ExampleSet s, double[] meanLogp) {
      if (s.size() == 0) {
        return Double.NaN;
      }
      double[][] z = LogLikelihood.logitsInDouble(model, s, BATCH);
      int right = 0;
      double logp = 0;
      for (int i = 0; i < z.length; i++) {
        int best = 0;
        for (int k = 1; k < z[i].length; k++) {
          if (z[i][k] > z[i][best]) {
            best = k;
          }
        }
        right += best == s.label(i) ? 1 : 0;
        logp += meanLogp == null ? 0 : LogLikelihood.logSoftmaxOf(z[i], s.label(i));
      }
      if (meanLogp != null) {
        meanLogp[0] = logp / z.length;
      }
      return right / (double) z.length;
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
   * The guardrail (PUMA's performance drop limit delta): a repair may lower accuracy on the benchmark cases B by at
   * most {@code maxBenchmarkDropPoints} percentage points ({@code repair.max-benchmark-drop}).
   *
   * @param maxBenchmarkDropPoints the largest acceptable drop, in points (>= 0; 1.0 = one percentage point)
   */
  public record Guardrail(double maxBenchmarkDropPoints) implements Serializable {
    /** Drops within this many points of the threshold count as at the threshold (binary rounding). */
    public static final double ROUNDING_POINTS = 1e-9;

    public Guardrail {
      if (!(maxBenchmarkDropPoints >= 0) || Double.isInfinite(maxBenchmarkDropPoints)) {
        throw new IllegalArgumentException("repair.max-benchmark-drop must be finite and >= 0, got "
            + maxBenchmarkDropPoints);
      }
    }

    public static Guardrail from(LetheConfig c) {
      return Options.valid(() -> new Guardrail(c.getDouble("repair.max-benchmark-drop")));
    }

    /** The B accuracy drop in percentage points (negative = improvement). */
    public static double dropPoints(Accuracies before, Accuracies after) {
      return 100.0 * (before.benchmark() - after.benchmark());
    }

    /**
     * True if the drop on B is within the limit, up to {@link #ROUNDING_POINTS} (accuracies are binary fractions:
     * 100 * (0.50 - 0.49) is 1.0000000000000009, and an exact one-point drop must not count as more than one
     * point).
     */
    public boolean admits(Accuracies before, Accuracies after) {
      double drop = dropPoints(before, after);
      return !Double.isNaN(drop) && drop <= maxBenchmarkDropPoints + ROUNDING_POINTS;
    }
  }
}
