package dev.lethe.math.cnn;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.PerExampleGradients;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The CNN fast path's entry point: the forward pass (logits) and the loss gradient of a convolutional softmax
 * classifier, computed without DL4J's layer code. These are the hot paths of identify (the forward passes over every
 * training example for EWC-influence scores, and the minibatch gradients of the EWC update that finds theta*) and of
 * training.
 *
 * <p>DL4J 1.0.0-M2.1's built-in convolution (no oneDNN helper on the default CPU build) writes its im2col matrix
 * into a permuted view and multiplies through {@code INDArray.mmul}, which for these shapes is far below the rate of
 * BLAS {@code gemm} into a preallocated f-order result. Here a fixed group of {@value #GROUP} images is kept
 * channel-major ({@code [c][image][y][x]}) in a Java array ({@link NetworkPlan}); each convolution ({@link ConvOp})
 * writes its im2col matrix in column-major order straight into a preallocated native matrix and multiplies it with
 * the kernel by one {@code Nd4j.gemm}, whose f-order result is again channel-major; bias, activation and pooling
 * ({@link PoolOp}, {@link GlobalPoolOp}, {@link DenseOp}) are plain loops over contiguous planes, a channel at a time
 * while it is in cache (a convolution followed by 2x2 max pooling is one fused op, {@link ConvPoolOp}). Every GEMM has
 * the same shape whatever the number of rows scored (the last group is zero-padded), so a row's logits do not depend
 * on which other rows it was scored with.
 *
 * <p>Groups run on {@link #defaultThreads()} threads ({@link GroupRunner}), each GEMM on one BLAS thread: on the
 * driver (EWC update, training, curvature samples) both cores work on groups, in Spark tasks (limited to one ND4J
 * thread each) the groups run on the task's thread. Groups are fixed and combined in order, so results do not depend
 * on the thread count. Large per-group arrays come from pooled workspaces ({@link Workspace}) rather than from the
 * heap. Parameters are read with one cast of the flattened vector ({@link ParameterLayout}).
 *
 * <p>The backward pass runs the same GEMMs transposed (kernel gradient {@code col^T dZ}, input gradient
 * {@code dZ W^T} scattered by col2im) in double precision, whatever the network's type (except for
 * {@link #forFloatGradients}: single-precision GEMMs for a float network's optimiser steps), and writes the result
 * into the network's flattened gradient view, where DL4J's updater takes it as from {@code computeGradientAndScore}.
 *
 * <p>Supported networks (anything else makes {@link #of} return empty, and callers use DL4J's forward pass): a
 * {@code FeedForwardToCnnPreProcessor} on the first layer and no other preprocessor; 2D convolutions (NCHW, stride 1,
 * dilation 1, {@code Same} or explicit padding, bias, ReLU or identity); max or average subsampling without padding
 * in {@code Truncate} mode; global average or max pooling; dense layers with ReLU or identity; a softmax output layer.
 * The paper CNN is of this form. Logits and gradients match DL4J's to rounding (tested at 1e-10 and 1e-9).
 */
public final class FastCnn {
  /** Images per GEMM when scoring: large enough for BLAS efficiency, small enough to stay in cache. */
  public static final int GROUP = 16;

  private final MultiLayerNetwork net;
  private final NetworkPlan plan;
  private final List<LayerOp> ops;
  private final int numClasses;
  /** Per op: the flattened-parameter index of each entry of its gradient (null: no parameters). */
  private final int[][] maps;
  private double lastLoss = Double.NaN;
  /** Threads for groups of images; 0 = {@link #defaultThreads()}. */
  private int threads;

  private FastCnn(MultiLayerNetwork net, NetworkPlan plan) {
    this.net = net;
    this.plan = plan;
    this.ops = plan.ops();
    this.numClasses = plan.numClasses();
    this.maps = new int[ops.size()][];
    for (int i = 0; i < ops.size(); i++) {
      if (ops.get(i).layer() >= 0) {
        maps[i] = ParameterLayout.layerMap(net, ops.get(i).layer()).orElseThrow();
      }
    }
  }

  /**
   * The fast forward pass of {@code net}, or empty when its parameters are not double precision (float networks
   * keep DL4J's float arithmetic when scored) or a layer is not of a supported kind (see the class comment). The
   * parameters are copied: later changes to {@code net} are not seen.
   */
  public static Optional<FastCnn> of(MultiLayerNetwork net) {
    return net.params().dataType() == DataType.DOUBLE ? build(net, DataType.DOUBLE) : Optional.empty();
  }

  /**
   * The fast forward and backward pass of {@code net} in float or double precision (computed in double), or empty
   * when a layer is not of a supported kind. The parameters are copied: build a new one after each update.
   */
  public static Optional<FastCnn> forGradients(MultiLayerNetwork net) {
    DataType t = net.params().dataType();
    return t == DataType.DOUBLE || t == DataType.FLOAT ? build(net, DataType.DOUBLE) : Optional.empty();
  }

  /**
   * For a float network, its forward and backward pass with single-precision GEMMs: the im2col matrices, kernels and
   * GEMM results are float (as in DL4J's own float arithmetic), activations, pooling and sums double; about twice
   * the GEMM rate of {@link #forGradients}, whose results it matches to float precision. Empty for other networks
   * or unsupported layers. For the many minibatch steps of an optimiser (the EWC update, {@link #fitStep}); criteria
   * that must be exact use {@link #forGradients}.
   */
  public static Optional<FastCnn> forFloatGradients(MultiLayerNetwork net) {
    return net.params().dataType() == DataType.FLOAT ? build(net, DataType.FLOAT) : Optional.empty();
  }

  private static Optional<FastCnn> build(MultiLayerNetwork net, DataType gemmType) {
    return NetworkPlan.of(net, gemmType).map(p -> new FastCnn(net, p));
  }

  /**
   * Whether {@code a} is a float or double vector whose elements lie in order in its buffer from {@code a.offset()}
   * on (element-wise stride 1), so it can be read and written through the buffer's NIO view, as the flattened
   * parameter and gradient vectors of a network are.
   */
  public static boolean isFlatVector(INDArray a) {
    return ParameterLayout.isFlatVector(a);
  }

  /**
   * Reloads the network's current parameters into this instance (its kernels, weights and biases are copies made
   * when it was built), so an optimiser can keep one instance for all its steps instead of building one after each
   * update: afterwards it computes what a newly built instance would, bit for bit, without allocating native arrays.
   */
  public void reloadParams() {
    double[] params = ParameterLayout.flatParams(net);
    for (LayerOp op : ops) {
      if (op.layer() >= 0) {
        op.load(ParameterLayout.layerParams(net, op.layer(), params).orElseThrow());
      }
    }
  }

  /** The logits of rows {@code [from, to)} of {@code s}, one row per example (im2col and BLAS GEMMs). */
  public double[][] logits(ExampleSet s, int from, int to) {
    if (from < 0 || to > s.size() || from > to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") are outside [0, " + s.size() + ")");
    }
    plan.checkFeatures(s);
    double[][] out = new double[to - from][];
    int groups = (to - from + GROUP - 1) / GROUP;
    GroupRunner.inWaves(threads(), groups, (i, ws) -> {
      int g0 = from + i * GROUP;
      int g1 = Math.min(to, g0 + GROUP);
      return plan.forward(s, g0, g1, GROUP, ws);
    }, (i, a) -> {
      int g0 = from + i * GROUP;
      for (int r = g0; r < Math.min(to, g0 + GROUP); r++) {
        out[r - from] = java.util.Arrays.copyOfRange(a, (r - g0) * numClasses, (r - g0 + 1) * numClasses);
      }
    });
    return out;
  }

  /**
   * The input of the output layer of rows {@code [from, to)} of {@code s} (their penultimate-layer embeddings: for
   * the paper CNN the globally pooled channels), one row per example, in the same fixed groups as {@link #logits}.
   */
  public double[][] embeddings(ExampleSet s, int from, int to) {
    if (from < 0 || to > s.size() || from > to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") are outside [0, " + s.size() + ")");
    }
    plan.checkFeatures(s);
    int d = plan.embeddingSize();
    double[][] out = new double[to - from][];
    int groups = (to - from + GROUP - 1) / GROUP;
    GroupRunner.inWaves(threads(), groups, (i, ws) -> {
      int g0 = from + i * GROUP;
      int g1 = Math.min(to, g0 + GROUP);
      return plan.embed(s, g0, g1, GROUP, ws);
    }, (i, a) -> {
      int g0 = from + i * GROUP;
      for (int r = g0; r < Math.min(to, g0 + GROUP); r++) {
        out[r - from] = java.util.Arrays.copyOfRange(a, (r - g0) * d, (r - g0 + 1) * d);
      }
    });
    return out;
  }

  /**
   * The gradient of {@code sum_i -log p(y_i | x_i)} over all rows of {@code batch} (one forward and backward pass,
   * in double), written into the network's flattened gradient view in DL4J's parameter layout, as
   * {@code computeGradientAndScore} would (no regularisation terms: the caller adds its own).
   *
   * @return the flattened gradient view that now holds the gradient
   */
  public INDArray writeLossGradient(ExampleSet batch) {
    return lossAndGradient(batch);
  }

  /** The summed loss {@code sum_i -log p(y_i | x_i)} of the last {@link #writeLossGradient} call (NaN before). */
  public double lastLoss() {
    return lastLoss;
  }

  private INDArray lossAndGradient(ExampleSet batch) {
    return ParameterLayout.writeGradient(net, lossGradient(batch), null);
  }

  /**
   * As {@link #writeLossGradient}, but the gradient is returned as a new array in DL4J's flattened parameter order
   * (in double, before any rounding to the network's type) and not written into the network.
   */
  public double[] lossGradient(ExampleSet batch) {
    plan.checkFeatures(batch);
    int n = batch.size();
    if (n == 0) {
      throw new IllegalArgumentException("the batch is empty");
    }
    // chunks of GROUP rows (the last one smaller, unpadded), summed in chunk order: the same sum for any thread count
    double[] sum = new double[(int) net.numParams()];
    double[] loss = {0.0};
    GroupRunner.inWaves(threads(), (n + GROUP - 1) / GROUP, (i, ws) -> {
      int from = i * GROUP;
      int to = Math.min(n, from + GROUP);
      return plan.backprop(batch, from, to, to - from, false, ws);
    }, (i, t) -> {
      double[] gi = flatGradient(t, 0);
      for (int j = 0; j < sum.length; j++) {
        sum[j] += gi[j];
      }
      loss[0] += t.loss;
    });
    lastLoss = loss[0];
    return sum;
  }

  /**
   * Whether {@link #fitStep} reproduces {@code net.fit(DataSet)} for {@code net}: a supported architecture, no
   * dropout, weight noise, regularisation, gradient normalisation or constraints on any layer.
   */
  public static boolean canTrain(MultiLayerNetwork net) {
    for (int i = 0; i < net.getnLayers(); i++) {
      Layer l = net.getLayerWiseConfigurations().getConf(i).getLayer();
      if (l.getIDropout() != null || l.getConstraints() != null && !l.getConstraints().isEmpty()) {
        return false;
      }
      if (l instanceof BaseLayer b && (b.getWeightNoise() != null || !b.getRegularization().isEmpty()
          || !b.getRegularizationBias().isEmpty() || b.getGradientNormalization() != null
          && b.getGradientNormalization() != org.deeplearning4j.nn.conf.GradientNormalization.None)) {
        return false;
      }
    }
    return forGradients(net).isPresent();
  }

  /**
   * One optimiser step on {@code batch}, as {@code net.fit(DataSet)} takes it (DL4J's updater on the gradient of
   * the mean loss, parameters minus the update, iteration count plus one), with the gradient from this class's
   * backward pass. Callers check {@link #canTrain} first.
   *
   * @return the mean loss over the batch before the step (what {@code net.score()} reports after a fit)
   */
  public static double fitStep(MultiLayerNetwork net, ExampleSet batch) {
    // a float network's step in single-precision GEMMs, as DL4J's own float arithmetic
    FastCnn fast = forFloatGradients(net).or(() -> forGradients(net))
        .orElseThrow(() -> new IllegalArgumentException("unsupported network"));
    INDArray g = fast.lossAndGradient(batch);
    net.getUpdater().update(net, new org.deeplearning4j.nn.gradient.DefaultGradient(g), net.getIterationCount(),
        net.getEpochCount(), batch.size(), org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
    net.params().subi(g.reshape(net.params().shape()));
    net.getLayerWiseConfigurations().setIterationCount(net.getIterationCount() + 1);
    return fast.lastLoss / batch.size();
  }

  /**
   * Calls {@code v} with grad log p(y_i | x_i) for every row i of {@code s}, in row order, as
   * {@link PerExampleGradients#forEach} does: each gradient is written into the network's flattened gradient view
   * ({@code [1, numParams]}, the network's data type), which the next row overwrites. Rows go through the forward
   * and backward pass in zero-padded groups of {@value #GROUP}, so a row's gradient does not depend on the other
   * rows; the per-example kernel gradients are one small GEMM per image and convolution.
   */
  public void forEachExampleGradient(ExampleSet s, PerExampleGradients.Visitor v) {
    forEachExampleGradient(s, null, v);
  }

  /**
   * As {@link #forEachExampleGradient(ExampleSet, PerExampleGradients.Visitor)}, and writes each row's
   * log p(y_i | x_i) into {@code logLik[i]} (when not null) before its gradient is visited: the log-softmax of the
   * logits in double, as {@link LogLikelihood} computes it, and to the bit the value a later scoring pass
   * ({@link #logits}) gives: the gradient's own forward pass.
   */
  public void forEachExampleGradient(ExampleSet s, double[] logLik, PerExampleGradients.Visitor v) {
    double[] flat = new double[(int) net.numParams()];
    float[] floatCopy = new float[flat.length];
    // one flat array (and one float copy) for all rows: each row's gradient overwrites the last one's
    forEachRow(s, logLik, (g0, ws) -> plan.backprop(s, g0, Math.min(s.size(), g0 + GROUP), GROUP, true, ws),
        (r, t, image) -> v.accept(r, ParameterLayout.writeGradient(net, flatGradient(t, image, -1.0, flat),
            floatCopy)));
  }

  /**
   * grad log p(y_i | x_i) . {@code direction} for every row i of {@code s} ({@code direction} in the network's
   * flattened parameter order), without forming the per-example gradients: the backward pass dots each image's
   * layer gradients with the direction's ({@link Projection}), which for a convolution is one GEMM of the shape of
   * the forward pass's instead of one small GEMM per image. The values are those of
   * {@link #forEachExampleGradient} dotted with the direction, to rounding; rows go through the pass in the same
   * zero-padded groups of {@value #GROUP}, so a row's value does not depend on the other rows. With {@code logLik}
   * not null, writes log p(y_i | x_i) into it as {@link #forEachExampleGradient} does.
   */
  public double[] gradientDots(ExampleSet s, double[] direction, double[] logLik) {
    Projection projection = Projection.of(net, ops, direction);
    double[] dots = new double[s.size()];
    forEachRow(s, logLik, (g0, ws) -> plan.backprop(s, g0, Math.min(s.size(), g0 + GROUP), GROUP, projection, ws),
        (r, t, image) -> dots[r] = -t.dots[image]); // the pass's gradient is of -log p
    return dots;
  }

  /**
   * ||grad log p(y_i | x_i)||^2 for every row i of {@code s}: the per-example gradients of
   * {@link #forEachExampleGradient}, each summed in squares layer by layer where the backward pass leaves it, without
   * copying it into the network's flattened order. With {@code logLik} not null, writes log p(y_i | x_i) into it as
   * {@link #forEachExampleGradient} does.
   */
  public double[] gradientSquaredNorms(ExampleSet s, double[] logLik) {
    double[] norms = new double[s.size()];
    forEachRow(s, logLik, (g0, ws) -> plan.backprop(s, g0, Math.min(s.size(), g0 + GROUP), GROUP, true, ws),
        (r, t, image) -> {
          double sum = 0;
          for (double[][] grads : t.paramGrads) {
            if (grads != null) {
              for (double v : grads[image]) {
                sum += v * v;
              }
            }
          }
          norms[r] = sum;
        });
    return norms;
  }

  /** The backward pass of the group of rows from {@code g0}, with a workspace no other thread uses meanwhile. */
  private interface GroupPass {
    GradientTape run(int g0, Workspace ws);
  }

  /** Takes row {@code r}'s results: image {@code image} of its group's tape {@code t}. */
  private interface RowSink {
    void accept(int r, GradientTape t, int image);
  }

  /**
   * Runs {@code pass} over the zero-padded groups of {@value #GROUP} rows of {@code s} ({@link GroupRunner}) and
   * gives each row, in row order on the calling thread, to {@code sink}, after writing its log p(y | x) into
   * {@code logLik} (when not null).
   */
  private void forEachRow(ExampleSet s, double[] logLik, GroupPass pass, RowSink sink) {
    plan.checkFeatures(s);
    if (logLik != null) {
      PerExampleGradients.requireOnePerRow(logLik, s);
    }
    GroupRunner.inWaves(threads(), (s.size() + GROUP - 1) / GROUP, (i, ws) -> pass.run(i * GROUP, ws), (i, t) -> {
      int g0 = i * GROUP;
      for (int r = g0; r < Math.min(s.size(), g0 + GROUP); r++) {
        if (logLik != null) {
          logLik[r] = t.logLik[r - g0];
        }
        sink.accept(r, t, r - g0);
      }
    });
  }

  /**
   * This instance with {@code threads} threads for groups of images (0 = {@link #defaultThreads()}). Results do not
   * depend on it: groups are fixed, independent and combined in order.
   */
  public FastCnn withThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("threads must be >= 0, got " + threads);
    }
    this.threads = threads;
    return this;
  }

  /**
   * The default thread count: ND4J's process-wide limit on outer-loop threads ({@code maxMasterThreads}), at most
   * the available cores. Spark tasks limit it to {@code spark.nd4j-task-threads} (1 by default: executors already
   * run a task per core), so groups are parallel on the driver (EWC update, training, curvature samples) and
   * sequential inside tasks.
   */
  public static int defaultThreads() {
    int env = Nd4j.getEnvironment().maxMasterThreads();
    return Math.max(1, Math.min(env, Runtime.getRuntime().availableProcessors()));
  }

  private int threads() {
    return threads > 0 ? threads : defaultThreads();
  }

  /** Image {@code image}'s parameter gradient (or the group's sum) in the network's flattened order. */
  private double[] flatGradient(GradientTape t, int image) {
    return flatGradient(t, image, 1.0, new double[(int) net.numParams()]);
  }

  /**
   * Image {@code image}'s parameter gradient (or the group's sum) times {@code scale}, in the network's flattened
   * order, into {@code flat} (every entry written) and returned.
   */
  private double[] flatGradient(GradientTape t, int image, double scale, double[] flat) {
    java.util.Arrays.fill(flat, 0.0);
    for (int i = 0; i < ops.size(); i++) {
      double[][] grads = t.paramGrads[i];
      if (grads != null) {
        double[] gi = grads[t.perExample ? image : 0];
        int[] map = maps[i];
        for (int j = 0; j < map.length; j++) {
          flat[map[j]] = scale * gi[j]; // exact for the scales used, 1 and -1
        }
      }
    }
    return flat;
  }
}
