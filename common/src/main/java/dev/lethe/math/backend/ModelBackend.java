package dev.lethe.math.backend;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.PerExampleGradients;
import org.deeplearning4j.nn.gradient.Gradient;

/**
 * What the identification and repair methods need from a softmax classifier, whatever computes it. Gradients are
 * with respect to the flattened parameters, in DL4J's parameter order. An instance reads the network's parameters
 * when built (the fast path copies them): after changing them, build a new one or call {@link #reloadParams()}.
 * Obtained from {@link BackendSelector#select}; never constructed by the methods themselves.
 */
public interface ModelBackend {
  /** A short name for logs and provenance: {@code dl4j} or {@code fast-cnn}. */
  String name();

  /**
   * The pre-softmax logits of every row of {@code s}, one row per example, in forward passes of {@code batchSize}
   * rows (zero-padded, so a row's values do not depend on which rows it was computed with).
   */
  double[][] logits(ExampleSet s, int batchSize);

  /**
   * The input of the softmax output layer (the penultimate-layer embedding) of every row of {@code s}, one row per
   * example, in forward passes of {@code batchSize} rows (zero-padded, as {@link #logits}): for the paper CNN the
   * globally pooled channels, for an MLP its last hidden layer, for softmax regression the features themselves.
   */
  double[][] embeddings(ExampleSet s, int batchSize);

  /** log p(y_i | x_i) of every row of {@code s}, in row order (a stable log-softmax of {@link #logits}). */
  default double[] logLikelihoods(ExampleSet s, int batchSize) {
    return LogLikelihood.ofLogits(logits(s, batchSize), s.labels());
  }

  /**
   * Whether the gradient pass computes log p(y_i | x_i) with the values {@link #logLikelihoods} gives, so that
   * {@link #forEachExampleGradient} can record them (one forward pass per row instead of two).
   */
  boolean logLikFromGradientPass();

  /**
   * Calls {@code v} with grad log p(y_i | x_i) for every row i of {@code s}, in row order (the visited array is
   * overwritten by the next row). With {@code logLik} not null (only where {@link #logLikFromGradientPass()}), writes
   * log p(y_i | x_i) into {@code logLik[i]} before row i is visited.
   */
  void forEachExampleGradient(ExampleSet s, double[] logLik, PerExampleGradients.Visitor v);

  /**
   * grad log p(y_i | x_i) . {@code direction} for every row i of {@code s} ({@code direction} in the flattened
   * parameter order), in row order, with {@code logLik} as in {@link #forEachExampleGradient}. By default each
   * gradient of {@link #forEachExampleGradient} dotted with the direction (a sum in parameter order); a backend may
   * compute the products without forming the gradients.
   */
  default double[] exampleGradientDots(ExampleSet s, double[] direction, double[] logLik) {
    double[] dots = new double[s.size()];
    forEachExampleGradient(s, logLik, (row, g) -> {
      double[] v = g.toDoubleVector();
      if (v.length != direction.length) {
        throw new IllegalArgumentException("the direction has " + direction.length + " entries for "
            + v.length + " parameters");
      }
      double d = 0;
      for (int j = 0; j < v.length; j++) {
        d += direction[j] * v[j];
      }
      dots[row] = d;
    });
    return dots;
  }

  /**
   * ||grad log p(y_i | x_i)||^2 for every row i of {@code s}, in row order, with {@code logLik} as in
   * {@link #forEachExampleGradient}. By default from {@link #forEachExampleGradient}; a backend may sum the squares
   * where it computes the gradient.
   */
  default double[] exampleGradientSquaredNorms(ExampleSet s, double[] logLik) {
    double[] norms = new double[s.size()];
    forEachExampleGradient(s, logLik, (row, g) -> {
      double sum = 0;
      for (double x : g.toDoubleVector()) {
        sum += x * x;
      }
      norms[row] = sum;
    });
    return norms;
  }

  /**
   * sum_i grad log p(y_i | x_i) over the rows of {@code s}, in double precision where the backend computes in double
   * (before any rounding to the network's type): the fast path in one batched backward pass, DL4J in backward passes
   * of {@code chunk} rows, summed with compensation.
   */
  double[] gradLogLikSum(ExampleSet s, int chunk);

  /**
   * The gradient of {@code sum_i -log p(y_i | x_i)} over the rows of {@code batch}, written into the network's
   * flattened gradient view (no regularisation terms), for an optimiser step: {@code gradient()} of the result is
   * that view. {@link #lastLoss()} then holds the summed loss.
   */
  Gradient writeLossGradient(ExampleSet batch);

  /** The summed loss of the last {@link #writeLossGradient} call (NaN before). */
  double lastLoss();

  /**
   * One training step on {@code batch} as {@code net.fit(DataSet)} takes it (the updater on the mean loss's gradient,
   * parameters minus the update, iteration count plus one).
   *
   * @return the mean loss over the batch before the step (what {@code net.score()} reports after a fit)
   */
  double fitStep(ExampleSet batch);

  /**
   * The mean training loss of {@code s}, for a training run's early stopping: {@code -mean log p} in double
   * precision on the fast path, DL4J's score (with its regularisation terms and probabilities clipped at 1e-10)
   * otherwise.
   */
  double meanLoss(ExampleSet s);

  /** Rereads the network's current parameters (after an optimiser step changed them). */
  void reloadParams();
}
