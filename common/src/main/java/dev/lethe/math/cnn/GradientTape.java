package dev.lethe.math.cnn;

/** What the backward pass needs from the forward pass, per op, and the parameter gradients it produces. */
final class GradientTape {
  final boolean perExample;
  final double[][] inputs;
  final double[][] outputs;
  /** Per op: one gradient ({@code W} in DL4J's c order, then {@code b}) per image, or one for the group. */
  final double[][][] paramGrads;
  /** sum over the group's rows of -log p(y | x). */
  double loss;
  /** log p(y | x) of each of the group's rows (per-example passes only). */
  final double[] logLik;

  GradientTape(int n, boolean perExample, int group) {
    this.perExample = perExample;
    this.logLik = perExample ? new double[group] : null;
    inputs = new double[n][];
    outputs = new double[n][];
    paramGrads = new double[n][][];
  }

  OpGradients at(int i) {
    return new OpGradients(this, i);
  }
}
