package dev.lethe.math;

/**
 * Limited-memory BFGS (Nocedal and Wright 2006, Numerical Optimization, 2nd ed., Algorithm 7.4 for the two-loop
 * recursion and Algorithm 7.5 for the method) for a smooth function, with a backtracking line search on the Armijo
 * condition (ibid., Algorithm 3.1, c1 = 1e-4). The line search suits strictly convex functions, the use here: for
 * them every step has s^T y > 0 (ibid., Eq. 6.7), so each accepted step yields a curvature pair.
 *
 * <p>An instance keeps its last {@code memory} curvature pairs between calls of {@link #minimise}: minimising a
 * sequence of similar functions (the same loss on a growing set of rows) starts each one with the inverse-Hessian
 * approximation of the last. Any positive definite approximation gives descent directions, so this changes the path,
 * never the stopping rule. Not thread-safe.
 */
public final class Lbfgs {
  /** A function with its gradient. */
  @FunctionalInterface
  public interface Function {
    /** f(x), with its gradient written into {@code gradient}. */
    double valueAndGradient(double[] x, double[] gradient);
  }

  private static final double ARMIJO = 1e-4;
  private static final double SMALLEST_STEP = 1e-20;
  /** Relative change of f below which double precision cannot show a decrease of a sum of many terms. */
  private static final double ROUNDING = 1e-12;

  private final int memory;
  private final double[][] s;
  private final double[][] y;
  private final double[] rho;
  private int pairs;
  private int newest = -1;
  private int iterations;
  private final double[] direction;
  private final double[] alpha;
  private final double[] trial;
  private final double[] trialGradient;

  /**
   * @param dimension the number of variables
   * @param memory the curvature pairs kept (>= 1; Nocedal and Wright suggest 3 to 20)
   */
  public Lbfgs(int dimension, int memory) {
    if (dimension < 1 || memory < 1) {
      throw new IllegalArgumentException("L-BFGS needs dimension >= 1 and memory >= 1, got " + dimension + ", "
          + memory);
    }
    this.memory = memory;
    s = new double[memory][dimension];
    y = new double[memory][dimension];
    rho = new double[memory];
    direction = new double[dimension];
    alpha = new double[memory];
    trial = new double[dimension];
    trialGradient = new double[dimension];
  }

  /** Forgets the curvature pairs. */
  public void reset() {
    pairs = 0;
    newest = -1;
  }

  /**
   * Minimises {@code f} from {@code x} until the gradient's Euclidean norm is at most {@code gradientTolerance}, or
   * after {@code maxIterations} iterations, or when the line search finds no acceptable step.
   *
   * @param x the start, overwritten with the last iterate
   * @param value f(x) at the start
   * @param gradient the gradient at the start, overwritten with the gradient at the last iterate
   * @return f at the last iterate; {@link #iterations()} holds the iterations run
   */
  public double minimise(Function f, double[] x, double value, double[] gradient, double gradientTolerance,
      int maxIterations) {
    int n = x.length;
    if (gradient.length != n || n != direction.length) {
      throw new IllegalArgumentException("L-BFGS of dimension " + direction.length + " given x of " + n
          + " and a gradient of " + gradient.length);
    }
    iterations = 0;
    double fx = value;
    while (iterations < maxIterations && norm(gradient) > gradientTolerance) {
      searchDirection(gradient);
      double slope = dot(direction, gradient);
      if (!(slope < 0)) {
        // not a descent direction (rounding in the approximation): restart from steepest descent
        reset();
        searchDirection(gradient);
        slope = dot(direction, gradient);
      }
      double step = pairs == 0 ? Math.min(1, 1 / norm(gradient)) : 1;
      double gradientNorm = norm(gradient);
      double fTrial;
      boolean accepted;
      while (true) {
        for (int j = 0; j < n; j++) {
          trial[j] = x[j] + step * direction[j];
        }
        fTrial = f.valueAndGradient(trial, trialGradient);
        // Armijo; or, where f's rounding hides the decrease, a step that does not raise f beyond its rounding
        // and lowers the gradient norm
        accepted = fTrial <= fx + ARMIJO * step * slope
            || fTrial <= fx + ROUNDING * Math.abs(fx) && norm(trialGradient) < gradientNorm;
        if (accepted || step < SMALLEST_STEP) {
          break;
        }
        step /= 2;
      }
      if (!accepted) {
        break;
      }
      remember(x, gradient);
      System.arraycopy(trial, 0, x, 0, n);
      System.arraycopy(trialGradient, 0, gradient, 0, n);
      fx = fTrial;
      iterations++;
    }
    return fx;
  }

  /** The iterations of the last {@link #minimise}. */
  public int iterations() {
    return iterations;
  }

  /** Stores the pair (trial - x, trialGradient - gradient) when its curvature s^T y is positive. */
  private void remember(double[] x, double[] gradient) {
    int slot = (newest + 1) % memory;
    double[] sn = s[slot];
    double[] yn = y[slot];
    double sy = 0;
    for (int j = 0; j < x.length; j++) {
      sn[j] = trial[j] - x[j];
      yn[j] = trialGradient[j] - gradient[j];
      sy += sn[j] * yn[j];
    }
    if (sy > 0) {
      rho[slot] = 1 / sy;
      newest = slot;
      pairs = Math.min(pairs + 1, memory);
    }
  }

  /** direction = -H g by the two-loop recursion, with H0 = (s^T y / y^T y) I from the newest pair. */
  private void searchDirection(double[] g) {
    int n = g.length;
    for (int j = 0; j < n; j++) {
      direction[j] = -g[j];
    }
    for (int b = 0; b < pairs; b++) {
      int i = Math.floorMod(newest - b, memory);
      alpha[i] = rho[i] * dot(s[i], direction);
      axpy(-alpha[i], y[i], direction);
    }
    if (pairs > 0) {
      double[] yn = y[newest];
      double gamma = 1 / (rho[newest] * dot(yn, yn));
      for (int j = 0; j < n; j++) {
        direction[j] *= gamma;
      }
    }
    for (int b = pairs - 1; b >= 0; b--) {
      int i = Math.floorMod(newest - b, memory);
      double beta = rho[i] * dot(y[i], direction);
      axpy(alpha[i] - beta, s[i], direction);
    }
  }

  private static void axpy(double a, double[] x, double[] y) {
    for (int j = 0; j < x.length; j++) {
      y[j] += a * x[j];
    }
  }

  private static double dot(double[] a, double[] b) {
    double t = 0;
    for (int j = 0; j < a.length; j++) {
      t += a[j] * b[j];
    }
    return t;
  }

  static double norm(double[] v) {
    return Math.sqrt(dot(v, v));
  }
}
