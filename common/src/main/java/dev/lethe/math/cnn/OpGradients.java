package dev.lethe.math.cnn;

/** Where op {@code index} of a pass records its parameter gradients on the {@link GradientTape}. */
record OpGradients(GradientTape tape, int index) {
  /** Whether the pass wants one gradient per image (else one for the group). */
  boolean perExample() {
    return tape.perExample;
  }

  /** Whether the pass dots each image's gradient with a fixed direction instead of recording gradients. */
  boolean projects() {
    return tape.projection != null;
  }

  /** The direction's entries for this op's parameters (W, then b), when {@link #projects()}. */
  double[] direction() {
    return tape.projection.direction(index);
  }

  /** The direction's kernel for this op, a convolution, when {@link #projects()}. */
  org.nd4j.linalg.api.ndarray.INDArray directionKernel() {
    return tape.projection.kernel(index);
  }

  /** Adds {@code v} to image {@code image}'s gradient-direction dot product. */
  void addDot(int image, double v) {
    tape.dots[image] += v;
  }

  /** Records the op's parameter gradients: one per image, or one for the group. */
  void grads(double[][] g) {
    tape.paramGrads[index] = g;
  }
}
