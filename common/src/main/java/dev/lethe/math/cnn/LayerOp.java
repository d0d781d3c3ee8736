package dev.lethe.math.cnn;

/**
 * One layer (or a fused pair) of the fast path, on a channel-major group of {@code g} images: its forward pass, its
 * backward pass, and the DL4J layer whose parameters it holds.
 */
interface LayerOp {
  /** The output for a group of {@code g} images; {@code tape} is null when no backward pass follows. */
  double[] forward(double[] in, int g, Workspace ws, OpGradients tape);

  /**
   * The gradient with respect to this op's input, given the gradient {@code dOut} with respect to its output
   * (null when {@code needInput} is false); parameter gradients go to {@code tape}.
   */
  double[] backward(double[] dOut, int g, Workspace ws, OpGradients tape, double[] in, double[] out,
      boolean needInput);

  /** The DL4J layer index whose parameters this op holds (-1: none). */
  default int layer() {
    return -1;
  }

  /** Replaces this op's parameters with {@code wb} (as at construction: W in DL4J's c-order shape, then b). */
  default void load(double[] wb) {
    throw new IllegalStateException(getClass().getSimpleName() + " has no parameters");
  }
}
