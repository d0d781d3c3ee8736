package dev.lethe.math;

/** A symmetric linear map x -> A x on R^size, given only by its action (matrix-free). */
public interface LinearOperator {
  /** The dimension. */
  long size();

  /** Writes A x into {@code out} (same length as {@code x}; {@code out} is overwritten, never aliased to x). */
  void apply(double[] x, double[] out);
}
