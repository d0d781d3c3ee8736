package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.Purpose;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Exact per-example log-likelihoods log p(y_i | x_i, theta) of a softmax classifier: the quantity whose change
 * between theta_hat and theta* is the EWC-influence score (Tanno et al. 2022, Eq. 10 and Section 4).
 *
 * <p>Values come from the output layer's pre-softmax logits and a stable log-softmax in double precision
 * ({@code z_y - max z - log sum exp(z - max z)}), not from the MCXENT score, which clips probabilities at 1e-10
 * (log p floored near -23). Every forward pass has exactly {@code batchSize} rows (the last batch is
 * zero-padded): matrix kernels may take different code paths for different row counts, so a fixed shape makes a
 * row's value independent of how the rows were split into batches or Spark partitions. The forward pass runs in
 * inference mode (no dropout). The backend is the one {@link BackendSelector} chooses (the CNN fast path groups rows
 * in its own fixed-size GEMMs, so there {@code batchSize} does not change the values either).
 */
public final class LogLikelihood {
  private LogLikelihood() {}

  /**
   * log p(y_i | x_i) for every row of {@code s}, in row order, as the network's own arithmetic gives them
   * ({@link Purpose#SCORES}).
   */
  public static double[] perExample(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    requireSoftmaxOutput(net);
    return BackendSelector.current().select(net, Purpose.SCORES).logLikelihoods(s, batchSize);
  }

  /**
   * The mean log-likelihood of {@code s} in double precision from the network's parameters where the backend can
   * ({@link Purpose#DOUBLE}: the fast path takes float parameters exactly; DL4J computes in the network's type). For
   * the criteria of early stopping (EWC update, training), not for scores that must match a float forward pass.
   */
  public static double meanInDouble(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    requireSoftmaxOutput(net);
    return meanOf(BackendSelector.current().select(net, Purpose.DOUBLE).logLikelihoods(s, batchSize));
  }

  /**
   * The logits of every row of {@code s}, in double precision where the backend can (as {@link #meanInDouble}),
   * in forward passes of {@code batchSize} rows. For evaluating many candidate models quickly (accuracy and
   * log-likelihood from one pass).
   */
  public static double[][] logitsInDouble(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    requireSoftmaxOutput(net);
    return BackendSelector.current().select(net, Purpose.DOUBLE).logits(s, batchSize);
  }

  /** log p(y_i | x_i) of every row from its logits {@code z[i]} and label {@code labels[i]}. */
  public static double[] ofLogits(double[][] z, int[] labels) {
    double[] out = new double[z.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = logSoftmax(z[i], labels[i]);
    }
    return out;
  }

  /** log p(y | x) from the logits {@code z} of x. */
  public static double logSoftmaxOf(double[] z, int y) {
    return logSoftmax(z, y);
  }

  /** The mean of {@link #perExample} (0 rows: NaN). */
  public static double mean(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    double[] v = perExample(net, s, batchSize);
    return meanOf(v);
  }

  /** The mean of an array (compensated sum; empty: NaN). */
  public static double meanOf(double[] v) {
    if (v.length == 0) {
      return Double.NaN;
    }
    double sum = 0;
    double c = 0;
    for (double x : v) {
      double t = sum + x;
      c += Math.abs(sum) >= Math.abs(x) ? (sum - t) + x : (x - t) + sum;
      sum = t;
    }
    return (sum + c) / v.length;
  }

  /** log softmax(z)[y], computed stably. */
  public static double logSoftmax(double[] z, int y) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (double v : z) {
      sum += Math.exp(v - max);
    }
    return z[y] - max - Math.log(sum);
  }

  /**
   * The output layer's pre-activation (logits) for input {@code x}, as double rows.
   *
   * @throws IllegalArgumentException if the last layer is not a softmax output layer
   */
  public static double[][] logits(MultiLayerNetwork net, INDArray x) {
    Layer out = requireSoftmaxOutput(net);
    INDArray in = outputLayerInput(net, x);
    INDArray w = out.getParam("W");
    INDArray b = out.getParam("b");
    INDArray z = in.mmul(w);
    if (b != null) {
      z.addiRowVector(b);
    }
    return z.castTo(DataType.DOUBLE).toDoubleMatrix();
  }

  /**
   * What the output layer reads for input {@code x} (inference mode): the activations of the layer before it, after
   * the output layer's input preprocessor; the penultimate-layer embedding of the rows.
   */
  public static INDArray outputLayerInput(MultiLayerNetwork net, INDArray x) {
    int last = net.getnLayers() - 1;
    INDArray in = last == 0 ? x : net.feedForwardToLayer(last - 1, x, false).get(last);
    InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(last);
    return pre == null ? in : pre.preProcess(in, (int) in.size(0), LayerWorkspaceMgr.noWorkspaces());
  }

  /** The number of classes: the output layer's size. */
  public static int numClasses(MultiLayerNetwork net) {
    org.deeplearning4j.nn.conf.layers.Layer l = net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1)
        .getLayer();
    return (int) ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) l).getNOut();
  }

  /**
   * The network's output layer, checked to be a softmax output layer with MCXENT loss and a weight matrix.
   *
   * @throws IllegalArgumentException naming what the last layer is
   */
  public static Layer requireSoftmaxOutput(MultiLayerNetwork net) {
    Layer out = net.getLayer(net.getnLayers() - 1);
    org.deeplearning4j.nn.conf.layers.Layer conf = out.conf().getLayer();
    if (!(conf instanceof BaseOutputLayer ol) || !(ol.getActivationFn() instanceof ActivationSoftmax)
        || !(ol.getLossFn() instanceof LossMCXENT)) {
      throw new IllegalArgumentException("the last layer must be an output layer with softmax activation and"
          + " MCXENT loss, got " + conf.getClass().getSimpleName());
    }
    if (out.getParam("W") == null) {
      throw new IllegalArgumentException("the output layer has no weight parameter 'W'");
    }
    return out;
  }
}
