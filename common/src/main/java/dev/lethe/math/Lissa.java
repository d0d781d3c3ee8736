package dev.lethe.math;

import dev.lethe.Seeds;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.function.LongFunction;

/**
 * LiSSA (Agarwal, Bullins, Hazan 2017; as used for influence functions by Koh and Liang 2017): a stochastic
 * estimate of (H + damping I)^-1 b from minibatch curvature products, for the linear influence of Tanno et al.
 * 2022, Eq. 9 when H is too large to solve exactly.
 *
 * <p>Recursion: v_0 = b, v_j = b + (I - (H_j + damping I) / scale) v_{j-1} with H_j the curvature of the j-th
 * minibatch; v_depth / scale is the estimate, averaged over {@code repeats} independent recursions. Every step
 * contracts when {@code scale} is at least the largest eigenvalue of every H_j + damping I (with damping > 0); a
 * scale below that can diverge, which this detects and throws. {@link #automaticScale} gives a scale that meets
 * the condition for every minibatch, not only on average.
 */
public final class Lissa {
  private Lissa() {}

  /** The recursion diverged: {@code scale} does not exceed the largest eigenvalue of the damped curvature. */
  public static final class Diverged extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    Diverged(String message) {
      super(message);
    }
  }

  /**
   * Runs {@code body}; a {@link Diverged} LiSSA inside it is a configuration problem of the key {@code scaleKey}
   * and becomes a {@link dev.lethe.LetheInputException} naming it (exit 2 in the stages).
   */
  public static <T> T divergenceIsBadConfig(String scaleKey, java.util.function.Supplier<T> body) {
    try {
      return body.get();
    } catch (Diverged e) {
      throw new dev.lethe.LetheInputException(scaleKey + ": " + e.getMessage() + " (use 0 for automatic)", e);
    }
  }

  /**
   * @param minibatchCurvature returns H_j for a seed (a fresh random minibatch; WITHOUT damping, which is added
   *     here); called with {@code Seeds.derive(seed, "lissa", repeat * depth + j)}
   * @return the average over repeats of v_depth / scale
   * @throws Diverged if the recursion diverges (scale too small)
   */
  public static double[] solve(LongFunction<LinearOperator> minibatchCurvature, double[] b, double damping,
      double scale, int depth, int repeats, long seed) {
    if (!(scale > 0) || !(damping >= 0) || depth < 1 || repeats < 1) {
      throw new IllegalArgumentException("LiSSA needs scale > 0, damping >= 0, depth >= 1, repeats >= 1; got "
          + scale + ", " + damping + ", " + depth + ", " + repeats);
    }
    int n = b.length;
    double[] mean = new double[n];
    double[] hv = new double[n];
    double bNorm = ConjugateGradient.norm(b);
    for (int r = 0; r < repeats; r++) {
      double[] v = b.clone();
      for (int j = 0; j < depth; j++) {
        LinearOperator h = minibatchCurvature.apply(Seeds.derive(seed, "lissa", (long) r * depth + j));
        h.apply(v, hv);
        double norm = 0;
        for (int k = 0; k < n; k++) {
          v[k] = b[k] + v[k] - (hv[k] + damping * v[k]) / scale;
          norm += v[k] * v[k];
        }
        if (!Double.isFinite(norm) || Math.sqrt(norm) > 1e12 * Math.max(bNorm, Double.MIN_NORMAL) * scale) {
          throw new Diverged("LiSSA diverged at step " + j + " of repeat " + r + ": scale " + scale
              + " must exceed the largest eigenvalue of the damped minibatch curvature");
        }
      }
      for (int k = 0; k < n; k++) {
        mean[k] += v[k] / scale / repeats;
      }
    }
    return mean;
  }

  /**
   * The solve as linear influence and Newton removal run it: {@code scale} 0 picks {@link #automaticScale} from
   * {@code minibatchBound} (evaluated only then), and {@code diag} receives minibatchEigenvalueBound (when
   * automatic), lissaScale and relResidual (|b - damped x| / |b|).
   *
   * @param damped the damped operator the estimate is checked against (for the residual)
   */
  public static double[] solve(LinearOperator damped, LongFunction<LinearOperator> minibatchCurvature,
      DoubleSupplier minibatchBound, double[] b, double damping, double scale, int depth,
      int repeats, long seed, Map<String, Object> diag) {
    if (scale == 0) {
      double bound = minibatchBound.getAsDouble();
      scale = automaticScale(bound, damping);
      diag.put("minibatchEigenvalueBound", bound);
    }
    diag.put("lissaScale", scale);
    double[] x = solve(minibatchCurvature, b, damping, scale, depth, repeats, seed);
    diag.put("relResidual", ConjugateGradient.relativeResidual(damped, x, b));
    return x;
  }

  /**
   * The automatic scale: {@code minibatchBound + damping}, where {@code minibatchBound} bounds the largest
   * eigenvalue of EVERY undamped minibatch curvature H_j the recursion may draw (for the empirical Fisher,
   * {@link EmpiricalFisherOperator#largestSquaredGradientNorm}; for a fixed diagonal, its largest entry). With it
   * each factor I - (H_j + damping I) / scale has eigenvalues in [0, 1 - damping / scale], so no minibatch can make
   * the recursion diverge. An estimate of the mean curvature's top eigenvalue does not bound single minibatches, and a
   * minibatch above it can make the recursion diverge.
   *
   * @throws IllegalArgumentException if the bound is negative or not finite, or bound and damping are both 0 (the
   *     system is singular and there is nothing to scale)
   */
  public static double automaticScale(double minibatchBound, double damping) {
    if (!(minibatchBound >= 0) || Double.isInfinite(minibatchBound) || !(damping >= 0)) {
      throw new IllegalArgumentException("LiSSA scale bound must be finite and >= 0 and damping >= 0; got "
          + minibatchBound + ", " + damping);
    }
    double scale = minibatchBound + damping;
    if (scale == 0) {
      throw new IllegalArgumentException("LiSSA: the curvature is zero (every gradient vanishes) and the damping"
          + " is 0, so the system is singular");
    }
    return scale;
  }
}
