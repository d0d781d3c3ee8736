package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.ModelBackend;
import dev.lethe.math.backend.Purpose;
import dev.lethe.math.cnn.FastCnn;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gradients of log p(y | x, theta) with respect to the flattened parameters (same order as {@code net.params()}):
 * the g_i of the empirical Fisher F = (1/N) sum g_i g_i^T (Tanno et al. 2022, Eq. 10) and of the linear
 * influence (Eq. 9).
 *
 * <p>The gradients come from the backend {@link BackendSelector} chooses ({@link ModelBackend#forEachExampleGradient}):
 * the CNN fast path's per-example backward pass (double precision, groups of rows) for the networks it supports, one
 * DL4J backward pass per row (batch size 1) for the others. DL4J's raw gradient is the gradient of the summed loss
 * -log p over the minibatch (the updater divides by the batch size, and applies L1/L2, later), so
 * grad log p = -raw gradient.
 * Backward passes run in training mode; networks with dropout or batch normalisation (whose training-mode
 * gradient is not that of the inference-mode model) are rejected. Parameters are never changed; the network's
 * input and labels are restored afterwards.
 */
public final class PerExampleGradients {
  private static final Logger LOG = LoggerFactory.getLogger(PerExampleGradients.class);

  private PerExampleGradients() {}

  /** Receives one gradient per row. */
  @FunctionalInterface
  public interface Visitor {
    /**
     * @param row the row of the example set
     * @param gradLogLik grad log p(y_row | x_row, theta), shape [1, numParams], in the network's data type. It is a
     *     view of the network's gradient buffer and is overwritten by the next row: consume it immediately (or
     *     {@code dup()} it); never keep a reference
     */
    void accept(int row, INDArray gradLogLik);
  }

  /** Calls {@code v} with grad log p(y_i | x_i) for every row i of {@code s}, in row order. */
  public static void forEach(MultiLayerNetwork net, ExampleSet s, Visitor v) {
    visit(net, s, null, v);
  }

  /**
   * {@link #forEach(MultiLayerNetwork, ExampleSet, Visitor)}, with FastCnn's double log p(y_i | x_i) written into
   * {@code logLik} (when not null) where FastCnn runs the network; returns whether it did.
   */
  private static boolean visit(MultiLayerNetwork net, ExampleSet s, double[] logLik, Visitor v) {
    requireInferenceEquivalent(net);
    LogLikelihood.requireSoftmaxOutput(net);
    ModelBackend backend = BackendSelector.current().select(net, Purpose.DOUBLE);
    boolean records = logLik != null && backend.logLikFromGradientPass();
    backend.forEachExampleGradient(s, records ? logLik : null, v);
    return records;
  }

  /**
   * As {@link #forEach(MultiLayerNetwork, ExampleSet, Visitor)}, and writes log p(y_i | x_i) into {@code logLik[i]}
   * (of length {@code s.size()}) before row i's gradient is visited, with the values of
   * {@link LogLikelihood#perExample(MultiLayerNetwork, ExampleSet, int)}: from the gradient's own forward pass where
   * the backend that scores the network computes them there (one forward pass per row instead of two, see
   * {@link FastCnn#forEachExampleGradient(ExampleSet, double[], Visitor)}); otherwise from a separate
   * {@code LogLikelihood.perExample} over {@code s} with {@code batchSize}.
   */
  public static void forEach(MultiLayerNetwork net, ExampleSet s, double[] logLik, int batchSize, Visitor v) {
    requireOnePerRow(logLik, s);
    requireInferenceEquivalent(net);
    LogLikelihood.requireSoftmaxOutput(net);
    // the backend that scores the network: where its gradient pass has the same logits, one pass gives both
    ModelBackend backend = BackendSelector.current().select(net, Purpose.SCORES);
    if (backend.logLikFromGradientPass()) {
      backend.forEachExampleGradient(s, logLik, v);
      return;
    }
    System.arraycopy(backend.logLikelihoods(s, batchSize), 0, logLik, 0, logLik.length);
    forEach(net, s, v);
  }

  /**
   * grad log p(y_i | x_i) . {@code direction} for every row i of {@code s} ({@code direction} in the order of
   * {@code net.params()}): the products of {@link #forEach(MultiLayerNetwork, ExampleSet, Visitor)}'s gradients with
   * the direction, to rounding, from the backend's {@link ModelBackend#exampleGradientDots} (the CNN fast path
   * computes them without forming the gradients, at the cost of about three forward passes).
   */
  public static double[] dots(MultiLayerNetwork net, ExampleSet s, double[] direction) {
    return perRow(net, s, null, 0, (backend, logLik) -> backend.exampleGradientDots(s, direction, logLik));
  }

  /**
   * As {@link #dots(MultiLayerNetwork, ExampleSet, double[])}, and writes log p(y_i | x_i) into {@code logLik} as
   * {@link #forEach(MultiLayerNetwork, ExampleSet, double[], int, Visitor)} does: from the same pass where the
   * backend that scores the network computes it there, otherwise from a separate scoring pass of {@code batchSize}.
   */
  public static double[] dots(MultiLayerNetwork net, ExampleSet s, double[] direction, double[] logLik,
      int batchSize) {
    requireOnePerRow(logLik, s);
    return perRow(net, s, logLik, batchSize, (backend, l) -> backend.exampleGradientDots(s, direction, l));
  }

  /**
   * ||grad log p(y_i | x_i)||^2 for every row i of {@code s}, from the backend's
   * {@link ModelBackend#exampleGradientSquaredNorms}, with {@code logLik} (when not null) written as
   * {@link #dots(MultiLayerNetwork, ExampleSet, double[], double[], int)} writes it.
   */
  public static double[] squaredNorms(MultiLayerNetwork net, ExampleSet s, double[] logLik, int batchSize) {
    return perRow(net, s, logLik, batchSize, (backend, l) -> backend.exampleGradientSquaredNorms(s, l));
  }

  /**
   * One value per row of {@code s} from {@code pass} (given the backend and where to write log p(y_i | x_i), or
   * null), with {@code logLik} (when not null) filled as {@link #forEach(MultiLayerNetwork, ExampleSet, double[],
   * int, Visitor)} fills it.
   */
  private static double[] perRow(MultiLayerNetwork net, ExampleSet s, double[] logLik, int batchSize,
      java.util.function.BiFunction<ModelBackend, double[], double[]> pass) {
    requireInferenceEquivalent(net);
    LogLikelihood.requireSoftmaxOutput(net);
    if (logLik != null) {
      requireOnePerRow(logLik, s);
      // the backend that scores the network: where its gradient pass has the same logits, one pass gives both
      ModelBackend backend = BackendSelector.current().select(net, Purpose.SCORES);
      if (backend.logLikFromGradientPass()) {
        return pass.apply(backend, logLik);
      }
      System.arraycopy(backend.logLikelihoods(s, batchSize), 0, logLik, 0, logLik.length);
    }
    return pass.apply(BackendSelector.current().select(net, Purpose.DOUBLE), null);
  }

  /**
   * As {@link #forEach(MultiLayerNetwork, ExampleSet, Visitor)} (the same gradients), and, when {@link FastCnn}
   * supports {@code net}, writes log p(y_i | x_i) in double precision from the network's parameters into
   * {@code logLik[i]}, from the gradient's own forward pass or FastCnn's scoring pass (as
   * {@link #forEach(MultiLayerNetwork, ExampleSet, double[], int, Visitor)}): the values
   * {@link LogLikelihood#perExample} gives for a double-precision copy of {@code net}, whatever its data type (float
   * parameters are taken exactly). Returns false, and leaves {@code logLik} untouched, for networks FastCnn does not
   * support (their DL4J forward pass depends on the batch shape, so values computed here need not match a later
   * scoring pass).
   */
  public static boolean forEachWithDoubleLogLik(MultiLayerNetwork net, ExampleSet s, double[] logLik, Visitor v) {
    requireOnePerRow(logLik, s);
    return visit(net, s, logLik, v);
  }

  /** Rejects a log-likelihood array that does not have one entry per row of {@code s}. */
  public static void requireOnePerRow(double[] logLik, ExampleSet s) {
    if (logLik.length != s.size()) {
      throw new IllegalArgumentException("logLik has length " + logLik.length + " for " + s.size() + " rows");
    }
  }

  /**
   * sum_i grad log p(y_i | x_i) over {@code s}, in double precision, shape [1, numParams]. Computed with batched
   * backward passes, as {@link #sumArray} (the raw minibatch gradient is the sum of the per-example gradients; the
   * test suite checks this against {@link #forEach}).
   */
  public static INDArray sum(MultiLayerNetwork net, ExampleSet s) {
    return Nd4j.createFromArray(sumArray(net, s, 256)).reshape(1, net.numParams());
  }

  /**
   * As {@link #sum} as a plain array, with DL4J's backward passes over {@code chunk} rows at a time (compensated
   * sum); where the selector picks the CNN fast path, its batched backward pass in double precision over all rows
   * (groups of {@value FastCnn#GROUP} summed in order; {@code chunk} does not apply).
   */
  public static double[] sumArray(MultiLayerNetwork net, ExampleSet s, int chunk) {
    requireInferenceEquivalent(net);
    LogLikelihood.requireSoftmaxOutput(net);
    return BackendSelector.current().select(net, Purpose.DOUBLE).gradLogLikSum(s, chunk);
  }

  /**
   * Rejects networks whose training-mode backward pass differs from the inference-mode model: any layer with
   * dropout, or batch normalisation (which uses batch statistics in training mode).
   *
   * @throws IllegalArgumentException naming the offending layer
   */
  public static void requireInferenceEquivalent(MultiLayerNetwork net) {
    for (int i = 0; i < net.getnLayers(); i++) {
      org.deeplearning4j.nn.conf.layers.Layer l = net.getLayerWiseConfigurations().getConf(i).getLayer();
      if (l.getIDropout() != null) {
        throw new IllegalArgumentException("layer " + i + " (" + l.getClass().getSimpleName() + ") has dropout;"
            + " per-example gradients need an inference-equivalent network: remove dropout first");
      }
      if (l instanceof BatchNormalization) {
        throw new IllegalArgumentException("layer " + i + " is batch normalisation, whose training-mode gradient"
            + " differs from the inference-mode model; per-example gradients are not supported for it");
      }
    }
  }

  /** INFO progress (done/total, rate, ETA) about every 10% for loops of at least 10,000 rows. */
  public static final class Progress {
    private final String what;
    private final int total;
    private final long t0 = System.nanoTime();
    private final int every;

    public Progress(String what, int total) {
      this.what = what;
      this.total = total;
      this.every = total >= 10_000 ? Math.max(1, total / 10) : Integer.MAX_VALUE;
    }

    public void done(int n) {
      if (n % every == 0) {
        double secs = (System.nanoTime() - t0) / 1e9;
        double rate = n / Math.max(secs, 1e-9);
        LOG.info("{}: {}/{} rows, {} rows/s, ETA {} s", what, n, total, String.format("%.1f", rate),
            String.format("%.0f", (total - n) / rate));
      }
    }
  }
}
