package dev.lethe.math;

/** x -> (diag + damping) .* x: the diagonal-Fisher curvature of Tanno et al. 2022, Eq. 9 with damping. */
public final class DiagonalOperator implements LinearOperator {
  private final double[] diag;
  private final double damping;

  /** The array is shared, not copied. */
  public DiagonalOperator(double[] diag, double damping) {
    if (!(damping >= 0) || Double.isInfinite(damping)) {
      throw new IllegalArgumentException("damping must be finite and >= 0, got " + damping);
    }
    this.diag = diag;
    this.damping = damping;
  }

  @Override
  public long size() {
    return diag.length;
  }

  @Override
  public void apply(double[] x, double[] out) {
    for (int j = 0; j < diag.length; j++) {
      out[j] = (diag[j] + damping) * x[j];
    }
  }

  /** The largest undamped diagonal entry: the largest eigenvalue of the operator without its damping. */
  public double largestUndampedEntry() {
    double max = 0;
    for (double d : diag) {
      max = Math.max(max, d);
    }
    return max;
  }

  /** The diagonal of the operator (diag + damping), for Jacobi preconditioning. */
  public double[] diagonal() {
    double[] d = new double[diag.length];
    for (int j = 0; j < d.length; j++) {
      d[j] = diag[j] + damping;
    }
    return d;
  }
}
