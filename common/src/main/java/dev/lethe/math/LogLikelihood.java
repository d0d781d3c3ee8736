package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.cnn.FastCnn;
import java.util.List;
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
 * inference mode (no dropout). Double-precision convolutional networks take {@link FastCnn}, which groups rows
 * in its own fixed-size GEMMs (so there {@code batchSize} does not change the values either); other networks take
 * DL4J's forward pass.
 */
public final class LogLikelihood {
  private LogLikelihood() {}

  /** log p(y_i | x_i) for every row of {@code s}, in row order. */
  public static double[] perExample(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    java.util.Optional<FastCnn> fast = FastCnn.of(net);
    if (fast.isPresent()) {
      return perExample(fast.get(), s);
    }
    int n = s.size();
    double[] out = new double[n];
    int[] labels = s.labels();
    DataType type = net.params().dataType();
    for (int from = 0; from < n; from += batchSize) {
      int to = Math.min(n, from + batchSize);
      double[][] z = logits(net, Batches.features(s, from, to, batchSize, type));
      for (int i = from; i < to; i++) {
        out[i] = logSoftmax(z[i - from], labels[i]);
      }
    }
    return out;
  }

  /**
   * The mean log-likelihood of {@code s}, computed in double precision from the network's parameters whatever its
   * data type when {@link FastCnn} supports the network (float parameters are taken exactly; the result is then more
   * precise than a float forward pass, and several times faster than DL4J's), otherwise {@link #mean}. For the
   * criteria of early stopping (EWC update, training), not for scores that must match a float forward pass.
   */
  public static double meanInDouble(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    java.util.Optional<FastCnn> fast = FastCnn.forGradients(net);
    return fast.isPresent() ? meanOf(perExample(fast.get(), s)) : mean(net, s, batchSize);
  }

  /**
   * The logits of every row of {@code s}: in double precision from FastCnn when it supports the network (as
   * {@link #meanInDouble}), otherwise DL4J's forward pass in batches of {@code batchSize}. For evaluating many
   * candidate models quickly (accuracy and log-likelihood from one pass).
   */
  public static double[][] logitsInDouble(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    java.util.Optional<FastCnn> fast = FastCnn.forGradients(net);
    if (fast.isPresent()) {
      return fast.get().logits(s, 0, s.size());
    }
    double[][] z = new double[s.size()][];
    DataType type = net.params().dataType();
    for (int from = 0; from < s.size(); from += batchSize) {
      int to = Math.min(s.size(), from + batchSize);
      double[][] part = logits(net, Batches.features(s, from, to, batchSize, type));
      System.arraycopy(part, 0, z, from, to - from);
    }
    return z;
  }

  /** log p(y | x) from the logits {@code z} of x. */
  public static double logSoftmaxOf(double[] z, int y) {
    return logSoftmax(z, y);
  }

  /** log p(y_i | x_i) for every row of {@code s} from FastCnn's logits. */
  public static double[] perExample(FastCnn fast, ExampleSet s) {
    double[][] z = fast.logits(s, 0, s.size());
    int[] labels = s.labels();
    double[] out = new double[s.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = logSoftmax(z[i], labels[i]);
    }
    return out;
  }

  /** The mean of {@link #perExample} (0 rows: NaN). */
  public static double mean(MultiLayerNetwork net, ExampleSet s, int batchSize) {
    double[] v = perExample(net, s, batchSize);
    return meanOf(v);
  }

  /** The mean of an array (compensated sum; empty: NaN). */
  static double meanOf(double[] v) {
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
    int last = net.getnLayers() - 1;
    Layer out = requireSoftmaxOutput(net);
    INDArray in;
    if (last == 0) {
      in = x;
    } else {
      List<INDArray> acts = net.feedForwardToLayer(last - 1, x, false);
      in = acts.get(last);
    }
    InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(last);
    if (pre != null) {
      in = pre.preProcess(in, (int) in.size(0), LayerWorkspaceMgr.noWorkspaces());
    }
    INDArray w = out.getParam("W");
    INDArray b = out.getParam("b");
    INDArray z = in.mmul(w);
    if (b != null) {
      z.addiRowVector(b);
    }
    return z.castTo(DataType.DOUBLE).toDoubleMatrix();
  }

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
