package dev.lethe.math.cnn;

/** Where op {@code index} of a pass records its parameter gradients on the {@link GradientTape}. */
record OpGradients(GradientTape tape, int index) {
  /** Whether the pass wants one gradient per image (else one for the group). */
  boolean perExample() {
    return tape.perExample;
  }

  /** Records the op's parameter gradients: one per image, or one for the group. */
  void grads(double[][] g) {
    tape.paramGrads[index] = g;
  }
}
