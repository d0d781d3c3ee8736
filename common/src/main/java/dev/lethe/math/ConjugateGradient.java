package dev.lethe.math;

/**
 * (Preconditioned) conjugate gradients for A x = b with A symmetric positive definite, e.g. the damped Fisher of
 * the linear influence (Tanno et al. 2022, Eq. 9): s = (F + damping I)^-1 grad log p(Fq | theta_hat).
 */
public final class ConjugateGradient {
  private ConjugateGradient() {}

  /**
   * @param x the solution
   * @param iterations the number of operator applications used
   * @param relResidual ||b - A x|| / ||b|| of the returned x (0 when b = 0)
   */
  public record Result(double[] x, int iterations, double relResidual) {}

  /** Unpreconditioned CG from x = 0; stops when ||b - A x|| <= relTol ||b|| or after maxIter iterations. */
  public static Result solve(LinearOperator a, double[] b, int maxIter, double relTol) {
    return solve(a, b, maxIter, relTol, null);
  }

  /**
   * CG from x = 0 with an optional Jacobi (diagonal) preconditioner.
   *
   * @param jacobiDiagonal the diagonal of A (all entries > 0), or null for no preconditioning
   */
  public static Result solve(LinearOperator a, double[] b, int maxIter, double relTol, double[] jacobiDiagonal) {
    int n = b.length;
    if (a.size() != n) {
      throw new IllegalArgumentException("operator of size " + a.size() + " with a right-hand side of " + n);
    }
    if (maxIter < 0 || !(relTol >= 0)) {
      throw new IllegalArgumentException("need maxIter >= 0 and relTol >= 0, got " + maxIter + ", " + relTol);
    }
    double[] x = new double[n];
    double bNorm = norm(b);
    if (bNorm == 0) {
      return new Result(x, 0, 0.0);
    }
    double[] r = b.clone();
    double[] z = precondition(r, jacobiDiagonal);
    double[] d = z.clone();
    double[] ad = new double[n];
    double rz = dot(r, z);
    double rNorm = bNorm;
    int it = 0;
    while (it < maxIter && rNorm > relTol * bNorm) {
      a.apply(d, ad);
      double dad = dot(d, ad);
      if (!(dad > 0)) {
        throw new IllegalStateException("conjugate gradients: operator is not positive definite (d^T A d = "
            + dad + " at iteration " + it + ")");
      }
      double alpha = rz / dad;
      for (int j = 0; j < n; j++) {
        x[j] += alpha * d[j];
        r[j] -= alpha * ad[j];
      }
      it++;
      rNorm = norm(r);
      z = precondition(r, jacobiDiagonal);
      double rzNew = dot(r, z);
      double beta = rzNew / rz;
      rz = rzNew;
      for (int j = 0; j < n; j++) {
        d[j] = z[j] + beta * d[j];
      }
    }
    // report the true residual, not the recursively updated one
    return new Result(x, it, relativeResidual(a, x, b));
  }

  /** ||b - A x|| / ||b|| (b = 0: ||A x|| over the smallest normal double), computed anew from {@code x}. */
  public static double relativeResidual(LinearOperator a, double[] x, double[] b) {
    double[] ax = new double[x.length];
    a.apply(x, ax);
    double res = 0;
    for (int j = 0; j < x.length; j++) {
      res += (b[j] - ax[j]) * (b[j] - ax[j]);
    }
    return Math.sqrt(res) / Math.max(norm(b), Double.MIN_NORMAL);
  }

  private static double[] precondition(double[] r, double[] diag) {
    if (diag == null) {
      return r.clone();
    }
    double[] z = new double[r.length];
    for (int j = 0; j < r.length; j++) {
      z[j] = r[j] / diag[j];
    }
    return z;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int j = 0; j < a.length; j++) {
      s += a[j] * b[j];
    }
    return s;
  }

  /** The Euclidean norm. */
  public static double norm(double[] a) {
    return Math.sqrt(dot(a, a));
  }
}
