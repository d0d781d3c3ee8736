package dev.lethe.math.cnn;

/** What the backward pass needs from the forward pass, per op, and the parameter gradients it produces. */
final class GradientTape {
  final boolean perExample;
  /** The direction each image's gradient is dotted with instead of being recorded (null: gradients recorded). */
  final Projection projection;
  /** With a projection: per image, its loss gradient dotted with the projection's direction. */
  final double[] dots;
  final double[][] inputs;
  final double[][] outputs;
  /** Per op: one gradient ({@code W} in DL4J's c order, then {@code b}) per image, or one for the group. */
  final double[][][] paramGrads;
  /** sum over the group's rows of -log p(y | x). */
  double loss;
  /** log p(y | x) of each of the group's rows (per-example and projection passes only). */
  final double[] logLik;

  GradientTape(int n, boolean perExample, int group) {
    this(n, perExample, null, group);
  }

  /** A tape for a pass that dots each image's loss gradient with {@code projection}'s direction. */
  GradientTape(int n, Projection projection, int group) {
    this(n, false, projection, group);
  }

  private GradientTape(int n, boolean perExample, Projection projection, int group) {
    this.perExample = perExample;
    this.projection = projection;
    this.dots = projection != null ? new double[group] : null;
    this.logLik = perExample || projection != null ? new double[group] : null;
    inputs = new double[n][];
    outputs = new double[n][];
    paramGrads = new double[n][][];
  }

  OpGradients at(int i) {
    return new OpGradients(this, i);
  }
}
